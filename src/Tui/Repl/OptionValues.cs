using System.Globalization;
using CharRnn.Tui.Cli;

namespace CharRnn.Tui.Repl;

/// <summary>
/// The values of a command's key=value options, read as numbers, whole numbers or yes/no; a value that is not one,
/// or is out of range, is a <see cref="CommandException"/> naming the key, the value and what is allowed, in the words
/// charrnn's flags are refused in (<see cref="NumberRefusal"/>: "t=11 is not allowed; give 0 (greedy) to 10.").
/// </summary>
internal static class OptionValues
{
    /// <summary>A number of any size; one that is not a number is refused saying <paramref name="allowed"/> if given.</summary>
    internal static double Number(string key, string value, string? allowed = null) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new CommandException(allowed == null ? $"{key}={value} is not a number." : NumberRefusal.NotANumber($"{key}={value}", value, allowed));

    /// <summary>A yes/no value, in the words the engine's hyperparameters take.</summary>
    internal static double Bool(string key, string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => 1,
        "false" or "no" or "off" or "0" => 0,
        _ => throw new CommandException(NumberRefusal.NotAllowed($"{key}={value}", "true or false (yes/no, on/off and 1/0 too)")),
    };

    /// <summary>A number <paramref name="allowed"/> allows; "t=abc" is refused naming its range, as "t=11" is.</summary>
    internal static double NumberIn(string key, string value, AllowedNumbers allowed)
    {
        var v = Number(key, value, allowed.Words);
        return allowed.Allows(v) ? v : throw new CommandException(NumberRefusal.NotAllowed($"{key}={value}", allowed.Words));
    }

    internal static long Integer(string key, string value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : throw new CommandException($"{key}={value} is not a whole number.");

    internal static int IntegerIn(string key, string value, int min, int max) => (int)IntegerIn(key, value, AllowedNumbers.Between(min, max));

    /// <summary>A whole number <paramref name="allowed"/> allows; one that is not whole is refused naming its range.</summary>
    internal static double IntegerIn(string key, string value, AllowedNumbers allowed)
    {
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            throw new CommandException(NumberRefusal.NotAWholeNumber($"{key}={value}", allowed.Words));
        return allowed.Allows(v) ? v : throw new CommandException(NumberRefusal.NotAllowed($"{key}={value}", allowed.Words));
    }
}
