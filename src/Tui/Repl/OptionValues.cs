using System.Globalization;

namespace CharRnn.Tui.Repl;

/// <summary>
/// The values of a command's key=value options, read as numbers, whole numbers or yes/no; a value that is not one,
/// or is out of range, is a <see cref="CommandException"/> naming the key, the value and what is allowed.
/// </summary>
internal static class OptionValues
{
    internal static double Number(string key, string value, string? allowed = null) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new CommandException($"{key}={value} is not a number{(allowed == null ? "" : $"; use {allowed}")}.");

    /// <summary>A yes/no value, in the words the engine's hyperparameters take.</summary>
    internal static double Bool(string key, string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => 1,
        "false" or "no" or "off" or "0" => 0,
        _ => throw new CommandException($"{key}={value} is not allowed; use true or false (yes/no, on/off and 1/0 too)."),
    };

    internal static double NumberIn(string key, string value, double min, double max, string allowed)
    {
        var v = Number(key, value, allowed); // "t=abc is not a number; use 0 (greedy) up to 2", as "t=9" gets
        return v >= min && v <= max ? v : throw new CommandException($"{key}={value} is not allowed; use {allowed}.");
    }

    internal static long Integer(string key, string value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : throw new CommandException($"{key}={value} is not a whole number.");

    internal static int IntegerIn(string key, string value, int min, int max)
    {
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            throw new CommandException($"{key}={value} is not a whole number; use {min} to {max}.");
        return v >= min && v <= max ? (int)v : throw new CommandException($"{key}={value} is not allowed; use {min} to {max}.");
    }
}
