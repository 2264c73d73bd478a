using CharRnn.Engine.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Engine.Models;

/// <summary>
/// The lesson's CharSeqStatefulRnn2: the recurrence written by hand from an RNN cell,
/// h' = tanh(W_ih x + b_ih + W_hh h + b_hh), computing exactly what nn.RNN computes. The input
/// projection of all T steps is one matrix product; only the hidden part runs step by step.
/// </summary>
public sealed class StatefulRnnCell : StatefulCharModel
{
    private readonly Embedding e;
    private readonly Parameter weight_ih, weight_hh, bias_ih, bias_hh;
    private readonly Linear l_out;

    public StatefulRnnCell(int vocabSize, int nFac, int nHidden) : base("stateful-rnn-cell", vocabSize, nHidden, layers: 1, stateParts: 1)
    {
        e = Embedding(vocabSize, nFac);
        (weight_ih, weight_hh, bias_ih, bias_hh) = RecurrentCellWeights.Create(nFac, nHidden, gates: 1);
        l_out = Linear(nHidden, vocabSize);
        RegisterComponents();
    }

    /// <summary>The cell's weights, named as nn.RNN names them (weight_ih_l0, ...).</summary>
    public RecurrentCellWeights Weights => new(weight_ih, weight_hh, bias_ih, bias_hh);

    protected override (Tensor Logits, RecurrentState State) Run(Tensor x, RecurrentState state)
    {
        var inputs = functional.linear(e.forward(x), weight_ih, bias_ih);
        var h = state.Parts[0][0];
        var outputs = new Tensor[x.shape[0]];
        for (long t = 0; t < outputs.Length; t++)
        {
            h = tanh(inputs[t].add(functional.linear(h, weight_hh, bias_hh), HeldScalars.One)); // not +: see HeldScalars
            outputs[t] = h;
        }
        return (l_out.forward(stack(outputs)), new RecurrentState([h.unsqueeze(0)], batchDim: 1));
    }
}
