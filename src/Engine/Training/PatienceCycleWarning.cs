using System.Globalization;

namespace CharRnn.Engine.Training;

/// <summary>
/// Says before training starts when the patience is shorter than an SGDR cycle that follows a restart: the restart
/// raises the validation loss for a while, so early stopping may end the run inside that cycle, before the annealed
/// low at its end that SGDR is chosen for. A warning, not a refusal: the user may mean it (docs/cli.md, train).
/// </summary>
public static class PatienceCycleWarning
{
    /// <summary>
    /// The warning for <paramref name="patience"/> epochs on a run of <paramref name="epochs"/> under <paramref name="scheduleText"/>,
    /// or null.
    /// </summary>
    /// <exception cref="ArgumentException">The schedule cannot be read.</exception>
    public static TrainingWarning? For(string? scheduleText, int epochs, int patience)
    {
        if (patience <= 0) return null;
        var ends = LearningRateSchedule.Parse(scheduleText).CycleEndsThrough(epochs);
        // A cycle after an earlier one's end starts with a restart; its epochs up to the run's end are the ones that
        // may pass without beating that end's loss. The first cycle follows no low, so it cannot trip the count.
        var cycles = ends.Zip(ends.Skip(1), (end, next) => (First: end + 1, Last: Math.Min(next, epochs)))
            .Where(c => c.First <= epochs).ToList();
        if (cycles.Count == 0) return null;
        var longest = cycles.MaxBy(c => c.Last - c.First);
        var length = longest.Last - longest.First + 1;
        if (patience >= length) return null;
        return TrainingWarning.Of($"{Patience(patience)} is shorter than the SGDR cycle of epochs {longest.First} to {longest.Last} ({length} epochs): " +
               $"a restart raises the validation loss for a while, so the run may stop early inside it, before its end's annealed low; " +
               $"{Patience(length)} or more lets every cycle of the run end (0: off).");
    }

    private static WarningPart Patience(int epochs) => WarningPart.Of(TrainingSetting.Patience, epochs.ToString(CultureInfo.InvariantCulture));
}
