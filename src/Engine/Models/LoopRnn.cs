using CharRnn.Engine.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Engine.Models;

/// <summary>The lesson's CharLoopModel: char3 as a loop over n characters, each input added to the hidden state.</summary>
public sealed class LoopRnn : WindowedCharModel
{
    private readonly Embedding e;
    private readonly Linear l_in, l_hidden, l_out;

    public LoopRnn(int vocabSize, int nFac, int nHidden, int context) : base("loop", vocabSize, context)
    {
        e = Embedding(vocabSize, nFac);
        l_in = Linear(nFac, nHidden);
        l_hidden = Linear(nHidden, nHidden);
        l_out = Linear(nHidden, vocabSize);
        RegisterComponents();
    }

    protected override Tensor Predict(Tensor x)
    {
        var h = zeros(x.shape[0], l_hidden.in_features, device: x.device);
        for (int i = 0; i < Context; i++)
        {
            var input = functional.relu(l_in.forward(e.forward(x[.., i])));
            h = tanh(l_hidden.forward(h.add(input, HeldScalars.One))); // not h + input: see HeldScalars
        }
        return l_out.forward(h);
    }
}
