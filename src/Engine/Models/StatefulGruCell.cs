using CharRnn.Engine.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Engine.Models;

/// <summary>
/// The lesson's hand-written GRU cell, computing exactly what nn.GRU computes:
///   r = σ(W_ir x + b_ir + W_hr h + b_hr)          reset gate
///   z = σ(W_iz x + b_iz + W_hz h + b_hz)          update gate
///   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))  candidate
///   h' = n + z ⊙ (h − n)                           = (1 − z) ⊙ n + z ⊙ h
/// Weights are stacked [r; z; n] as in nn.GRU, so they can be copied from one.
/// </summary>
public sealed class StatefulGruCell : StatefulCharModel
{
    private readonly Embedding e;
    private readonly Parameter weight_ih, weight_hh, bias_ih, bias_hh;
    private readonly Linear l_out;

    public StatefulGruCell(int vocabSize, int nFac, int nHidden) : base("stateful-gru-cell", vocabSize, nHidden, layers: 1, stateParts: 1)
    {
        e = Embedding(vocabSize, nFac);
        (weight_ih, weight_hh, bias_ih, bias_hh) = RecurrentCellWeights.Create(nFac, nHidden, gates: 3);
        l_out = Linear(nHidden, vocabSize);
        RegisterComponents();
    }

    /// <summary>The cell's weights, named as nn.GRU names them (weight_ih_l0, ...).</summary>
    public RecurrentCellWeights Weights => new(weight_ih, weight_hh, bias_ih, bias_hh);

    protected override (Tensor Logits, RecurrentState State) Run(Tensor x, RecurrentState state)
    {
        var inputs = functional.linear(e.forward(x), weight_ih, bias_ih).chunk(3, -1);
        var h = state.Parts[0][0];
        var outputs = new Tensor[x.shape[0]];
        for (long t = 0; t < outputs.Length; t++)
        {
            var hidden = functional.linear(h, weight_hh, bias_hh).chunk(3, -1);
            // add with a held alpha, not +: see HeldScalars (sub and * take no Scalar)
            var reset = sigmoid(inputs[0][t].add(hidden[0], HeldScalars.One));
            var update = sigmoid(inputs[1][t].add(hidden[1], HeldScalars.One));
            var candidate = tanh(inputs[2][t].add(reset * hidden[2], HeldScalars.One));
            h = candidate.add(update * h.sub(candidate), HeldScalars.One);
            outputs[t] = h;
        }
        return (l_out.forward(stack(outputs)), new RecurrentState([h.unsqueeze(0)], batchDim: 1));
    }
}
