using System.Globalization;
using CharRnn.Engine.Text;

namespace CharRnn.Engine.Models;

public enum HyperParameterType { Int, Float, Bool }

/// <summary>One tunable number of an architecture: what the server lists and the TUI edits.</summary>
public sealed record HyperParameterSpec(string Name, HyperParameterType Type, double Default, double Min, double Max, string Doc)
{
    /// <summary>The command-line flag: n_hidden → --n-hidden.</summary>
    public string Flag => FlagOf(Name);

    /// <summary>A hyperparameter's command-line flag: n_hidden's --n-hidden.</summary>
    public static string FlagOf(string name) => "--" + name.Replace('_', '-');

    /// <summary>The allowed values, as a user would type them.</summary>
    public string Range => Type switch
    {
        HyperParameterType.Bool => "true or false",
        HyperParameterType.Int => $"an integer from {Format(Min)} to {Format(Max)}",
        _ => $"a number from {Bound(Min)} to {Bound(Max)}",
    };

    /// <summary>A bound as typed: a whole one in full (clip's 1000000, not 1E+06), others as <see cref="Number"/> writes them.</summary>
    private static string Bound(double value) =>
        Math.Floor(value) == value && Math.Abs(value) < 1e15 ? ((long)value).ToString(CultureInfo.InvariantCulture) : Number(value);

    public string Format(double value) => Type switch
    {
        HyperParameterType.Bool => value != 0 ? "true" : "false",
        HyperParameterType.Int => ((long)value).ToString(CultureInfo.InvariantCulture),
        _ => Number(value),
    };

    /// <summary>
    /// A real number as the README writes it: 1e-5 for a small one (G6 gave 1E-05, a form the
    /// listings showed nowhere else), otherwise up to six significant digits.
    /// </summary>
    public static string Number(double value) => value != 0 && Math.Abs(value) < 1e-3
        ? value.ToString("0.#####e0", CultureInfo.InvariantCulture)
        : value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>Checks a value; the error names the parameter, the value and what is allowed.</summary>
    public double Validate(double value)
    {
        bool ok = Type switch
        {
            HyperParameterType.Bool => value is 0 or 1,
            HyperParameterType.Int => double.IsFinite(value) && Math.Floor(value) == value && value >= Min && value <= Max,
            _ => double.IsFinite(value) && value >= Min && value <= Max,
        };
        // A number was given (the API's map of doubles, not typed text): there a switch is 0 or 1.
        var allowed = Type == HyperParameterType.Bool ? "0 or 1 (false or true)" : Range;
        if (!ok)
            throw new HyperParameterException(Name, $"{Name} = {value.ToString(CultureInfo.InvariantCulture)} is not allowed; {Name} must be {allowed}.");
        return value;
    }

    /// <summary>The words a yes/no value may be written in (true/false, yes/no, on/off, 1/0), or null for any other.</summary>
    public static bool? YesNo(string text) => text.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => true,
        "false" or "no" or "off" or "0" => false,
        _ => null,
    };

    public double Parse(string text)
    {
        var trimmed = text.Trim();
        if (Type == HyperParameterType.Bool)
        {
            return YesNo(trimmed) is { } yes ? (yes ? 1 : 0)
                : throw new HyperParameterException(Name, $"{Name} = '{Echo.Of(text)}' is not allowed; {Name} must be {Range}.");
        }
        if (!double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            throw new HyperParameterException(Name, $"{Name} = '{Echo.Of(text)}' is not a number; {Name} must be {Range}.");
        return Validate(value);
    }
}
