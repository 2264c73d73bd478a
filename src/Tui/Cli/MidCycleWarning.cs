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

    public static string? For(TrainingOptions options)
    {
        var schedule = LearningRateSchedule.Parse(options.Schedule);
        // Asked of the epoch that runs last: after an SGDR phase, a constant one has no cycle to stop in.
        if (schedule.MidCycleFactor(options.Epochs) is not { } factor) return null;
        var ends = schedule.CycleEndsThrough(options.Epochs);
        if (ends.Count == 0) return null; // its cycles end only between epochs: no --epochs would end one
        const int shown = 8; // a long run of short cycles: its last ones are those that matter here
        var listed = (ends.Count > shown ? "…, " : "") + string.Join(", ", ends.TakeLast(shown));
        var before = ends.LastOrDefault(e => e < options.Epochs);
        var after = ends[^1] > options.Epochs ? ends[^1] : (int?)null;
        var choices = string.Join(" or ", new int?[] { before > 0 ? before : null, after }.OfType<int>());
        var peak = (factor * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";
        return $"cycles end after epochs {listed}; --epochs {options.Epochs} stops mid-cycle, the rate still at {peak} of its peak" +
               (choices.Length > 0 ? $" (--epochs {choices} ends at a cycle's end)." : ".");
    }
}
