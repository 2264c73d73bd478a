using System.Globalization;

namespace CharRnn.Engine.Training;

/// <summary>
/// A duration as a user reads it in a message or a log line ("24h00m", "1h30m", "2m05s", "45s", "0.5s"), as the CLI
/// writes and reads durations, rather than .NET's "1.00:00:00" (a day) or "00:00:00.5000000".
/// </summary>
public static class DurationText
{
    /// <param name="seconds">How a time under a minute is written: by default every digit a budget may have (a server allows
    /// budgets down to 0.001 s); a progress line's "0.0" keeps its width.</param>
    public static string Format(TimeSpan span, string seconds = "0.######") =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
        : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m{span.Seconds:00}s"
        : span.TotalSeconds.ToString(seconds, CultureInfo.InvariantCulture) + "s";
}
