using System.Diagnostics;
using System.Globalization;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>Validation loss of the stateful LSTM on lowercased Nietzsche (last 20%) against wall-clock training time.</summary>
public static class QualityBench
{
    public sealed record Point(int Epoch, double Seconds, double ValidLoss, double LearningRate);

    public sealed record Plan(int Epochs, string Schedule, double CalibratedCharsPerSecond);

    /// <summary>
    /// With a time budget the best schedule anneals to zero as the budget runs out, so the run is
    /// one cosine cycle over as many whole epochs as fit (measured from a short calibration run of
    /// a throw-away model). A slow phase of the host cuts the cycle's flat tail, not its middle.
    /// </summary>
    public static Plan PlanEpochs(Corpus corpus, TimeSpan budget, int threads, IReadOnlyDictionary<string, double> hyperParameters)
    {
        set_num_threads(threads);
        var architecture = Architectures.Get("stateful-lstm");
        using var trainer = Trainer.Create(architecture, architecture.Resolve(hyperParameters), Options(1, "constant", null), corpus, BenchDevice.Device, directory: null);
        for (int i = 0; i < 10; i++) trainer.Step();
        BenchDevice.Synchronize();
        var clock = Stopwatch.StartNew();
        const int timedSteps = 60;
        for (int i = 0; i < timedSteps; i++) trainer.Step();
        BenchDevice.Synchronize();
        var secondsPerStep = clock.Elapsed.TotalSeconds / timedSteps;
        // Validation reads a quarter as many characters as training, forward only (about a third of the cost).
        var secondsPerEpoch = secondsPerStep * trainer.BatchesInEpoch * (1 + 0.25 / 3);
        var epochs = Math.Max(1, (int)Math.Floor(budget.TotalSeconds * 0.97 / secondsPerEpoch));
        var charsPerStep = hyperParameters.GetValueOrDefault("bptt", 8) * hyperParameters.GetValueOrDefault("bs", 64);
        return new Plan(epochs, $"sgdr:cycle_len={epochs.ToString(CultureInfo.InvariantCulture)},cycle_mult=1", charsPerStep / secondsPerStep);
    }

    public static List<Point> Run(Corpus corpus, TimeSpan budget, int threads, IReadOnlyDictionary<string, double> hyperParameters, Plan plan)
    {
        set_num_threads(threads);
        var architecture = Architectures.Get("stateful-lstm");
        using var trainer = Trainer.Create(architecture, architecture.Resolve(hyperParameters), Options(plan.Epochs, plan.Schedule, budget), corpus, BenchDevice.Device, directory: null);
        var points = new List<Point>();
        trainer.EpochEnded += e =>
        {
            points.Add(new Point(e.Epoch, e.ElapsedSeconds, e.ValidLoss, e.LearningRate));
            Console.WriteLine($"  quality: epoch {e.Epoch} at {e.ElapsedSeconds / 60:F1} min: validation loss {e.ValidLoss:F4}");
        };
        var outcome = trainer.Run();
        Console.WriteLine($"  quality: {outcome.Kind}: {outcome.Reason}");
        return points;
    }

    private static TrainingOptions Options(int epochs, string schedule, TimeSpan? budget)
    {
        var architecture = Architectures.Get("stateful-lstm");
        return new TrainingOptions
        {
            Epochs = epochs,
            Lowercase = true,
            Schedule = schedule,
            LearningRate = LayerGroupValues.All(architecture.DefaultLearningRate),
            WeightDecay = LayerGroupValues.All(architecture.DefaultWeightDecay),
            TimeBudget = budget,
            SampleChars = 0,
        };
    }
}
