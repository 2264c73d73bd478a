using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Engine.Models;

/// <summary>
/// The lesson's CharSeqStatefulLSTM: nn.LSTM with n layers and dropout between them, dropout on
/// its output, and a linear layer to the vocabulary. State: (h, c).
/// </summary>
public sealed class StatefulLstm : StatefulCharModel
{
    private readonly Embedding e;
    private readonly LSTM rnn;
    private readonly Dropout drop;
    private readonly Linear l_out;

    public StatefulLstm(int vocabSize, int nFac, int nHidden, int layers, double dropout)
        : base("stateful-lstm", vocabSize, nHidden, layers, stateParts: 2)
    {
        e = Embedding(vocabSize, nFac);
        // nn.LSTM's dropout acts between layers only; with one layer it would just warn.
        rnn = LSTM(nFac, nHidden, layers, dropout: layers > 1 ? dropout : 0.0);
        drop = Dropout(dropout);
        l_out = Linear(nHidden, vocabSize);
        RegisterComponents();
    }

    protected override (Tensor Logits, RecurrentState State) Run(Tensor x, RecurrentState state)
    {
        var (output, h, c) = rnn.forward(e.forward(x), (state.Parts[0], state.Parts[1]));
        return (l_out.forward(drop.forward(output)), new RecurrentState([h, c], batchDim: 1));
    }
}
