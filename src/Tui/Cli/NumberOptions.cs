using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace CharRnn.Tui.Cli;

/// <summary>
/// Number options read the same way everywhere, whatever the machine's locale: System.CommandLine's
/// own parsing allows thousands separators, so "-t 0,8" would quietly be temperature 8, and a word
/// gets a message naming a .NET type. Here "0,8" is refused, and each refusal says what a value
/// looks like. Ranges are each verb's to check (they know what is allowed).
/// </summary>
public static class NumberOptions
{
    /// <summary>Gives every number option of <paramref name="command"/> and its verbs this parsing.</summary>
    public static void ApplyTo(Command command)
    {
        foreach (var option in command.Options) Apply(option);
        foreach (var verb in command.Subcommands) ApplyTo(verb);
    }

    private static void Apply(Option option)
    {
        var name = option.Name;
        switch (option)
        {
            case Option<double> o: o.CustomParser = r => Real(r, name) ?? 0; break;
            case Option<double?> o: o.CustomParser = r => Real(r, name); break;
            case Option<int> o: o.CustomParser = r => (int)(Whole(r, name, int.MinValue, int.MaxValue) ?? 0); break;
            case Option<int?> o: o.CustomParser = r => (int?)Whole(r, name, int.MinValue, int.MaxValue); break;
            case Option<long> o: o.CustomParser = r => (long)(Whole(r, name, long.MinValue, long.MaxValue) ?? 0); break;
            case Option<long?> o: o.CustomParser = r => (long?)Whole(r, name, long.MinValue, long.MaxValue); break;
            case Option<ulong?> o: o.CustomParser = r => (ulong?)Whole(r, name, ulong.MinValue, ulong.MaxValue); break;
        }
    }

    private static double? Real(ArgumentResult result, string name)
    {
        var text = Text(result);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)) return value;
        result.AddError(text.Contains(',')
            ? $"{Typed(result, name)} '{text}' is not a number: write decimals with a point (e.g. {text.Replace(',', '.')}), and no thousands separators."
            : $"{Typed(result, name)} '{text}' is not a number; give one like 0.5 or 2e-3.");
        return null;
    }

    private static decimal? Whole(ArgumentResult result, string name, decimal min, decimal max)
    {
        var text = Text(result);
        if (!decimal.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            result.AddError($"{Typed(result, name)} '{text}' is not a whole number; give digits only, like 15 (no separators, no decimals).");
            return null;
        }
        if (value < min || value > max)
        {
            result.AddError(value > max
                ? $"{Typed(result, name)} {text} is too large; at most {max.ToString(CultureInfo.InvariantCulture)}."
                : $"{Typed(result, name)} {text} is too small; at least {min.ToString(CultureInfo.InvariantCulture)}.");
            return null;
        }
        return value;
    }

    /// <summary>The option as the user typed it (-t or --temperature).</summary>
    private static string Typed(ArgumentResult result, string name) => (result.Parent as OptionResult)?.IdentifierToken?.Value ?? name;

    private static string Text(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value.Trim() : "";
}
