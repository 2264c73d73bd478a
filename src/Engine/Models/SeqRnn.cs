using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Engine.Models;

/// <summary>
/// The lesson's CharSeqRnn (multi-output): nn.RNN over n characters predicting the next char at
/// every position, so each window trains n predictions. Optional identity init of the
/// hidden-to-hidden weights (the lesson's "eye" trick, after Le et al. 2015).
/// </summary>
public sealed class SeqRnn : WindowedCharModel
{
    private readonly Embedding e;
    private readonly RNN rnn;
    private readonly Linear l_out;
    private readonly int _hidden;

    public SeqRnn(int vocabSize, int nFac, int nHidden, int context, bool identityInit) : base("seq-rnn", vocabSize, context)
    {
        _hidden = nHidden;
        e = Embedding(vocabSize, nFac);
        rnn = RNN(nFac, nHidden);
        l_out = Linear(nHidden, vocabSize);
        RegisterComponents();
        if (identityInit)
        {
            using var _ = no_grad();
            HiddenToHidden.copy_(eye(nHidden));
        }
    }

    /// <summary>nn.RNN's weight_hh_l0.</summary>
    public Tensor HiddenToHidden => rnn.get_parameter("weight_hh_l0") ?? throw new InvalidOperationException("nn.RNN has no weight_hh_l0.");

    protected override Tensor Predict(Tensor x)
    {
        var h0 = zeros(1, x.shape[0], _hidden, device: x.device);
        var (output, _) = rnn.forward(e.forward(x.t()), h0);
        return l_out.forward(output).transpose(0, 1); // [batch, n, V]
    }
}
