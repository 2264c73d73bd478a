using CharRnn.Engine.Models;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>
/// What bf16 generation costs in quality: the lesson's stateful-lstm (n_fac 42, 512 × 2), trained briefly
/// on lowercased Nietzsche, scores held-out text (the start of the last 20%, which it never trains on)
/// fed as a prime, once prepared in float32 and once in bf16: nats per char of each.
/// </summary>
public static class Bf16QualityBench
{
    /// <param name="TrainedSeconds">How long the model trained.</param>
    /// <param name="Steps">Its optimizer steps.</param>
    public sealed record Result(double TrainedSeconds, long Steps, int Chars, double Float32NatsPerChar, double Bf16NatsPerChar);

    public static Result Run(Engine.Text.Corpus corpus, TimeSpan training, int heldOutChars, int threads)
    {
        set_num_threads(threads);
        var architecture = Architectures.Get("stateful-lstm");
        var options = new TrainingOptions
        {
            Epochs = 1,
            Lowercase = true,
            LearningRate = LayerGroupValues.All(architecture.DefaultLearningRate),
            WeightDecay = LayerGroupValues.All(architecture.DefaultWeightDecay),
            SampleChars = 0,
            Seed = 1,
        };
        using var trainer = Trainer.Create(architecture, architecture.Resolve(), options, corpus, BenchDevice.Device, directory: null);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long steps = 0;
        while (clock.Elapsed < training && !trainer.IsComplete)
        {
            trainer.Step();
            steps++;
        }
        var trainedSeconds = clock.Elapsed.TotalSeconds;
        var model = trainer.Model;
        model.eval();
        var start = TrainingData.ValidationStartIndex(corpus.Text, options.ValidFraction);
        var text = Engine.Text.KnownText.Of(trainer.Vocabulary, corpus.Text[start..][..Math.Min(heldOutChars, corpus.Text.Length - start)]).Text;
        double NatsPerChar(GenerationPrecision precision)
        {
            model.PrepareForGeneration(precision);
            using var session = new Engine.Sampling.GenerationSession(model, trainer.Vocabulary, Engine.Sampling.SamplingSettings.Greedy);
            return session.Feed(text).Loss;
        }
        var result = new Result(trainedSeconds, steps, text.Length, NatsPerChar(GenerationPrecision.Float32), NatsPerChar(GenerationPrecision.BFloat16));
        Console.WriteLine($"  bf16 quality: {steps} steps in {trainedSeconds:F0} s; {text.Length} held-out chars: float32 {result.Float32NatsPerChar:F5}, bf16 {result.Bf16NatsPerChar:F5} nats/char");
        return result;
    }
}
