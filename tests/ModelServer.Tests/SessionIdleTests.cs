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

    [Fact]
    public void Last_used_is_never_before_created_when_the_wall_clock_is_set_back()
    {
        var clock = new SteppedClock();
        var session = new ServerSession("s-1", "local", null!, null!, TimeSpan.FromSeconds(60), clock);
        Assert.Equal(session.Created, session.LastUsed);
        // The wall clock read a hair later than the monotonic one moved (as two reads, taken apart, can be), or set back:
        // counted back from now, the last use would come before the session was made.
        clock.Wall -= TimeSpan.FromTicks(3);
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(session.Created, session.LastUsed);
        clock.Wall += TimeSpan.FromSeconds(10);
        Assert.Equal(session.Created + TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(3) - TimeSpan.FromSeconds(5), session.LastUsed);
    }
}
