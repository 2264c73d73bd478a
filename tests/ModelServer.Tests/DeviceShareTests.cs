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
