using CharRnn.Tui.Cli;

namespace CharRnn.Tui.Tests;

public class DurationsTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1h30m", 5400)]
    [InlineData("1.5m", 90)]
    [InlineData("00:10:00", 600)]
    [InlineData("1.00:00:00", 86400)]
    public void Durations_are_read_as_people_type_them(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Durations.Parse(text));

    [Theory]
    [InlineData("10:00", "'10:00' is ambiguous (hours:minutes or minutes:seconds?); write it as hh:mm:ss (10:00:00 or 00:10:00), or as 10m or 2h.")]
    [InlineData("ten", "'ten' is not a duration; use for example 90s, 10m, 2h, 1h30m or 00:10:00 (hours, minutes, seconds in that order, each once).")]
    [InlineData("0s", "'0s' is no time; give a duration above 0, for example 90s, 10m, 2h, 1h30m or 00:10:00.")]
    [InlineData("-5m", "'-5m' is negative; give a duration above 0, for example 90s, 10m, 2h, 1h30m or 00:10:00.")]
    [InlineData("1m1m", "'1m1m' is not a duration; use for example 90s, 10m, 2h, 1h30m or 00:10:00 (hours, minutes, seconds in that order, each once).")]
    [InlineData("30s1m", "'30s1m' is not a duration; use for example")]
    [InlineData("400d", "'400d' is not a duration; use for example 90s, 10m, 2h, 1h30m or 00:10:00 (hours, minutes, seconds in that order, each once).")]
    [InlineData("9000h", "'9000h' is too long a duration; use at most 366 days (8784h).")]
    public void A_duration_that_is_not_clear_is_refused_saying_how_to_write_it(string text, string message) =>
        Assert.StartsWith(message, Assert.Throws<ArgumentException>(() => Durations.Parse(text)).Message);
}
