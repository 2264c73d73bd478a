using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Models;

/// <summary>
/// Recurrent models that read the text as a stream (x: [T, batch]) and carry their hidden
/// state from batch to batch and from character to character: O(1) work per generated char.
/// </summary>
public abstract class StatefulCharModel : CharModel
{
    protected StatefulCharModel(string name, int vocabSize, int hiddenSize, int layers, int stateParts)
        : base(name, vocabSize)
    {
        HiddenSize = hiddenSize;
        Layers = layers;
        StateParts = stateParts;
    }

    public int HiddenSize { get; }
    public int Layers { get; }
    /// <summary>1 for RNN and GRU (h), 2 for LSTM (h, c).</summary>
    public int StateParts { get; }

    public override RecurrentState InitialState(long batchSize) =>
        new(Enumerable.Range(0, StateParts).Select(_ => zeros(Layers, batchSize, HiddenSize, device: ParameterDevice)).ToArray(), batchDim: 1);

    /// <summary>x [T, batch] with the state before step 1 → logits [T, batch, V] and the state after step T.</summary>
    protected abstract (Tensor Logits, RecurrentState State) Run(Tensor x, RecurrentState state);

    public override (Tensor Logits, RecurrentState? State) Forward(Tensor x, RecurrentState? state)
    {
        var (logits, next) = Run(x, state ?? InitialState(x.shape[1]));
        return (logits, next);
    }

    public override (Tensor Logits, RecurrentState State) Step(Tensor ids, RecurrentState state)
    {
        var (logits, next) = Run(ids.reshape(1, -1), state);
        return (logits[0], next);
    }

    public override (Tensor Logits, RecurrentState State) FeedEach(Tensor ids, RecurrentState state) => Run(ids, state);
}
