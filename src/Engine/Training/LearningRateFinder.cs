using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training;

/// <summary>What a learning-rate search found: its steps, why it ended, and what it suggests (null with under 2 steps).</summary>
/// <param name="Rates">The options' rates per layer group that the search scaled together: the points' rates are the recurrent group's.</param>
public sealed record LearningRateFinding(IReadOnlyList<LearningRatePoint> Points, string Ended, bool Completed,
    LearningRateSuggestion? Suggestion, LayerGroupValues Rates)
{
    /// <summary>Every group's rate when the recurrent group's is <paramref name="rate"/>, in the ratio the search kept.</summary>
    public LayerGroupValues RatesAt(double rate) =>
        new(Rates.Embedding * rate / Rates.Recurrent, rate, Rates.Output * rate / Rates.Recurrent);
}

/// <summary>
/// fastai's learning-rate finder (learn.lr_find()): trains a fresh model, never saved, one batch a step with the rate
/// rising exponentially (<see cref="ExponentialSchedule"/>), records the smoothed loss (<see cref="LearningRateCurve"/>)
/// until it blows up or the steps run out, and reads the curve (<see cref="LearningRateSuggestion"/>). The options'
/// rates per layer group keep their ratio: the recurrent group's follows the schedule, the others scale with it.
/// </summary>
public sealed class LearningRateFinder : IDisposable
{
    private readonly Trainer _trainer;
    private readonly ExponentialSchedule _schedule;

    public LearningRateFinder(Architecture architecture, HyperParameters hyperParameters, TrainingOptions options,
        Corpus corpus, ExponentialSchedule schedule, Device device)
    {
        var rates = options.LearningRate;
        if (!(rates.Embedding > 0 && rates.Recurrent > 0 && rates.Output > 0))
            throw new ArgumentException($"lr = {rates} is not allowed here: the search scales every layer group's rate together from their ratio, so each must be above 0 (e.g. 1e-3, or 1e-4,1e-3,1e-3).");
        _schedule = schedule;
        // Epochs with no end in sight (the search counts its own steps), no sample at an epoch's end, no folder: nothing is saved.
        _trainer = Trainer.Create(architecture, hyperParameters,
            options with { Epochs = TrainingOptions.MaxEpochs, MaxSteps = 0, TimeBudget = null, Schedule = "constant", SampleChars = 0, KeepCycleCheckpoints = false },
            corpus, device, directory: null);
    }

    public Trainer Trainer => _trainer;

    /// <summary>
    /// Runs the search to its end, the curve's blow-up, a diverged trainer, or <paramref name="cancellation"/>
    /// (checked between steps); <paramref name="stepped"/> hears of each step kept.
    /// </summary>
    public LearningRateFinding Run(CancellationToken cancellation = default, Action<int, LearningRatePoint>? stepped = null)
    {
        var curve = new LearningRateCurve();
        var rates = _trainer.Options.LearningRate;
        string? ended = null;
        for (var step = 0; step < _schedule.Steps && ended == null; step++)
        {
            if (cancellation.IsCancellationRequested) { ended = $"stopped on request after {step} steps"; break; }
            var rate = _schedule.RateAt(step);
            double loss;
            try { loss = _trainer.StepAtFactor(rate / rates.Recurrent); }
            catch (TrainingDivergedException) // its message is for a run to resume: here the rate is simply past use
            {
                ended = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"training diverged at step {step + 1} (lr {rate:G3})");
                break;
            }
            if (!curve.Add(rate, loss)) ended = curve.BlowUp;
            else stepped?.Invoke(step + 1, curve.Points[^1]);
        }
        var completed = ended == null;
        return new LearningRateFinding(curve.Points, ended ?? $"ran all {_schedule.Steps} steps", completed,
            LearningRateSuggestion.From(curve.Points), rates);
    }

    public void Dispose() => _trainer.Dispose();
}
