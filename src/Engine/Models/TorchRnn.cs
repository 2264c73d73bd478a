using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Engine.Models;

/// <summary>The lesson's CharRnn: PyTorch's nn.RNN over a window of n characters, predicting from the last output.</summary>
public sealed class TorchRnn : WindowedCharModel
{
    private readonly Embedding e;
    private readonly RNN rnn;
    private readonly Linear l_out;
    private readonly int _hidden;

    public TorchRnn(int vocabSize, int nFac, int nHidden, int context) : base("rnn", vocabSize, context)
    {
        _hidden = nHidden;
        e = Embedding(vocabSize, nFac);
        rnn = RNN(nFac, nHidden);
        l_out = Linear(nHidden, vocabSize);
        RegisterComponents();
    }

    protected override Tensor Predict(Tensor x)
    {
        var h0 = zeros(1, x.shape[0], _hidden, device: x.device);
        var (output, _) = rnn.forward(e.forward(x.t()), h0);
        return l_out.forward(output[Context - 1]);
    }
}
