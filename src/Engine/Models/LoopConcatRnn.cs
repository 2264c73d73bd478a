using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Engine.Models;

/// <summary>The lesson's CharLoopConcatModel: the input is concatenated to the hidden state instead of added.</summary>
public sealed class LoopConcatRnn : WindowedCharModel
{
    private readonly Embedding e;
    private readonly Linear l_in, l_hidden, l_out;

    public LoopConcatRnn(int vocabSize, int nFac, int nHidden, int context) : base("loop-concat", vocabSize, context)
    {
        e = Embedding(vocabSize, nFac);
        l_in = Linear(nFac + nHidden, nHidden);
        l_hidden = Linear(nHidden, nHidden);
        l_out = Linear(nHidden, vocabSize);
        RegisterComponents();
    }

    protected override Tensor Predict(Tensor x)
    {
        var h = zeros(x.shape[0], l_hidden.in_features, device: x.device);
        for (int i = 0; i < Context; i++)
        {
            var input = cat([h, e.forward(x[.., i])], 1);
            input = functional.relu(l_in.forward(input));
            h = tanh(l_hidden.forward(input));
        }
        return l_out.forward(h);
    }
}
