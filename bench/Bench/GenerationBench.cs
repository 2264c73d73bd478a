using System.Diagnostics;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>
/// Engine generation: per-char step latency for one session, and chars/s with many sessions
/// stepped together, each step on the thread count the server's <see cref="StepThreadTuner"/>
/// picks for it (one model's tuner is kept across runs, as the server keeps it). Each run measures every
/// session count in turn (1, 8, 64, 256, then the next run), so a ratio to one session is taken
/// within a run: the host's fast and slow phases, which last minutes and move whole runs, cancel
/// there instead of landing on one count.
/// </summary>
public sealed class GenerationBench(Corpus corpus, PyTorchReference? pytorch, int runs, double seconds)
{
    /// <param name="TimesOne">Run by run: this count's chars/s over one session's in the same run.</param>
    /// <param name="LatencyVsPyTorch">Run by run: the engine's step time over PyTorch's, taken right after it.</param>
    /// <param name="StepThreads">The thread counts the tuner ran most of each run's steps on, as "1" or "1, 2".</param>
    public sealed record Result(string Arch, int Sessions, int Threads, Stats StepSeconds, Stats CharsPerSecond, Stats PyTorchStepSeconds,
        Stats PyTorchCharsPerSecond, Stats TimesOne, Stats LatencyVsPyTorch, string StepThreads);

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
            model.PrepareForGeneration(); // as a model loaded to generate is (TrainedModel.Load)
            var step = sessionCounts.ToDictionary(c => c, _ => new List<double>());
            var rate = sessionCounts.ToDictionary(c => c, _ => new List<double>());
            var pyStep = sessionCounts.ToDictionary(c => c, _ => new List<double>());
            var pyRate = sessionCounts.ToDictionary(c => c, _ => new List<double>());
            var timesOne = sessionCounts.ToDictionary(c => c, _ => new List<double>());
            var vsPyTorch = sessionCounts.ToDictionary(c => c, _ => new List<double>());
            var stepThreads = sessionCounts.ToDictionary(c => c, _ => new SortedSet<int>());
            var tuner = StepThreadTuner.ForDevice(BenchDevice.Device.type, threads); // as the server makes it
            MklProductThreads.Count = threads; // as the server's device loop sets it
            for (int run = 0; run < runs; run++)
            {
                foreach (var count in sessionCounts)
                {
                    // PyTorch keeps all threads, its faster setting (its LSTM batch of one: 0.80 ms on two, 1.31 on one).
                    var (seconds1, rate1, usedThreads) = Measure(model, vocabulary, count, seconds, tuner);
                    set_num_threads(threads);
                    stepThreads[count].Add(usedThreads);
                    step[count].Add(seconds1);
                    rate[count].Add(rate1);
                    timesOne[count].Add(rate1 / rate[1][run]);
                    if (count is 1 or 64 && pytorch?.Generate(arch, count, threads, seconds, vocabulary.Size) is { } json)
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
                    new Stats(pyRate[count]), new Stats(timesOne[count]), new Stats(vsPyTorch[count]), string.Join(", ", stepThreads[count]));
                Console.WriteLine($"  generate {arch} × {count}: {result.StepSeconds.Median * 1e3:F3} ms/step on {result.StepThreads} thread(s), {result.CharsPerSecond.Format(" c/s")}, " +
                    $"{result.TimesOne.Format("×", 2)} one session · PyTorch {result.PyTorchCharsPerSecond.Format(" c/s")}");
                results.Add(result);
            }
        }
        return results;
    }

    /// <summary>
    /// Seconds per batched step and chars/s of <paramref name="count"/> fresh sessions over about
    /// <c>seconds</c>, each step on the thread count <paramref name="tuner"/> gives it, as the
    /// server's device loop steps them (its first trials, if it has not tried this kind of step
    /// yet, come before the clock starts). Also the thread count most timed steps ran on. Leaves
    /// libtorch on whatever count the last step took.
    /// </summary>
    public static (double SecondsPerStep, double CharsPerSecond, int Threads) Measure(CharModel model, Vocabulary vocabulary, int count, double seconds,
        StepThreadTuner tuner)
    {
        var sessions = Enumerable.Range(0, count)
            .Select(i => new GenerationSession(model, vocabulary, new SamplingSettings(Temperature: 0.8, Seed: (ulong)i))).ToList();
        var stepsOn = new Dictionary<int, long>();
        void Step()
        {
            int threads = tuner.Choose(model, count);
            if (threads != get_num_threads()) set_num_threads(threads);
            var started = Stopwatch.GetTimestamp();
            GenerationStep.Advance(sessions);
            tuner.Record(model, count, threads, Stopwatch.GetElapsedTime(started));
            stepsOn[threads] = stepsOn.GetValueOrDefault(threads) + 1;
        }
        try
        {
            foreach (var s in sessions) s.Feed("the ");
            for (int i = 0; i < 3 || tuner.Chosen(model, count) == null; i++) Step();
            stepsOn.Clear();
            var clock = Stopwatch.StartNew();
            long steps = 0;
            while (clock.Elapsed.TotalSeconds < seconds || steps < 3)
            {
                Step();
                steps++;
            }
            return (clock.Elapsed.TotalSeconds / steps, steps * count / clock.Elapsed.TotalSeconds, stepsOn.MaxBy(kv => kv.Value).Key);
        }
        finally
        {
            sessions.ForEach(s => s.Dispose());
        }
    }
}
