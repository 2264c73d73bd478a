using System.Globalization;
using CharRnn.Engine.Checkpoints;

namespace CharRnn.Engine.Training;

/// <summary>
/// Early stopping on the validation loss, as Keras's EarlyStopping (min_delta 0): a run stops once
/// its validation loss has not improved on its best for <c>patience</c> epochs in a row. The count is
/// read from the run's epoch history, which every checkpoint carries, so a resumed run continues it
/// (from a checkpoint made before this option too). It counts every epoch alike: an SGDR restart
/// raises the loss for an epoch or more, so a run with restarts wants a patience longer than a cycle.
/// </summary>
public static class EarlyStopping
{
    /// <summary>The longest patience, in epochs (0 is off).</summary>
    public const int MaxPatience = 1000;

    /// <summary>
    /// Why the run should stop after its latest epoch, or null to go on: the best epoch (the first
    /// with the lowest validation loss) is <paramref name="patience"/> or more epochs back.
    /// </summary>
    public static string? Reason(int patience, IReadOnlyList<EpochRecord> history)
    {
        if (patience <= 0 || history.Count == 0) return null;
        var best = history[0];
        foreach (var record in history)
            if (record.ValidLoss < best.ValidLoss) best = record;
        var since = history[^1].Epoch - best.Epoch;
        if (since < patience) return null;
        return string.Create(CultureInfo.InvariantCulture,
            $"stopped early: validation loss has not improved on {best.ValidLoss:F4} (epoch {best.Epoch}) for {since} epoch{(since == 1 ? "" : "s")} (patience {patience})");
    }
}
