using System.Globalization;

namespace CharRnn.Engine.Training;

/// <summary>
/// Says before training starts when the epochs stop an SGDR cycle midway: its rate is then still high
/// (10 epochs under sgdr:cycle_len=1,cycle_mult=2 end at 69% of the peak), and the weights are not
/// the cycle's annealed low a user chose SGDR for. A warning, not a refusal: a short try-out may mean it.
/// </summary>
public static class MidCycleWarning
{
    /// <summary>The warning for a run of <paramref name="epochs"/> under <paramref name="scheduleText"/>, or null.</summary>
    /// <exception cref="ArgumentException">The schedule cannot be read.</exception>
    public static TrainingWarning? For(string? scheduleText, int epochs)
    {
        var schedule = LearningRateSchedule.Parse(scheduleText);
        // Asked of the epoch that runs last: after an SGDR phase, a constant one has no cycle to stop in.
        if (schedule.MidCycleFactor(epochs) is not { } factor) return null;
        var ends = schedule.CycleEndsThrough(epochs);
        if (ends.Count == 0) return null; // its cycles end only between epochs: no epochs setting would end one
        const int shown = 8; // a long run of short cycles: its last ones are those that matter here
        var listed = (ends.Count > shown ? "…, " : "") + string.Join(", ", ends.TakeLast(shown));
        var before = ends.LastOrDefault(e => e < epochs);
        var after = ends[^1] > epochs ? ends[^1] : (int?)null;
        var choices = string.Join(" or ", new int?[] { before > 0 ? before : null, after }.OfType<int>());
        var peak = (factor * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";
        var run = WarningPart.Of(TrainingSetting.Epochs, epochs.ToString(CultureInfo.InvariantCulture));
        return choices.Length > 0
            ? TrainingWarning.Of($"cycles end after epochs {listed}; {run} stops mid-cycle, the rate still at {peak} of its peak ({WarningPart.Of(TrainingSetting.Epochs, choices)} ends at a cycle's end).")
            : TrainingWarning.Of($"cycles end after epochs {listed}; {run} stops mid-cycle, the rate still at {peak} of its peak.");
    }
}
