using System.Globalization;
using CharRnn.Engine.Checkpoints;

namespace CharRnn.Engine.Training;

/// <summary>
/// Early stopping on the validation loss, as Keras's EarlyStopping: a run stops once its validation
/// loss has not improved on its best for <c>patience</c> epochs in a row, where an epoch improves only
/// if its loss is below the best less <c>min_delta</c> (Keras's min_delta; 0: any drop counts). The count is
/// read from the run's epoch history, which every checkpoint carries, so a resumed run continues it
/// (from a checkpoint made before this option too). It counts every epoch alike: an SGDR restart
/// raises the loss for an epoch or more, so a run with restarts wants a patience longer than a cycle.
/// </summary>
public static class EarlyStopping
{
    /// <summary>The longest patience, in epochs (0 is off).</summary>
    public const int MaxPatience = 1000;
    /// <summary>The largest min_delta, in nats/char (a character-level loss falls by far less than that an epoch once it has learned anything).</summary>
    public const double MaxMinDelta = 1;

    /// <summary>
    /// Why the run should stop after its latest epoch, or null to go on: the best epoch is <paramref name="patience"/>
    /// or more epochs back. The best is the first epoch, then each later one whose loss is below the best's less
    /// <paramref name="minDelta"/>, as Keras keeps it: a drop of less than that neither counts nor moves the best.
    /// </summary>
    public static string? Reason(int patience, double minDelta, IReadOnlyList<EpochRecord> history)
    {
        if (patience <= 0 || history.Count == 0) return null;
        var best = history[0];
        foreach (var record in history)
            if (record.ValidLoss < best.ValidLoss - minDelta) best = record;
        var since = history[^1].Epoch - best.Epoch;
        if (since < patience) return null;
        var by = minDelta > 0 ? string.Create(CultureInfo.InvariantCulture, $" by more than {minDelta}") : "";
        var delta = minDelta > 0 ? string.Create(CultureInfo.InvariantCulture, $", min_delta = {minDelta}") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"stopped early: validation loss has not improved on {best.ValidLoss:F4} (epoch {best.Epoch}){by} for {since} epoch{(since == 1 ? "" : "s")} (patience = {patience}{delta})");
    }
}
