using CharRnn.Engine.Training;

namespace CharRnn.Engine.Tests;

/// <summary>A duration in a message reads as the CLI writes one: --max-job-hours 24 stopped jobs with "time budget of 1.00:00:00 reached".</summary>
public class DurationTextTests
{
    [Theory]
    [InlineData(24 * 3600.0, "24h00m")]
    [InlineData(48 * 3600.0 + 60, "48h01m")]
    [InlineData(5400.0, "1h30m")]
    [InlineData(90.0, "1m30s")]
    [InlineData(45.0, "45s")]
    [InlineData(0.5, "0.5s")]
    [InlineData(0.001, "0.001s")]
    public void A_duration_reads_in_hours_minutes_and_seconds(double seconds, string text) =>
        Assert.Equal(text, DurationText.Format(TimeSpan.FromSeconds(seconds)));
}
