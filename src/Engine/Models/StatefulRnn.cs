using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Engine.Models;

/// <summary>The lesson's CharSeqStatefulRnn: nn.RNN over the text stream, hidden state kept between batches.</summary>
public sealed class StatefulRnn : StatefulCharModel
{
    private readonly Embedding e;
    private readonly RNN rnn;
    private readonly Linear l_out;

    public StatefulRnn(int vocabSize, int nFac, int nHidden) : base("stateful-rnn", vocabSize, nHidden, layers: 1, stateParts: 1)
    {
        e = Embedding(vocabSize, nFac);
        rnn = RNN(nFac, nHidden);
        l_out = Linear(nHidden, vocabSize);
        RegisterComponents();
    }

    protected override (Tensor Logits, RecurrentState State) Run(Tensor x, RecurrentState state)
    {
        var (output, h) = rnn.forward(e.forward(x), state.Parts[0]);
        return (l_out.forward(output), new RecurrentState([h], batchDim: 1));
    }
}
