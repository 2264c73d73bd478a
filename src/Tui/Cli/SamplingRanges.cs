using CharRnn.Engine.Sampling;

namespace CharRnn.Tui.Cli;

/// <summary>
/// What each sampling setting allows, declared once for charrnn generate's flags (-t, --top-k, --top-p, --min-p) and the
/// REPL's keys (t, k, p, min_p), so both refuse a value naming the same range.
/// </summary>
public static class SamplingRanges
{
    /// <summary>0 (greedy) to <paramref name="max"/>: the engine's own, or the server's where it says one.</summary>
    public static AllowedNumbers Temperature(double max = SamplingSettings.MaxTemperature) =>
        new($"0 (greedy) to {max.ToString(System.Globalization.CultureInfo.InvariantCulture)}", v => v >= 0 && v <= max);

    /// <summary>Any k at or above the model's vocabulary keeps every char, as 0 does; the bound is what a top_k holds (int32).</summary>
    public static readonly AllowedNumbers TopK = new($"0 (off) or a number of characters up to {int.MaxValue} (one at or above the model's vocabulary size keeps them all, as 0 does)", v => v >= 0 && v <= int.MaxValue);

    public static readonly AllowedNumbers TopP = new("a number above 0 and at most 1 (1: off)", v => v > 0 && v <= 1);

    public static readonly AllowedNumbers MinP = new("a number from 0 (off) up to, not including, 1", v => v >= 0 && v < 1);
}
