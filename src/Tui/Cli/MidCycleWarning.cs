using System.Globalization;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// Says before training starts when --epochs stops an SGDR cycle midway: its rate is then still high
/// (--epochs 10 under sgdr:cycle_len=1,cycle_mult=2 ends at 69% of the peak), and the weights are not
/// the cycle's annealed low a user chose SGDR for. A warning, not a refusal: a short try-out may mean it.
/// </summary>
internal static class MidCycleWarning
{
    public static void WriteIfAny(TrainingOptions options, TextWriter to)
    {
        if (For(options) is { } warning) to.WriteLine("charrnn: warning: " + warning);
    }

    public static string? For(TrainingOptions options) => For(options.Schedule, options.Epochs, "--epochs ");

    /// <summary>
    /// The warning for a run of <paramref name="epochs"/> under <paramref name="scheduleText"/>, or null; the epochs
    /// named as the caller sets them (<paramref name="epochsSetting"/>: "--epochs " on the command line, "epochs=" in the REPL).
    /// </summary>
    public static string? For(string? scheduleText, int epochs, string epochsSetting)
    {
        var schedule = LearningRateSchedule.Parse(scheduleText);
        // Asked of the epoch that runs last: after an SGDR phase, a constant one has no cycle to stop in.
        if (schedule.MidCycleFactor(epochs) is not { } factor) return null;
        var ends = schedule.CycleEndsThrough(epochs);
        if (ends.Count == 0) return null; // its cycles end only between epochs: no --epochs would end one
        const int shown = 8; // a long run of short cycles: its last ones are those that matter here
        var listed = (ends.Count > shown ? "…, " : "") + string.Join(", ", ends.TakeLast(shown));
        var before = ends.LastOrDefault(e => e < epochs);
        var after = ends[^1] > epochs ? ends[^1] : (int?)null;
        var choices = string.Join(" or ", new int?[] { before > 0 ? before : null, after }.OfType<int>());
        var peak = (factor * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";
        return $"cycles end after epochs {listed}; {epochsSetting}{epochs} stops mid-cycle, the rate still at {peak} of its peak" +
               (choices.Length > 0 ? $" ({epochsSetting}{choices} ends at a cycle's end)." : ".");
    }
}
