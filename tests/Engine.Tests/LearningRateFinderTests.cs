using CharRnn.Engine.Models;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>The learning-rate finder (fastai's lr_find): its rates, its smoothing, its stop rule, its suggestions, and a real search.</summary>
public class LearningRateFinderTests
{
    [Fact]
    public void The_rates_rise_exponentially_from_start_to_end()
    {
        var schedule = new ExponentialSchedule(1e-7, 10, 100);
        var rates = Enumerable.Range(0, 100).Select(schedule.RateAt).ToArray();
        Assert.Equal(1e-7, rates[0]);
        Assert.Equal(10, rates[^1]);
        for (var i = 1; i < rates.Length; i++) Assert.Equal(schedule.Multiplier, rates[i] / rates[i - 1], 9); // the same factor each step
        Assert.Equal(Math.Pow(1e8, 1.0 / 99), schedule.Multiplier, 12);
        Assert.Equal(-2.0, Math.Log10(new ExponentialSchedule(1e-4, 1, 5 * 2 + 1).RateAt(5)), 12); // halfway in steps is halfway in log(lr)
    }

    [Theory]
    [InlineData(1e-3, 1e-3, 100, "start_lr = 0.001 is not allowed; it must be below the end rate (0.001): the rate rises from the start to the end.")]
    [InlineData(1, 1e-3, 100, "start_lr = 1 is not allowed; it must be below the end rate (0.001)")]
    [InlineData(0, 10, 100, "start_lr = 0 is not allowed; it must be above 0")]
    [InlineData(-1e-5, 10, 100, "start_lr = -1E-05 is not allowed; it must be above 0")]
    [InlineData(1e-7, 11, 100, "end_lr = 11 is not allowed; it must be above 0 and at most 10.")]
    [InlineData(1e-7, 10, 9, "steps = 9 is not allowed; it must be from 10 to 10000.")]
    [InlineData(1e-7, 10, 10001, "steps = 10001 is not allowed; it must be from 10 to 10000.")]
    public void A_schedule_that_cannot_search_is_refused_saying_what_is_allowed(double start, double end, int steps, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new ExponentialSchedule(start, end, steps));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void The_loss_is_smoothed_as_fastai_smooths_it()
    {
        double[] losses = [4.2, 3.9, 4.4, 3.1, 2.8, 2.9, 2.5, 7.0];
        var smoothed = new SmoothedLoss();
        // fastai 0.7's fit(): avg_loss = avg_loss * avg_mom + loss * (1-avg_mom); debias_loss = avg_loss / (1 - avg_mom**batch_num)
        double avg = 0;
        for (var n = 1; n <= losses.Length; n++)
        {
            avg = avg * 0.98 + losses[n - 1] * (1 - 0.98);
            Assert.Equal(avg / (1 - Math.Pow(0.98, n)), smoothed.Add(losses[n - 1]), 12);
        }
        var first = new SmoothedLoss();
        Assert.Equal(4.2, first.Add(4.2), 12); // corrected, the first smoothed loss is the first loss
        Assert.Equal((0.98 * 0.02 * 4.2 + 0.02 * 3.9) / (1 - 0.98 * 0.98), first.Add(3.9), 12);
    }

    [Fact]
    public void The_search_stops_once_the_smoothed_loss_passes_four_times_the_best_and_keeps_the_steps_before()
    {
        var curve = new LearningRateCurve();
        var reference = new SmoothedLoss();
        var step = 0;
        for (; step < 15; step++) Assert.True(curve.Add(step, 2.0)); // best 2 from the 12th step
        Assert.Equal(2.0, curve.Best, 12);
        for (var n = 0; n < 15; n++) reference.Add(2.0);
        // Then a loss of 50 a step: the smoothed loss climbs past 8 after some steps, not at the first.
        var expectedStop = 0;
        for (var s = 15; ; s++)
            if (reference.Add(50) > 4 * 2.0) { expectedStop = s; break; }
        Assert.True(expectedStop > 15);
        while (curve.Add(step, 50)) step++;
        Assert.Equal(expectedStop, step);
        Assert.Equal(expectedStop, curve.Points.Count); // the step that ended it is not kept
        Assert.StartsWith($"the smoothed loss ", curve.BlowUp);
        Assert.Contains($"passed 4 × the best 2.000 at step {expectedStop + 1}", curve.BlowUp);
        Assert.Throws<InvalidOperationException>(() => curve.Add(99, 1));
    }

    [Fact]
    public void The_first_steps_set_no_best_so_a_jump_there_does_not_stop_the_search_but_a_NaN_does()
    {
        var curve = new LearningRateCurve();
        Assert.True(curve.Add(1e-5, 0.01));
        for (var i = 0; i < 10; i++) Assert.True(curve.Add(1e-5, 100)); // 10,000 × the first loss, within the first 11 steps
        Assert.Equal(double.PositiveInfinity, curve.Best);
        Assert.True(curve.Add(1e-4, 1));
        Assert.False(curve.Add(1e-3, double.NaN));
        Assert.StartsWith("the loss became NaN at step 13", curve.BlowUp);
        Assert.Equal(12, curve.Points.Count);
    }

    [Fact]
    public void The_suggestions_are_the_steepest_fall_and_the_lowest_loss_over_ten_leaving_out_the_first_ten_and_last_five_steps()
    {
        // Steps 0-9 and 23-27 are left out: a steeper fall (0 to 1) and a lower loss (26) there count for nothing.
        double[] smoothed = [9, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4.9, 4.6, 3.6, 3.0, 2.8, 2.7, 2.65, 2.9, 4, 6, 9, 12, 13, 14, 1, 16];
        var points = smoothed.Select((loss, i) => new LearningRatePoint(1e-6 * Math.Pow(10, i / 4.0), loss, loss)).ToList();
        var suggestion = LearningRateSuggestion.From(points)!;
        Assert.Equal(points[14].Rate, suggestion.SteepestRate); // (3.0 − 4.6) / 2 = −0.8, the most negative central difference
        Assert.Equal(points[18].Rate, suggestion.MinimumLossRate);
        Assert.Equal(points[18].Rate / 10, suggestion.MinimumLossRateOverTen, 15);
        // Too short to leave steps out: all of them are read; under two, nothing is suggested.
        var shortOne = points.Take(16).ToList();
        Assert.Equal(points[0].Rate, LearningRateSuggestion.From(shortOne)!.SteepestRate); // the one-sided difference 5 − 9 at the start
        Assert.Null(LearningRateSuggestion.From(points.Take(1).ToList()));
    }

    [Fact]
    public void A_real_search_on_a_tiny_model_falls_then_blows_up_at_large_rates_and_suggests_a_rate_within_the_range()
    {
        var architecture = Architectures.Get("stateful-gru");
        var options = Tiny.Options() with { ProgressInterval = TimeSpan.Zero }; // a progress report every step: the rate each step trained at
        var schedule = new ExponentialSchedule(1e-2, 10, 40);
        using var finder = new LearningRateFinder(architecture, Tiny.HyperParameters(architecture, hidden: 16, bs: 4), options, Tiny.Corpus(), schedule, CPU);
        var trained = new List<double>();
        finder.Trainer.Progress += p => trained.Add(p.LearningRate);
        var finding = finder.Run();
        Assert.Null(finder.Trainer.Directory); // nothing is saved
        var points = finding.Points;
        Assert.Equal(Enumerable.Range(0, points.Count).Select(schedule.RateAt), points.Select(p => p.Rate));
        Assert.Equal(points.Select(p => p.Rate), trained.Take(points.Count), new Tolerance(1e-12));
        var lowest = points.MinBy(p => p.SmoothedLoss);
        Assert.True(lowest.SmoothedLoss < points[0].SmoothedLoss - 0.5, $"the loss fell: {points[0].SmoothedLoss} to {lowest.SmoothedLoss}");
        Assert.False(finding.Completed, finding.Ended); // at rates near 10 the loss blows up before the 40th step (seen: at step 38, lr 7)
        Assert.StartsWith("the smoothed loss ", finding.Ended);
        Assert.True(points[^1].SmoothedLoss > lowest.SmoothedLoss, "the loss turned up at the end");
        var suggestion = finding.Suggestion!;
        Assert.InRange(suggestion.SteepestRate, schedule.Start, lowest.Rate);
        Assert.InRange(suggestion.MinimumLossRate, schedule.Start, schedule.End);
    }

    [Fact]
    public void A_search_longer_than_an_epoch_goes_on_into_the_next_without_validating_at_its_end()
    {
        // On a small corpus a search crosses epoch ends; a validation pass there cost time and could end the search by the
        // worse-than-guessing check (seq-rnn on 30 KB: "training diverged" at step 54, the smoothed loss far below 4 × its best).
        // fastai's finder sets its validation set aside too.
        var architecture = Architectures.Get("stateful-gru");
        var hyperParameters = Tiny.HyperParameters(architecture, hidden: 16, bs: 4);
        var schedule = new ExponentialSchedule(1e-4, 1e-2, 200);
        using var finder = new LearningRateFinder(architecture, hyperParameters, Tiny.Options(), Tiny.Corpus(), schedule, CPU);
        var batches = finder.Trainer.BatchesInEpoch;
        Assert.InRange(batches, 10, 99); // the search below crosses two epoch ends at least
        var losses = new List<double>();
        var finding = finder.Run(stepped: (_, p) => losses.Add(p.Loss));
        Assert.True(finding.Completed, finding.Ended);
        Assert.Equal(200, finding.Points.Count);
        Assert.True(finder.Trainer.Position.Epoch >= 2, $"epoch {finder.Trainer.Position.Epoch}");
        Assert.Equal(200, finder.Trainer.Position.Step);
        Assert.Empty(finder.Trainer.History); // no epoch was validated or recorded
        Assert.All(losses, l => Assert.InRange(l, 0.01, 10)); // each step's own loss, also the one that ended an epoch and the next one's first
    }

    [Fact]
    public void Rates_given_per_layer_group_scale_together_and_must_each_be_above_zero()
    {
        var finding = new LearningRateFinding([], "", true, null, new LayerGroupValues(1e-4, 1e-3, 2e-3));
        var scaled = finding.RatesAt(1e-2);
        Assert.Equal((1e-3, 1e-2, 2e-2), (Math.Round(scaled.Embedding, 15), scaled.Recurrent, Math.Round(scaled.Output, 15)));
        var architecture = Architectures.Get("stateful-gru");
        var e = Assert.Throws<ArgumentException>(() => new LearningRateFinder(architecture, Tiny.HyperParameters(architecture), Tiny.Options() with { LearningRate = new(0, 1e-3, 1e-3) },
            Tiny.Corpus(), new ExponentialSchedule(1e-7, 10, 10), CPU));
        Assert.StartsWith("lr = 0,0.001,0.001 is not allowed here: the search scales every layer group's rate together", e.Message);
    }

    private sealed class Tolerance(double relative) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= relative * Math.Max(Math.Abs(x), Math.Abs(y));
        public int GetHashCode(double obj) => 0;
    }
}
