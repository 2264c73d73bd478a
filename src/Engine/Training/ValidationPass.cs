using CharRnn.Engine.Runtime;
using CharRnn.Engine.Batching;
using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training;

/// <summary>
/// One pass over the validation data that can run a few batches at a time, so a trainer sharing
/// its device (the server generates between calls) never holds it for the whole pass: an
/// epoch's validation takes seconds for the LSTM. Mean cross-entropy (nats/char) and accuracy.
/// </summary>
internal sealed class ValidationPass : IDisposable
{
    private readonly CharModel _model;
    private readonly IBatcher _data;
    private readonly int _batches;
    private readonly Tensor _totals; // loss sum, correct count: summed on the device, read once at the end
    private RecurrentState? _state;
    private long _chars;
    private int _next;
    private readonly IBatcher? _positions; // the same batches over the text's positions: where each target is
    private readonly List<(long Position, float Loss, bool Top1)>? _each;

    /// <param name="positions">When given, the same layout batched over the text's positions (0, 1, 2, ...) instead of its ids:
    /// each scored char's own loss is then kept, with where it is (<see cref="EachChar"/>).</param>
    public ValidationPass(CharModel model, IBatcher data, Device device, IBatcher? positions = null)
    {
        _model = model;
        _data = data;
        _positions = positions;
        _each = positions == null ? null : [];
        _batches = data.BatchesPerEpoch(0);
        _totals = zeros(2, dtype: ScalarType.Float64, device: device).DetachFromDisposeScope();
    }

    public bool IsDone => _next >= _batches;

    /// <summary>Runs up to <paramref name="batches"/> more batches, in eval mode; the model is left in the mode it was in.</summary>
    public void Advance(int batches)
    {
        var wasTraining = _model.training;
        _model.eval();
        try
        {
            using var _ = no_grad();
            for (var end = (int)Math.Min(_batches, (long)_next + batches); _next < end; _next++)
            {
                using var scope = NewDisposeScope();
                var batch = _data.Get(0, _next);
                // A batch that continues only some streams reads their rows of the state (contiguous, as cuDNN wants its hx).
                var state = _state != null && batch.StateRows is { } rows ? _state.Rows(rows.Start, rows.Length).Contiguous() : _state;
                var (logits, next) = _model.Forward(batch.X, state);
                var flat = logits.reshape(-1, _model.VocabSize);
                var targets = batch.Y.reshape(-1);
                if (_positions == null)
                {
                    _totals[0].add_(nn.functional.cross_entropy(flat, targets, reduction: nn.Reduction.Sum), HeldScalars.One);
                    _totals[1].add_(flat.argmax(1).eq(targets).sum(), HeldScalars.One);
                }
                else Keep(flat, targets, _positions.Get(0, _next).Y.reshape(-1));
                _chars += batch.Characters;
                if (next != null)
                {
                    var carried = next.DetachFromDisposeScope();
                    _state?.Dispose();
                    _state = carried;
                }
            }
        }
        finally
        {
            _model.train(wasTraining); // a caller that put the model in eval mode (to generate, say) keeps it there
        }
    }

    /// <summary>Each char's loss and top-1 (the values the totals are summed from), and the position of its target.</summary>
    private void Keep(Tensor flat, Tensor targets, Tensor positions)
    {
        var losses = nn.functional.cross_entropy(flat, targets, reduction: nn.Reduction.None);
        var hits = flat.argmax(1).eq(targets);
        _totals[0].add_(losses.sum(), HeldScalars.One);
        _totals[1].add_(hits.sum(), HeldScalars.One);
        var loss = HostCopy.Floats(losses);
        var top1 = HostCopy.Floats(hits.to(ScalarType.Float32));
        using var where = positions.cpu();
        var at = where.data<long>().ToArray();
        for (var i = 0; i < at.Length; i++) _each!.Add((at[i], loss[i], top1[i] > 0.5f));
    }

    /// <summary>The finished pass's per-char scores in text order (null unless positions were given).</summary>
    public IReadOnlyList<(long Position, float Loss, bool Top1)>? EachChar() =>
        _each?.OrderBy(e => e.Position).ToList();

    public (double Loss, double Accuracy) Result()
    {
        var score = Score();
        return (score.LossSum / score.Characters, (double)score.Correct / score.Characters);
    }

    /// <summary>The finished pass's totals: the loss summed over the chars scored, how many, and how many were the argmax.</summary>
    public TextScore Score()
    {
        if (!IsDone) throw new InvalidOperationException("The validation pass is not finished.");
        using var host = _totals.cpu();
        var values = host.data<double>().ToArray();
        return new TextScore(values[0], _chars, (long)values[1]);
    }

    public void Dispose()
    {
        _state?.Dispose();
        _state = null;
        _totals.Dispose();
    }
}
