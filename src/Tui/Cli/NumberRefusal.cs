namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn's one wording for a number it refuses, on its command line (`--epochs 0`, `--epochs '1.5'`) and at the REPL's
/// prompt (`epochs=0`): the setting and value as typed, what is wrong with it, and after "give" what is allowed.
/// </summary>
public static class NumberRefusal
{
    /// <summary>A number out of range, or a word not among those allowed: "--epochs 0 is not allowed; give an integer from 1 to 100000.", "lower=maybe is not allowed; give true or false …".</summary>
    public static string NotAllowed(string typed, string allowed) => $"{typed} is not allowed; give {allowed}.";

    /// <summary>A word where a whole number goes: "--epochs '1.5' is not a whole number; give …, in digits only …".</summary>
    public static string NotAWholeNumber(string typed, string allowed) =>
        $"{typed} is not a whole number; give {allowed}, in digits only (no separators, no decimals).";

    /// <summary>A word (<paramref name="text"/>, as typed in <paramref name="typed"/>) where a number goes, with decimals written with a point.</summary>
    public static string NotANumber(string typed, string text, string allowed) => text.Contains(',')
        ? $"{typed} is not a number: write decimals with a point (e.g. {text.Replace(',', '.')}), and no thousands separators; give {allowed}."
        : $"{typed} is not a number; give {allowed}, like 0.5 or 2e-3.";
}
