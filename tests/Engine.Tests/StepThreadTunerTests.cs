using CharRnn.Engine.Runtime;
using Xunit;

namespace CharRnn.Engine.Tests;

public class StepThreadTunerTests
{
    private static readonly object Gru = new(), Lstm = new();

    /// <summary>Runs <paramref name="steps"/> steps the way the device loop does; returns the thread counts used.</summary>
    private static List<int> Drive(StepThreadTuner tuner, object model, int rows, int steps, Func<int, double> millisecondsPerStep, List<int?>? changes = null)
    {
        var used = new List<int>();
        for (int i = 0; i < steps; i++)
        {
            int threads = tuner.Choose(model, rows);
            used.Add(threads);
            var change = tuner.Record(model, rows, threads, TimeSpan.FromMilliseconds(millisecondsPerStep(threads)));
            if (change != null) changes?.Add(change);
        }
        return used;
    }

    private static int TrialSteps(StepThreadTuner tuner) => StepThreadTuner.TrialRounds * tuner.Candidates.Count * StepThreadTuner.BlockSteps;

    [Fact]
    public void Tries_every_candidate_in_blocks_then_settles_on_the_fastest()
    {
        var tuner = new StepThreadTuner([1, 2], probeEvery: 1000);
        var changes = new List<int?>();
        var used = Drive(tuner, Gru, 64, TrialSteps(tuner), t => t == 1 ? 0.3 : 0.4, changes);

        var expected = new[] { 1, 2, 1, 2 }.SelectMany(t => Enumerable.Repeat(t, StepThreadTuner.BlockSteps));
        Assert.Equal(expected, used);
        Assert.Equal([1], changes);
        Assert.Equal(1, tuner.Chosen(Gru, 64));
        Assert.All(Drive(tuner, Gru, 64, 100, t => t == 1 ? 0.3 : 0.4), t => Assert.Equal(1, t));
    }

    [Fact]
    public void Picks_more_threads_when_they_are_faster()
    {
        var tuner = new StepThreadTuner(StepThreadTuner.CandidatesUpTo(4), probeEvery: 1000);
        Assert.Null(tuner.Chosen(Lstm, 256));
        Drive(tuner, Lstm, 256, TrialSteps(tuner), t => 8.0 / Math.Min(t, 2)); // 2 and 4 threads tie: the fewer win
        Assert.Equal(2, tuner.Chosen(Lstm, 256));
    }

    [Fact]
    public void Probes_the_other_counts_and_follows_when_the_host_changes()
    {
        var tuner = new StepThreadTuner([1, 2], probeEvery: 20);
        bool hostChanged = false;
        double Cost(int t) => (t == 1) ^ hostChanged ? 0.3 : 0.5;
        Drive(tuner, Gru, 64, TrialSteps(tuner) + 100, Cost);
        Assert.Equal(1, tuner.Chosen(Gru, 64));

        hostChanged = true; // now two threads are the faster
        var changes = new List<int?>();
        var used = Drive(tuner, Gru, 64, 400, Cost, changes);
        Assert.Equal(2, tuner.Chosen(Gru, 64));
        Assert.Equal([2], changes);
        // After the switch, steps run on the faster count bar a probe block every 20 steps.
        int probes = used.TakeLast(100).Count(t => t == 1);
        Assert.InRange(probes, 1, 100 / 20 * StepThreadTuner.BlockSteps);
    }

    [Fact]
    public void Each_model_and_batch_size_is_tuned_on_its_own()
    {
        var tuner = new StepThreadTuner([1, 2], probeEvery: 1000);
        Drive(tuner, Gru, 64, TrialSteps(tuner), t => t == 1 ? 0.3 : 0.4);
        Assert.Equal(1, tuner.Chosen(Gru, 64));
        Assert.Equal(1, tuner.Chosen(Gru, 33)); // 33 to 64 rows are one kind
        Assert.Null(tuner.Chosen(Gru, 65));
        Assert.Null(tuner.Chosen(Lstm, 64));

        Drive(tuner, Lstm, 64, TrialSteps(tuner), t => t == 1 ? 4.0 : 3.0);
        Assert.Equal(2, tuner.Chosen(Lstm, 64));
        Assert.Equal(1, tuner.Chosen(Gru, 64));
    }

    [Fact]
    public void Steps_of_different_sizes_in_one_kind_compare_per_row()
    {
        // 40 rows on one thread against 64 on two: one thread takes longer per step but less per row.
        var tuner = new StepThreadTuner([1, 2], probeEvery: 1000);
        for (int i = 0; i < TrialSteps(tuner); i++)
        {
            int rows = i % 2 == 0 ? 40 : 64;
            int threads = tuner.Choose(Gru, rows);
            double ms = rows * (threads == 1 ? 0.005 : 0.006);
            tuner.Record(Gru, rows, threads, TimeSpan.FromMilliseconds(ms));
        }
        Assert.Equal(1, tuner.Chosen(Gru, 64));
    }

    [Fact]
    public void One_candidate_means_no_tuning()
    {
        var tuner = new StepThreadTuner([3]);
        Assert.All(Drive(tuner, Gru, 8, 50, _ => 1.0), t => Assert.Equal(3, t));
        Assert.Equal(3, tuner.Chosen(Gru, 8));
        Assert.Null(tuner.Record(Gru, 8, 3, TimeSpan.FromMilliseconds(1)));
    }

    [Theory]
    [InlineData(1, new[] { 1 })]
    [InlineData(2, new[] { 1, 2 })]
    [InlineData(6, new[] { 1, 2, 4, 6 })]
    [InlineData(16, new[] { 1, 2, 4, 8, 16 })]
    public void Candidates_are_powers_of_two_and_the_maximum(int maxThreads, int[] expected)
    {
        Assert.Equal(expected, StepThreadTuner.CandidatesUpTo(maxThreads));
    }

    [Fact]
    public void Bad_arguments_say_what_is_allowed()
    {
        Assert.Contains("one or more positive", Assert.Throws<ArgumentException>(() => new StepThreadTuner([])).Message);
        Assert.Contains("one or more positive", Assert.Throws<ArgumentException>(() => new StepThreadTuner([0, 2])).Message);
        Assert.Contains("at least 1", Assert.Throws<ArgumentOutOfRangeException>(() => StepThreadTuner.CandidatesUpTo(0)).Message);
        var tuner = new StepThreadTuner([1, 2]);
        Assert.Contains("at least one session", Assert.Throws<ArgumentOutOfRangeException>(() => tuner.Choose(Gru, 0)).Message);
    }
}
