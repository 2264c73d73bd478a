namespace CharRnn.Tui.Cli;

/// <summary>
/// What a number setting allows: its test for a value, and its words for the refusals, after "give" (<see cref="NumberRefusal"/>).
/// Declared once where a flag and a REPL key take the same setting (<see cref="SamplingRanges"/>).
/// </summary>
public sealed record AllowedNumbers(string Words, Func<double, bool> Allows)
{
    /// <summary><paramref name="min"/> to <paramref name="max"/>, both included, said "min to max".</summary>
    public static AllowedNumbers Between(long min, long max) => new(NumberOptions.Range(min, max), v => v >= min && v <= max);
}
