using System.Text;
using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>
/// How often batching changes a seeded session's text. Each session generates alone (batches of
/// one), then again alongside the others in one batched step per char. Sampling is per row on the
/// host, so the only way the company can matter is float rounding in the batched matrix products:
/// a draw that lands within rounding distance of a boundary between two chars can flip, and the
/// texts part from there.
/// </summary>
public static class BatchInvarianceBench
{
    public sealed record Result(string Arch, int Sessions, int Chars, int Identical, IReadOnlyList<int> FirstDifferences, double MaxLogitDifference);

    public static Result Run(Corpus corpus, string arch, int sessions, int chars, int threads, int trainSteps)
    {
        set_num_threads(threads);
        var architecture = Architectures.Get("stateful-" + arch);
        var options = new TrainingOptions
        {
            MaxSteps = trainSteps, Lowercase = true, SampleChars = 0,
            LearningRate = LayerGroupValues.All(architecture.DefaultLearningRate),
        };
        // A partly trained model: its distributions are peaked like a real one's, not uniform.
        using var trainer = Trainer.Create(architecture, architecture.Resolve(), options, corpus, BenchDevice.Device, directory: null);
        trainer.Run();
        trainer.Model.eval();
        trainer.Model.PrepareForGeneration(); // as a model loaded to generate is (TrainedModel.Load)
        GenerationSession Open(int i)
        {
            var session = new GenerationSession(trainer.Model, trainer.Vocabulary, new SamplingSettings(Temperature: 1.0, Seed: (ulong)(1000 + i)));
            session.Feed("the ");
            return session;
        }

        var alone = new List<string>();
        var aloneLogits = new List<float[]>();
        for (int i = 0; i < sessions; i++)
        {
            using var session = Open(i);
            alone.Add(string.Concat(session.Generate(chars).Select(c => c.Text)));
            aloneLogits.Add(session.NextLogits.ToArray());
        }
        var group = Enumerable.Range(0, sessions).Select(Open).ToList();
        var together = group.Select(_ => new StringBuilder()).ToList();
        for (int step = 0; step < chars; step++)
        {
            var picked = GenerationStep.Advance(group);
            for (int i = 0; i < sessions; i++) together[i].Append(picked[i].Text);
        }
        // Where the texts agree, the distributions after them show how far rounding moved the batched math.
        double maxLogitDifference = 0;
        for (int i = 0; i < sessions; i++)
            if (alone[i] == together[i].ToString())
                for (int v = 0; v < aloneLogits[i].Length; v++)
                {
                    float a = aloneLogits[i][v], b = group[i].NextLogits[v];
                    if (a != b) maxLogitDifference = Math.Max(maxLogitDifference, Math.Abs(a - b)); // equal covers padding's -inf on both sides (its difference is NaN)
                }
        group.ForEach(s => s.Dispose());

        var firstDifferences = new List<int>();
        for (int i = 0; i < sessions; i++)
        {
            var a = alone[i];
            var b = together[i].ToString();
            var at = Enumerable.Range(0, Math.Min(a.Length, b.Length)).FirstOrDefault(k => a[k] != b[k], -1);
            if (at >= 0 || a.Length != b.Length) firstDifferences.Add(at >= 0 ? at : Math.Min(a.Length, b.Length));
        }
        var result = new Result(arch, sessions, chars, sessions - firstDifferences.Count, firstDifferences, maxLogitDifference);
        Console.WriteLine($"  invariance {arch}: {result.Identical} of {sessions} texts identical alone and batched ({chars} chars each); largest logit difference {maxLogitDifference:G3}");
        return result;
    }
}
