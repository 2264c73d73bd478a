using System.Diagnostics;
using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>
/// Engine generation: per-char step latency for one session, and chars/s with many sessions
/// stepped together (one session on one thread, as the server runs it). Each run measures every
/// session count in turn (1, 8, 64, 256, then the next run), so a ratio to one session is taken
/// within a run: the host's fast and slow phases, which last minutes and move whole runs, cancel
/// there instead of landing on one count.
/// </summary>
public sealed class GenerationBench(Corpus corpus, PyTorchReference? pytorch, int runs, double seconds)
{
    /// <param name="TimesOne">Run by run: this count's chars/s over one session's in the same run.</param>
    /// <param name="LatencyVsPyTorch">Run by run: the engine's step time over PyTorch's, taken right after it.</param>
    public sealed record Result(string Arch, int Sessions, int Threads, Stats StepSeconds, Stats CharsPerSecond, Stats PyTorchStepSeconds,
        Stats PyTorchCharsPerSecond, Stats TimesOne, Stats LatencyVsPyTorch);

    public List<Result> Run(string[] archs, int[] sessionCounts, int threads)
    {
        if (sessionCounts[0] != 1) throw new ArgumentException("The first session count must be 1: the others are taken against it.", nameof(sessionCounts));
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
            var step = sessionCounts.ToDictionary(c => c, _ => new List<double>());
            var rate = sessionCounts.ToDictionary(c => c, _ => new List<double>());
            var pyStep = sessionCounts.ToDictionary(c => c, _ => new List<double>());
            var pyRate = sessionCounts.ToDictionary(c => c, _ => new List<double>());
            var timesOne = sessionCounts.ToDictionary(c => c, _ => new List<double>());
            var vsPyTorch = sessionCounts.ToDictionary(c => c, _ => new List<double>());
            for (int run = 0; run < runs; run++)
            {
                foreach (var count in sessionCounts)
                {
                    // One session on one thread, as the server steps it (DeviceWorker.UseThreads): its
                    // matrix-vector products run faster there than split over two. PyTorch keeps all
                    // threads: its batch of one was slower on one (LSTM 1.31 against 0.80 ms here).
                    var countThreads = count == 1 ? 1 : threads;
                    set_num_threads(countThreads);
                    var (seconds1, rate1) = Measure(model, vocabulary, count, seconds);
                    step[count].Add(seconds1);
                    rate[count].Add(rate1);
                    timesOne[count].Add(rate1 / rate[1][run]);
                    if (count is 1 or 64 && pytorch?.Generate(arch, count, threads, seconds) is { } json)
                    {
                        var pySeconds = json.GetProperty("seconds_per_step").GetDouble();
                        pyStep[count].Add(pySeconds);
                        pyRate[count].Add(json.GetProperty("chars_per_second").GetDouble());
                        vsPyTorch[count].Add(seconds1 / pySeconds);
                    }
                }
            }
            set_num_threads(threads);
            foreach (var count in sessionCounts)
            {
                var result = new Result(arch, count, threads, new Stats(step[count]), new Stats(rate[count]), new Stats(pyStep[count]),
                    new Stats(pyRate[count]), new Stats(timesOne[count]), new Stats(vsPyTorch[count]));
                Console.WriteLine($"  generate {arch} × {count}: {result.StepSeconds.Median * 1e3:F3} ms/step, {result.CharsPerSecond.Format(" c/s")}, " +
                    $"{result.TimesOne.Format("×", 2)} one session · PyTorch {result.PyTorchCharsPerSecond.Format(" c/s")}");
                results.Add(result);
            }
        }
        return results;
    }

    /// <summary>Seconds per batched step and chars/s of <paramref name="count"/> fresh sessions over about <c>seconds</c>.</summary>
    public static (double SecondsPerStep, double CharsPerSecond) Measure(CharModel model, Vocabulary vocabulary, int count, double seconds)
    {
        var sessions = Enumerable.Range(0, count)
            .Select(i => new GenerationSession(model, vocabulary, new SamplingSettings(Temperature: 0.8, Seed: (ulong)i))).ToList();
        try
        {
            foreach (var s in sessions) s.Feed("the ");
            for (int i = 0; i < 3; i++) GenerationStep.Advance(sessions);
            var clock = Stopwatch.StartNew();
            long steps = 0;
            while (clock.Elapsed.TotalSeconds < seconds || steps < 3)
            {
                GenerationStep.Advance(sessions);
                steps++;
            }
            return (clock.Elapsed.TotalSeconds / steps, steps * count / clock.Elapsed.TotalSeconds);
        }
        finally
        {
            sessions.ForEach(s => s.Dispose());
        }
    }
}
