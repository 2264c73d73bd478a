using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Engine.Models;

/// <summary>The lesson's CharSeqStatefulGRU: nn.GRU over the text stream.</summary>
public sealed class StatefulGru : StatefulCharModel
{
    private readonly Embedding e;
    private readonly GRU rnn;
    private readonly Linear l_out;

    public StatefulGru(int vocabSize, int nFac, int nHidden) : base("stateful-gru", vocabSize, nHidden, layers: 1, stateParts: 1)
    {
        e = Embedding(vocabSize, nFac);
        rnn = GRU(nFac, nHidden);
        l_out = Linear(nHidden, vocabSize);
        RegisterComponents();
    }

    protected override (Tensor Logits, RecurrentState State) Run(Tensor x, RecurrentState state)
    {
        var (output, h) = rnn.forward(e.forward(x), state.Parts[0]);
        return (l_out.forward(output), new RecurrentState([h], batchDim: 1));
    }
}
