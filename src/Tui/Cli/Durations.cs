using System.Globalization;
using System.Text.RegularExpressions;

namespace CharRnn.Tui.Cli;

/// <summary>Reads durations as people type them: 90s, 10m, 2h, 1h30m, or 00:10:00.</summary>
public static partial class Durations
{
    /// <summary>A year: longer budgets are typos (TimeSpan itself overflows at ~29,000 years).</summary>
    public const int MaxDays = 366;

    public static TimeSpan Parse(string text)
    {
        var trimmed = text.Trim();
        // TimeSpan reads "10:00" as hours:minutes, where people often mean minutes:seconds: ask for all three.
        if (trimmed.Count(c => c == ':') == 1)
            throw new ArgumentException($"'{text}' is ambiguous (hours:minutes or minutes:seconds?); write it as hh:mm:ss ({trimmed}:00 or 00:{trimmed}), or as 10m or 2h.");
        if (TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var span) && trimmed.Contains(':') && span > TimeSpan.Zero)
            return span <= TimeSpan.FromDays(MaxDays) ? span : throw TooLong(text);
        var match = Pattern().Match(trimmed);
        if (match.Success && match.Length > 0)
        {
            double seconds = 0;
            foreach (Capture c in match.Groups["part"].Captures)
            {
                var unit = c.Value[^1];
                var number = double.Parse(c.Value[..^1], CultureInfo.InvariantCulture);
                seconds += number * unit switch { 'h' => 3600, 'm' => 60, _ => 1 };
            }
            if (seconds > MaxDays * 86400) throw TooLong(text);
            if (seconds > 0) return TimeSpan.FromSeconds(seconds);
        }
        throw new ArgumentException($"'{text}' is not a duration; use for example 90s, 10m, 2h, 1h30m or 00:10:00.");
    }

    private static ArgumentException TooLong(string text) => new($"'{text}' is too long a duration; use at most {MaxDays} days ({MaxDays * 24}h).");

    public static string Format(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
        : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m{span.Seconds:00}s"
        : $"{span.TotalSeconds:0.0}s";

    [GeneratedRegex(@"^(?<part>\d+(\.\d+)?[hms])+$")]
    private static partial Regex Pattern();
}
