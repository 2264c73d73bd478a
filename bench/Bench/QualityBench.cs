using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>Validation loss of the stateful LSTM on lowercased Nietzsche (last 20%) against wall-clock training time.</summary>
public static class QualityBench
{
    public sealed record Point(int Epoch, double Seconds, double ValidLoss);

    public static List<Point> Run(Corpus corpus, TimeSpan budget, int threads, int bptt, string schedule)
    {
        set_num_threads(threads);
        var architecture = Architectures.Get("stateful-lstm");
        var hp = architecture.Resolve(new Dictionary<string, double> { ["bptt"] = bptt });
        var options = new TrainingOptions
        {
            Epochs = 1000,
            Lowercase = true,
            Schedule = schedule,
            LearningRate = LayerGroupValues.All(architecture.DefaultLearningRate),
            WeightDecay = LayerGroupValues.All(architecture.DefaultWeightDecay),
            TimeBudget = budget,
            SampleChars = 0,
        };
        using var trainer = Trainer.Create(architecture, hp, options, corpus, BenchDevice.Device, directory: null);
        var points = new List<Point>();
        trainer.EpochEnded += e =>
        {
            points.Add(new Point(e.Epoch, e.ElapsedSeconds, e.ValidLoss));
            Console.WriteLine($"  quality: epoch {e.Epoch} at {e.ElapsedSeconds / 60:F1} min: validation loss {e.ValidLoss:F4}");
        };
        trainer.Run();
        return points;
    }
}
