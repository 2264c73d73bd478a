using CharRnn.ModelServer.DeviceLoop;

namespace CharRnn.ModelServer.Tests;

public class DeviceShareTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void At_an_even_share_streams_get_as_much_time_after_a_training_slice_as_it_took()
    {
        var share = new DeviceShare(0.5);
        Assert.True(share.TrainingMayRun(othersUsedIt: true)); // nothing trained yet: nothing owed
        share.Trained(Ms(7), othersWaiting: true);
        var steps = 0;
        while (!share.TrainingMayRun(othersUsedIt: true))
        {
            share.Generated(Ms(2.3));
            steps++;
        }
        Assert.Equal(4, steps); // 3 × 2.3 ms < 7 ms ≤ 4 × 2.3 ms
        share.Trained(Ms(1), othersWaiting: true);
        Assert.False(share.TrainingMayRun(othersUsedIt: true)); // owing starts over after each slice
    }

    [Fact]
    public void A_smaller_training_share_owes_streams_more_time()
    {
        var share = new DeviceShare(0.2);
        share.Trained(Ms(10), othersWaiting: true);
        share.Generated(Ms(39));
        Assert.False(share.TrainingMayRun(othersUsedIt: true));
        share.Generated(Ms(1));
        Assert.True(share.TrainingMayRun(othersUsedIt: true)); // 10 ms × 0.8 / 0.2
    }

    [Fact]
    public void Training_runs_whenever_no_stream_stepped()
    {
        var share = new DeviceShare(0.5);
        share.Trained(Ms(50), othersWaiting: true);
        Assert.True(share.TrainingMayRun(othersUsedIt: false)); // no one waiting (or every reader is behind)
    }

    [Fact]
    public void A_long_slice_with_no_stream_open_owes_the_streams_that_arrive_after_it_nothing()
    {
        var share = new DeviceShare(0.5);
        share.Trained(Ms(250), othersWaiting: false);
        Assert.True(share.TrainingMayRun(othersUsedIt: true));
    }

    [Fact]
    public void Commands_count_as_the_others_time_and_earn_training_its_share_back()
    {
        var share = new DeviceShare(0.2);
        share.Trained(Ms(10), othersWaiting: true);
        share.RanCommands(Ms(39));
        Assert.False(share.TrainingMayRun(othersUsedIt: true));
        share.RanCommands(Ms(1));
        Assert.True(share.TrainingMayRun(othersUsedIt: true)); // 10 ms × 0.8 / 0.2, as streams' time
        Assert.Equal(10, share.TrainingEarned.TotalMilliseconds, 6); // 40 ms of commands × 0.2 / 0.8: the next slice runs that long
        share.Trained(Ms(10), othersWaiting: true);
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
