using CharRnn.Engine.Batching;
using CharRnn.Engine.Models;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training;

/// <summary>
/// A batch of windows cut into pieces of its rows; in one piece, any batch's whole step. Each
/// piece runs forward and backward on its own rows, and its loss counts by its share of the
/// batch's characters, so the gradient is the whole batch's up to float rounding (dropout masks
/// are drawn per piece). Every piece runs every operation of the model: n pieces pay the
/// per-operation overhead n times, which windowed models, whose steps are short, can afford;
/// stream models are cut in time instead (<see cref="TimeSplitStep"/>).
/// </summary>
internal sealed class RowSplitStep(int pieces) : ISplitStep
{
    private RecurrentState? _state;
    private int _done;

    public bool Started => _done > 0;

    public bool RunPiece(CharModel model, Batch batch, RecurrentState? hidden, Tensor lossSum)
    {
        var rows = batch.X.shape[0];
        var count = (int)Math.Min(pieces, rows); // stream models come here whole only (ISplitStep.For)
        Tensor x = batch.X, y = batch.Y;
        if (count > 1)
        {
            long start = rows * _done / count, length = rows * (_done + 1) / count - start;
            x = x.narrow(0, start, length);
            y = y.narrow(0, start, length);
        }
        var (logits, state) = model.Forward(x, hidden);
        var loss = nn.functional.cross_entropy(logits.reshape(-1, model.VocabSize), y.reshape(-1));
        if (count > 1)
        {
            using TorchSharp.Scalar share = (double)y.numel() / batch.Characters; // held through the call: see HeldScalars
            loss.mul(share).backward();
        }
        else loss.backward();
        using (TorchSharp.Scalar chars = y.numel()) lossSum.add_(loss.detach(), chars); // held through the call: see HeldScalars
        if (state != null) _state = state.Detach().DetachFromDisposeScope(); // stream models: their one piece's state
        return ++_done >= count;
    }

    public RecurrentState? TakeState()
    {
        var carried = _state;
        _state = null;
        return carried;
    }

    public void Dispose()
    {
        _state?.Dispose();
        _state = null;
    }
}
