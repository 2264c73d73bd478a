using CharRnn.Engine.Batching;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training;

/// <summary>
/// A stream batch's step cut along time. The forward pieces run consecutive segments of the
/// bptt window, each keeping its graph; the backward pieces then run from the last segment to
/// the first, each adding to its loss the gradient that the segment after it left on the state
/// it started from. That is back-propagation through the whole window, as one call does it, up
/// to float rounding. Every piece runs on all rows, so the pieces together cost about what the
/// whole step costs, where pieces of rows each pay the model's per-operation overhead again
/// (a GRU step in 8 pieces of rows cost 3.6× the step).
/// </summary>
internal sealed class TimeSplitStep(int segments) : ISplitStep
{
    /// <summary>A segment's weighted loss and the states it started from (a leaf that collects its gradient) and ended at, with their graph.</summary>
    private sealed record Segment(Tensor Objective, RecurrentState? From, RecurrentState End);

    private readonly List<Segment> _segments = [];
    private int _backwardDone;

    /// <summary>
    /// Segments for a step asked to run in about <paramref name="pieces"/> calls: 2 calls per segment,
    /// and a segment's backward takes about twice its forward, so ⌈2p/3⌉ segments keep the longest
    /// call near 1/p of the step.
    /// </summary>
    public static int SegmentsFor(int pieces) => Math.Max(1, (2 * pieces + 2) / 3);

    public bool Started => _segments.Count > 0;

    public bool RunPiece(CharModel model, Batch batch, RecurrentState? hidden, Tensor lossSum)
    {
        var count = (int)Math.Min(segments, batch.X.shape[0]);
        if (_segments.Count < count)
        {
            Forward(model, batch, hidden, lossSum, _segments.Count, count);
            return false;
        }
        Backward(count - 1 - _backwardDone);
        return ++_backwardDone == count;
    }

    private void Forward(CharModel model, Batch batch, RecurrentState? hidden, Tensor lossSum, int k, int count)
    {
        var steps = batch.X.shape[0];
        long start = steps * k / count, length = steps * (k + 1) / count - start;
        var y = batch.Y.narrow(0, start, length);
        RecurrentState? from = null;
        if (k > 0)
        {
            from = _segments[k - 1].End.Detach().DetachFromDisposeScope();
            foreach (var part in from.Parts) part.requires_grad_(true);
        }
        var (logits, end) = model.Forward(batch.X.narrow(0, start, length), from ?? hidden);
        var loss = nn.functional.cross_entropy(logits.reshape(-1, model.VocabSize), y.reshape(-1));
        using (TorchSharp.Scalar chars = y.numel()) lossSum.add_(loss.detach(), chars); // held through the call: see HeldScalars
        Tensor objective;
        using (TorchSharp.Scalar share = (double)y.numel() / batch.Characters) objective = loss.mul(share).DetachFromDisposeScope(); // not *: see HeldScalars
        _segments.Add(new Segment(objective, from, end!.DetachFromDisposeScope()));
    }

    private void Backward(int k)
    {
        var segment = _segments[k];
        var objective = segment.Objective;
        if (k + 1 < _segments.Count)
        {
            // d(later losses)/d(this segment's end state), collected on the next segment's leaf.
            var next = _segments[k + 1].From!;
            for (int i = 0; i < next.Parts.Length; i++)
                if (next.Parts[i].grad is { } grad)
                    objective = objective.add((segment.End.Parts[i] * grad).sum(), HeldScalars.One); // not +: see HeldScalars
        }
        objective.backward();
    }

    public RecurrentState? TakeState() => _segments.Count == 0 ? null : _segments[^1].End.Detach().DetachFromDisposeScope();

    public void Dispose()
    {
        foreach (var segment in _segments)
        {
            segment.Objective.Dispose();
            segment.From?.Dispose();
            segment.End.Dispose();
        }
        _segments.Clear();
    }
}
