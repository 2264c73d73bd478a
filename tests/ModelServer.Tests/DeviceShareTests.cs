using CharRnn.ModelServer.DeviceLoop;

namespace CharRnn.ModelServer.Tests;

public class DeviceShareTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void At_an_even_share_streams_get_as_much_time_after_a_training_slice_as_it_took()
    {
        var share = new DeviceShare(0.5);
        Assert.True(share.TrainingMayRun(streamsStepped: true)); // nothing trained yet: nothing owed
        share.Trained(Ms(7), streamsOpen: true);
        var steps = 0;
        while (!share.TrainingMayRun(streamsStepped: true))
        {
            share.Generated(Ms(2.3));
            steps++;
        }
        Assert.Equal(4, steps); // 3 × 2.3 ms < 7 ms ≤ 4 × 2.3 ms
        share.Trained(Ms(1), streamsOpen: true);
        Assert.False(share.TrainingMayRun(streamsStepped: true)); // owing starts over after each slice
    }

    [Fact]
    public void A_smaller_training_share_owes_streams_more_time()
    {
        var share = new DeviceShare(0.2);
        share.Trained(Ms(10), streamsOpen: true);
        share.Generated(Ms(39));
        Assert.False(share.TrainingMayRun(streamsStepped: true));
        share.Generated(Ms(1));
        Assert.True(share.TrainingMayRun(streamsStepped: true)); // 10 ms × 0.8 / 0.2
    }

    [Fact]
    public void Training_runs_whenever_no_stream_stepped()
    {
        var share = new DeviceShare(0.5);
        share.Trained(Ms(50), streamsOpen: true);
        Assert.True(share.TrainingMayRun(streamsStepped: false)); // no one waiting (or every reader is behind)
    }

    [Fact]
    public void A_long_slice_with_no_stream_open_owes_the_streams_that_arrive_after_it_nothing()
    {
        var share = new DeviceShare(0.5);
        share.Trained(Ms(250), streamsOpen: false);
        Assert.True(share.TrainingMayRun(streamsStepped: true));
    }

    [Fact]
    public void Commands_earn_training_its_share_back_but_do_not_pay_what_it_owes_the_streams()
    {
        var share = new DeviceShare(0.2);
        share.Trained(Ms(10), streamsOpen: true);
        share.RanCommands(Ms(40));
        Assert.False(share.TrainingMayRun(streamsStepped: true)); // one key's feeding is not the streams' time
        Assert.Equal(10, share.TrainingEarned.TotalMilliseconds, 6); // 40 ms of commands × 0.2 / 0.8
        share.Generated(Ms(40));
        Assert.True(share.TrainingMayRun(streamsStepped: true)); // 10 ms × 0.8 / 0.2 of generation
        Assert.True(new DeviceShare(0.2).TrainingMayRun(streamsStepped: false));
    }

    [Fact]
    public void While_streams_are_open_no_slice_is_longer_than_the_training_slice_and_the_credit_carries_over()
    {
        var share = new DeviceShare(0.5);
        share.RanCommands(Ms(20)); // earns 20 ms at an even share
        var streamSlice = Ms(7);
        var slices = new List<TimeSpan>();
        while (share.TrainingEarned > TimeSpan.Zero)
        {
            var (slice, uncut) = share.NextSlice(streamsOpen: true, streamSlice);
            Assert.True(slice <= streamSlice, $"a {slice.TotalMilliseconds} ms slice while streams are open");
            Assert.True(uncut <= slice);
            slices.Add(uncut);
            share.Trained(uncut, streamsOpen: true);
        }
        Assert.Equal([7, 7, 6], slices.Select(s => Math.Round(s.TotalMilliseconds, 6)));
    }

    [Fact]
    public void With_no_stream_open_a_slice_spends_the_whole_credit_up_to_250_ms()
    {
        var share = new DeviceShare(0.5);
        share.RanCommands(Ms(40));
        Assert.Equal((Ms(250), Ms(40)), share.NextSlice(streamsOpen: false, Ms(7)));
        share.RanCommands(Ms(1000));
        Assert.Equal((Ms(250), Ms(250)), share.NextSlice(streamsOpen: false, Ms(7))); // earned at most 250 ms ahead
        share.Trained(Ms(250), streamsOpen: false);
        Assert.Equal(TimeSpan.Zero, share.TrainingEarned);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void A_share_out_of_range_is_refused_saying_what_is_allowed(double value)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceShare(value));
        Assert.Contains("from 0.05 to 0.95", e.Message);
    }
}
