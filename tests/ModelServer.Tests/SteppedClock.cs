namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A clock whose elapsed time moves only when a test says so, and whose wall-clock time is set
/// apart from it: as an NTP step or a resumed VM moves the wall clock while time elapses as ever.
/// </summary>
public sealed class SteppedClock : TimeProvider
{
    private long _ticks = TimeSpan.TicksPerDay;

    public DateTimeOffset Wall { get; set; } = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    public void Advance(TimeSpan elapsed) => _ticks += elapsed.Ticks;

    public override DateTimeOffset GetUtcNow() => Wall;
    public override long GetTimestamp() => _ticks;
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
}
