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
    /// <summary>What an option allows: its words for the refusals, and the test a value must pass (null: any its type holds).</summary>
    private sealed record Allowance(string Words, Func<double, bool>? Allows);

    private static readonly ConditionalWeakTable<Option, Allowance> Allowed = new();

    /// <summary>
    /// What <paramref name="option"/> allows, as its refusals say it after "give" ("1 to 100000"): a value that is not a
    /// number, one beyond what its type holds, or one <paramref name="allows"/> refuses, is refused naming this.
    /// Only a range that depends on what the verb loads (a model's layers) is left to the verb, with allows null.
    /// </summary>
    public static Option<T> Allowing<T>(this Option<T> option, string allowed, Func<double, bool>? allows = null)
    {
        Allowed.AddOrUpdate(option, new Allowance(allowed, allows));
        return option;
    }

    /// <summary>
    /// <paramref name="option"/> allows <paramref name="min"/> to <paramref name="max"/>, both included; its refusals say
    /// <paramref name="allowed"/> if given (for what 0 means, say), else "min to max".
    /// </summary>
    public static Option<T> Allowing<T>(this Option<T> option, double min, double max, string? allowed = null) =>
        option.Allowing(allowed ?? Range(min, max), v => v >= min && v <= max);

    /// <inheritdoc cref="Allowing{T}(Option{T}, double, double, string?)"/>
    /// <remarks>Whole bounds are said in full (9223372036854775807, not a double's 9.223372036854776E+18).</remarks>
    public static Option<T> Allowing<T>(this Option<T> option, long min, long max, string? allowed = null) =>
        option.Allowing(allowed ?? Range(min, max), v => v >= min && v <= max);

    /// <summary>
    /// <paramref name="option"/> allows the setting <paramref name="spec"/>'s range, said in its words ("an integer from 1 to 100000"),
    /// or as <paramref name="words"/> gets them from its bounds, for what 0 means ("0 (off) or 1 to 1000 epochs").
    /// </summary>
    public static Option<T> Allowing<T>(this Option<T> option, Engine.Models.HyperParameterSpec spec, Func<string, string, string>? words = null) =>
        option.Allowing(spec.Min, spec.Max, words?.Invoke(spec.Min.ToString(CultureInfo.InvariantCulture), spec.Max.ToString(CultureInfo.InvariantCulture)) ?? spec.Range);

    /// <summary><paramref name="option"/> allows what <paramref name="allowed"/> declares: a setting a REPL key takes too (<see cref="SamplingRanges"/>).</summary>
    public static Option<T> Allowing<T>(this Option<T> option, AllowedNumbers allowed) => option.Allowing(allowed.Words, allowed.Allows);

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
        if (!Allowed.TryGetValue(option, out var allowance))
            throw new InvalidOperationException($"{name} is a number option that does not declare what it allows (NumberOptions.Allowing).");
        switch (option)
        {
            case Option<double> o: o.CustomParser = r => Real(r, name, allowance) ?? 0; break;
            case Option<double?> o: o.CustomParser = r => Real(r, name, allowance); break;
            case Option<int> o: o.CustomParser = r => (int)(Whole(r, name, allowance, int.MinValue, int.MaxValue) ?? 0); break;
            case Option<int?> o: o.CustomParser = r => (int?)Whole(r, name, allowance, int.MinValue, int.MaxValue); break;
            case Option<long> o: o.CustomParser = r => (long)(Whole(r, name, allowance, long.MinValue, long.MaxValue) ?? 0); break;
            case Option<long?> o: o.CustomParser = r => (long?)Whole(r, name, allowance, long.MinValue, long.MaxValue); break;
            case Option<ulong?> o: o.CustomParser = r => (ulong?)Whole(r, name, allowance, ulong.MinValue, ulong.MaxValue); break;
        }
    }

    private static double? Real(ArgumentResult result, string name, Allowance allowance)
    {
        var (text, allowed) = (Text(result), allowance.Words);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
            return Within(result, name, text, allowance, value) ? value : null;
        result.AddError(NotANumber(Typed(result, name), text, allowed));
        return null;
    }

    private static BigInteger? Whole(ArgumentResult result, string name, Allowance allowance, BigInteger min, BigInteger max)
    {
        var (text, allowed) = (Text(result), allowance.Words);
        if (!BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            result.AddError(NotAWholeNumber(Typed(result, name), text, allowed));
            return null;
        }
        // Beyond what the type holds: refused, never clamped (a seed must stay exact), naming what the option allows.
        if (value < min || value > max)
        {
            Refuse(result, name, text, allowed);
            return null;
        }
        return Within(result, name, text, allowance, (double)value) ? value : null;
    }

    /// <summary>Whether <paramref name="value"/> is in the option's range; refused in the same words as one beyond its type if not.</summary>
    private static bool Within(ArgumentResult result, string name, string text, Allowance allowance, double value)
    {
        if (allowance.Allows is null || allowance.Allows(value)) return true;
        Refuse(result, name, text, allowance.Words);
        return false;
    }

    private static void Refuse(ArgumentResult result, string name, string text, string allowed) =>
        result.AddError(NotAllowed(Typed(result, name), text, allowed));

    /// <summary>The refusal of a number out of range: "--epochs 0 is not allowed; give an integer from 1 to 100000."</summary>
    public static string NotAllowed(string flag, string text, string allowed) => NumberRefusal.NotAllowed($"{flag} {text}", allowed);

    /// <summary>The refusal of a word where a whole number goes: "--epochs '1.5' is not a whole number; give …, in digits only …".</summary>
    public static string NotAWholeNumber(string flag, string text, string allowed) => NumberRefusal.NotAWholeNumber($"{flag} '{text}'", allowed);

    /// <summary>The refusal of a word where a number goes, with decimals written with a point.</summary>
    public static string NotANumber(string flag, string text, string allowed) => NumberRefusal.NotANumber($"{flag} '{text}'", text, allowed);

    /// <summary>The option as the user typed it (-t or --temperature).</summary>
    private static string Typed(ArgumentResult result, string name) => (result.Parent as OptionResult)?.IdentifierToken?.Value ?? name;

    private static string Text(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value.Trim() : "";
}
