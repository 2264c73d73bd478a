using CharRnn.ModelServer.Jobs;

namespace CharRnn.ModelServer.Tests;

/// <summary>A job's end in the operator log says its state once: "Job 3 Stopped: stopped by key 'bob'" said it twice.</summary>
public class JobEndLogTests
{
    [Theory]
    [InlineData(JobState.Finished, "finished 2 epoch(s)", "finished 2 epoch(s)")]
    [InlineData(JobState.Finished, "reached max_steps = 100", "finished: reached max_steps = 100")]
    [InlineData(JobState.Stopped, "stopped by key 'bob'", "stopped by key 'bob'")]
    [InlineData(JobState.Stopped, "stopped: key 'alice' was removed", "stopped: key 'alice' was removed")]
    [InlineData(JobState.Stopped, "time budget of 1h00m reached", "stopped: time budget of 1h00m reached")]
    [InlineData(JobState.Failed, "out of memory", "failed: out of memory")]
    public void The_state_is_said_once(JobState state, string reason, string logged) =>
        Assert.Equal(logged, JobQueue.EndOf(state, reason));
}
