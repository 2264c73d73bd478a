using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace CharRnn.Tui.Cli;

/// <summary>
/// Number options read the same way everywhere, whatever the machine's locale: System.CommandLine's
/// own parsing allows thousands separators, so "-t 0,8" would quietly be temperature 8, and a word
/// gets a message naming a .NET type. Here "0,8" is refused, and each refusal says what a value
/// looks like. Each number option declares what it allows (<see cref="Allowing{T}"/>), and every refusal here names that,
/// not the limits of the type that holds it: the verbs check the values it can hold against the same range.
/// </summary>
public static class NumberOptions
{
    private static readonly ConditionalWeakTable<Option, string> Allowed = new();

    /// <summary>
    /// What <paramref name="option"/> allows, as its refusals say it after "give" ("1 to 100000"): a value that is not a
    /// number, or one beyond what its type holds, is refused naming this.
    /// </summary>
    public static Option<T> Allowing<T>(this Option<T> option, string allowed)
    {
        Allowed.AddOrUpdate(option, allowed);
        return option;
    }

    /// <summary>"1 to 100000", in the invariant culture, for <see cref="Allowing{T}"/>.</summary>
    public static string Range(IFormattable min, IFormattable max) =>
        $"{min.ToString(null, CultureInfo.InvariantCulture)} to {max.ToString(null, CultureInfo.InvariantCulture)}";

    /// <summary>Gives every number option of <paramref name="command"/> and its verbs this parsing.</summary>
    public static void ApplyTo(Command command)
    {
        foreach (var option in command.Options) Apply(option);
        foreach (var verb in command.Subcommands) ApplyTo(verb);
    }

    private static void Apply(Option option)
    {
        if (option is not (Option<double> or Option<double?> or Option<int> or Option<int?> or Option<long> or Option<long?> or Option<ulong?>)) return;
        var name = option.Name;
        // A number option that does not say what it allows would be refused in its type's terms (2147483647): a bug.
        if (!Allowed.TryGetValue(option, out var allowed))
            throw new InvalidOperationException($"{name} is a number option that does not declare what it allows (NumberOptions.Allowing).");
        switch (option)
        {
            case Option<double> o: o.CustomParser = r => Real(r, name, allowed) ?? 0; break;
            case Option<double?> o: o.CustomParser = r => Real(r, name, allowed); break;
            case Option<int> o: o.CustomParser = r => (int)(Whole(r, name, allowed, int.MinValue, int.MaxValue) ?? 0); break;
            case Option<int?> o: o.CustomParser = r => (int?)Whole(r, name, allowed, int.MinValue, int.MaxValue); break;
            case Option<long> o: o.CustomParser = r => (long)(Whole(r, name, allowed, long.MinValue, long.MaxValue) ?? 0); break;
            case Option<long?> o: o.CustomParser = r => (long?)Whole(r, name, allowed, long.MinValue, long.MaxValue); break;
            case Option<ulong?> o: o.CustomParser = r => (ulong?)Whole(r, name, allowed, ulong.MinValue, ulong.MaxValue); break;
        }
    }

    private static double? Real(ArgumentResult result, string name, string allowed)
    {
        var text = Text(result);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)) return value;
        result.AddError(text.Contains(',')
            ? $"{Typed(result, name)} '{text}' is not a number: write decimals with a point (e.g. {text.Replace(',', '.')}), and no thousands separators; give {allowed}."
            : $"{Typed(result, name)} '{text}' is not a number; give {allowed}, like 0.5 or 2e-3.");
        return null;
    }

    private static BigInteger? Whole(ArgumentResult result, string name, string allowed, BigInteger min, BigInteger max)
    {
        var text = Text(result);
        if (!BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            result.AddError($"{Typed(result, name)} '{text}' is not a whole number; give {allowed}, in digits only (no separators, no decimals).");
            return null;
        }
        // Beyond what the type holds: refused, never clamped (a seed must stay exact), naming what the option allows.
        if (value < min || value > max)
        {
            result.AddError($"{Typed(result, name)} {text} is not allowed; give {allowed}.");
            return null;
        }
        return value;
    }

    /// <summary>The option as the user typed it (-t or --temperature).</summary>
    private static string Typed(ArgumentResult result, string name) => (result.Parent as OptionResult)?.IdentifierToken?.Value ?? name;

    private static string Text(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value.Trim() : "";
}
