using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Models;

/// <summary>
/// Models that read a fixed window of the last n characters (the lesson's char3, loop RNNs and
/// nn.RNN over 8 chars). Their generation state is that window, filled at the start (see
/// <see cref="StartWindow"/>); generating slides it by one character per step.
/// </summary>
public abstract class WindowedCharModel : CharModel
{
    protected WindowedCharModel(string name, int vocabSize, int context) : base(name, vocabSize)
    {
        Context = context;
    }

    /// <summary>The window length n.</summary>
    public int Context { get; }

    /// <summary>x [batch, n] → logits [batch, V] (next-char layouts) or [batch, n, V] (sequence layout).</summary>
    protected abstract Tensor Predict(Tensor x);

    public override (Tensor Logits, RecurrentState? State) Forward(Tensor x, RecurrentState? state) => (Predict(x), null);

    public override RecurrentState InitialState(long batchSize) => StartWindow(batchSize, 0);

    /// <summary>A window of <paramref name="fillerId"/> only: the state before any text, for generation.</summary>
    public RecurrentState StartWindow(long batchSize, int fillerId)
    {
        var window = zeros(batchSize, Context, dtype: ScalarType.Int64, device: ParameterDevice);
        using var filler = fillerId.ToScalar(); // held through the call (HeldScalars says why)
        window.fill_(filler);
        return new([window], batchDim: 0);
    }

    public override (Tensor Logits, RecurrentState State) Step(Tensor ids, RecurrentState state)
    {
        var window = cat([state.Parts[0].narrow(1, 1, Context - 1), ids.reshape(-1, 1)], 1);
        var logits = Predict(window);
        if (logits.dim() == 3) logits = logits.select(1, Context - 1);
        return (logits, new RecurrentState([window], batchDim: 0));
    }
}
