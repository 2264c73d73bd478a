using System.Diagnostics;
using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>Engine generation: per-char step latency for one session, and chars/s with many sessions stepped together.</summary>
public sealed class GenerationBench(Corpus corpus, PyTorchReference? pytorch, int runs, double seconds)
{
    public sealed record Result(string Arch, int Sessions, int Threads, Stats StepSeconds, Stats CharsPerSecond, Stats PyTorchStepSeconds, Stats PyTorchCharsPerSecond);

    public List<Result> Run(string[] archs, int[] sessionCounts, int threads)
    {
        set_num_threads(threads);
        var vocabulary = Vocabulary.Build(corpus.Text, lowercase: true);
        var results = new List<Result>();
        foreach (var arch in archs)
        {
            var architecture = Architectures.Get("stateful-" + arch);
            manual_seed(0);
            using var model = architecture.Create(architecture.Resolve(), vocabulary.Size, BenchDevice.Device.type);
            model.to(BenchDevice.Device);
            model.eval();
            foreach (var count in sessionCounts)
            {
                var step = new List<double>();
                var rate = new List<double>();
                var pyStep = new List<double>();
                var pyRate = new List<double>();
                for (int run = 0; run < runs; run++)
                {
                    var sessions = Enumerable.Range(0, count)
                        .Select(i => new GenerationSession(model, vocabulary, new SamplingSettings(Temperature: 0.8, Seed: (ulong)i))).ToList();
                    foreach (var s in sessions) s.Feed("the ");
                    for (int i = 0; i < 3; i++) GenerationStep.Advance(sessions);
                    var clock = Stopwatch.StartNew();
                    long steps = 0;
                    while (clock.Elapsed.TotalSeconds < seconds || steps < 3)
                    {
                        GenerationStep.Advance(sessions);
                        steps++;
                    }
                    step.Add(clock.Elapsed.TotalSeconds / steps);
                    rate.Add(steps * count / clock.Elapsed.TotalSeconds);
                    sessions.ForEach(s => s.Dispose());
                    if (count is 1 or 64 && pytorch?.Generate(arch, count, threads, seconds) is { } json)
                    {
                        pyStep.Add(json.GetProperty("seconds_per_step").GetDouble());
                        pyRate.Add(json.GetProperty("chars_per_second").GetDouble());
                    }
                }
                var result = new Result(arch, count, threads, new Stats(step), new Stats(rate), new Stats(pyStep), new Stats(pyRate));
                Console.WriteLine($"  generate {arch} × {count}: {result.StepSeconds.Median * 1e3:F3} ms/step, {result.CharsPerSecond.Format(" c/s")} · PyTorch {result.PyTorchCharsPerSecond.Format(" c/s")}");
                results.Add(result);
            }
        }
        return results;
    }
}
