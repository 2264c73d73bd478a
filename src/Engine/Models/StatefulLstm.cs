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

    private (Tensor WeightIh, Tensor WeightHh, Tensor BiasIh, Tensor BiasHh)[]? _layerWeights;

    /// <summary>nn.LSTM's weights per layer, fetched once per device (moving the module replaces them).</summary>
    private (Tensor WeightIh, Tensor WeightHh, Tensor BiasIh, Tensor BiasHh)[] LayerWeights()
    {
        if (_layerWeights == null || _layerWeights[0].WeightIh.device != e.weight!.device)
        {
            Tensor Weight(string name) => (rnn.get_parameter(name) ?? throw new InvalidOperationException($"nn.LSTM has no {name}.")).DetachFromDisposeScope();
            _layerWeights = Enumerable.Range(0, Layers)
                .Select(l => (Weight($"weight_ih_l{l}"), Weight($"weight_hh_l{l}"), Weight($"bias_ih_l{l}"), Weight($"bias_hh_l{l}")))
                .ToArray();
        }
        return _layerWeights;
    }

    /// <summary>
    /// One character for a batch of sessions. nn.LSTM pays a fixed set-up cost per call that
    /// dominates a single time step (~3 ms for 512×2 on two cores), so in eval mode the step is
    /// computed here from the same weights: two matrix products and the gate arithmetic per layer,
    /// exactly nn.LSTM's equations (gate order i, f, g, o).
    /// </summary>
    public override (Tensor Logits, RecurrentState State) Step(Tensor ids, RecurrentState state)
    {
        if (training) return base.Step(ids, state);
        var weights = LayerWeights();
        var x = e.forward(ids.reshape(-1));
        var h = new Tensor[Layers];
        var c = new Tensor[Layers];
        for (int layer = 0; layer < Layers; layer++)
        {
            var (weightIh, weightHh, biasIh, biasHh) = weights[layer];
            var gates = functional.linear(x, weightIh, biasIh).add_(functional.linear(state.Parts[0][layer], weightHh, biasHh)).chunk(4, 1);
            var cell = sigmoid(gates[1]).mul_(state.Parts[1][layer]).add_(sigmoid(gates[0]).mul_(tanh(gates[2])));
            h[layer] = sigmoid(gates[3]).mul_(tanh(cell));
            c[layer] = cell;
            x = h[layer];
        }
        return (l_out.forward(x), new RecurrentState([stack(h), stack(c)], batchDim: 1));
    }

    protected override (Tensor Logits, RecurrentState State) Run(Tensor x, RecurrentState state)
    {
        var (output, h, c) = rnn.forward(e.forward(x), (state.Parts[0], state.Parts[1]));
        return (l_out.forward(drop.forward(output)), new RecurrentState([h, c], batchDim: 1));
    }
}
