using System.Globalization;
using System.Text.RegularExpressions;

namespace CharRnn.Tui.Cli;

/// <summary>Reads durations as people type them: 90s, 10m, 2h, 1h30m, or 00:10:00.</summary>
public static partial class Durations
{
    /// <summary>A year, the longest time budget (the server's too).</summary>
    public const int MaxDays = Engine.Training.TrainingOptions.MaxTimeBudgetDays;

    public static TimeSpan Parse(string text)
    {
        var trimmed = text.Trim();
        // TimeSpan reads "10:00" as hours:minutes, where people often mean minutes:seconds: ask for all three.
        if (trimmed.Count(c => c == ':') == 1)
            throw new ArgumentException($"'{text}' is ambiguous (hours:minutes or minutes:seconds?); write it as hh:mm:ss ({trimmed}:00 or 00:{trimmed}), or as 10m or 2h.");
        if (TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var span) && trimmed.Contains(':') && span > TimeSpan.Zero)
            return span <= TimeSpan.FromDays(MaxDays) ? span : throw TooLong(text);
        var match = Pattern().Match(trimmed.TrimStart('-'));
        if (match.Success && match.Length > 0)
        {
            double Part(string unit) => match.Groups[unit].Success ? double.Parse(match.Groups[unit].Value, CultureInfo.InvariantCulture) : 0;
            var seconds = Part("h") * 3600 + Part("m") * 60 + Part("s");
            if (seconds > MaxDays * 86400) throw TooLong(text);
            if (seconds > 0 && !trimmed.StartsWith('-')) return TimeSpan.FromSeconds(seconds);
            throw new ArgumentException($"'{text}' is {(seconds > 0 ? "negative" : "no time")}; give a duration above 0, for example 90s, 10m, 2h, 1h30m or 00:10:00.");
        }
        throw new ArgumentException($"'{text}' is not a duration; use for example 90s, 10m, 2h, 1h30m or 00:10:00 (hours, minutes, seconds in that order, each once).");
    }

    /// <summary>As <see cref="Parse(string)"/>, a refusal naming <paramref name="option"/>.</summary>
    public static TimeSpan Parse(string text, string option)
    {
        try { return Parse(text); }
        catch (ArgumentException e) { throw new ArgumentException($"{option} {e.Message}"); }
    }

    private static ArgumentException TooLong(string text) => new($"'{text}' is too long a duration; use at most {MaxDays} days ({MaxDays * 24}h).");

    /// <summary>As messages write durations (<see cref="Engine.Training.DurationText"/>), a time under a minute to a tenth of a second.</summary>
    public static string Format(TimeSpan span) => Engine.Training.DurationText.Format(span, "0.0");

    [GeneratedRegex(@"^(?:(?<h>\d+(?:\.\d+)?)h)?(?:(?<m>\d+(?:\.\d+)?)m)?(?:(?<s>\d+(?:\.\d+)?)s)?$")]
    private static partial Regex Pattern();
}
