using CharRnn.ModelServer.Sessions;

namespace CharRnn.ModelServer.Tests;

/// <summary>When a session counts as idle: by elapsed time, whatever the wall clock does.</summary>
public class SessionIdleTests
{
    [Fact]
    public void A_session_is_idle_after_its_timeout_of_elapsed_time_whatever_the_wall_clock_does()
    {
        var clock = new SteppedClock();
        var session = new ServerSession("s-1", "local", null!, null!, TimeSpan.FromSeconds(60), clock); // idleness reads neither model nor engine
        clock.Wall += TimeSpan.FromHours(1); // an NTP step forward: not an hour idle
        Assert.False(session.IsIdle());
        clock.Wall -= TimeSpan.FromHours(2);
        clock.Advance(TimeSpan.FromSeconds(61)); // set back, and a minute idle: it expires all the same
        Assert.True(session.IsIdle());
        session.Touch();
        Assert.False(session.IsIdle());

        var stream = session.Streaming(); // a Generate call whose client reads slowly
        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.False(session.IsIdle());
        stream.Dispose();
        Assert.False(session.IsIdle()); // idle time counts from the call's end
        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.True(session.IsIdle());
    }
}
