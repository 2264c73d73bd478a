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
/// there instead of landing on one count. The LSTM, where bf16 products are offered
/// (<see cref="GenerationPrecisions.WhyUnavailable"/>), is measured twice at each count, a float32
/// copy and a bf16 copy of the same weights one right after the other (A/B interleaved), each
/// against its own one-session rate.
/// </summary>
public sealed class GenerationBench(Corpus corpus, PyTorchReference? pytorch, int runs, double seconds)
{
    /// <param name="TimesOne">Run by run: this count's chars/s over one session's in the same run.</param>
    /// <param name="LatencyVsPyTorch">Run by run: the engine's step time over PyTorch's, taken right after it.</param>
    /// <param name="StepThreads">The thread counts the tuner ran most of each run's steps on, as "1" or "1, 2".</param>
    public sealed record Result(string Arch, GenerationPrecision Precision, int Sessions, int Threads, Stats StepSeconds, Stats CharsPerSecond, Stats PyTorchStepSeconds,
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
            var precisions = new List<GenerationPrecision> { GenerationPrecision.Float32 };
            if (arch == "lstm" && GenerationPrecisions.WhyUnavailable(GenerationPrecision.BFloat16, BenchDevice.Device.type) == null) precisions.Add(GenerationPrecision.BFloat16);
            var models = precisions.Select(precision =>
            {
                manual_seed(0); // the same weights in each
                var made = architecture.Create(architecture.Resolve(), vocabulary.Size, BenchDevice.Device.type);
                made.to(BenchDevice.Device);
                made.eval();
                made.PrepareForGeneration(precision); // as a model loaded to generate is (TrainedModel.Load)
                return made;
            }).ToList();
            try
            {
                results.AddRange(RunModels(arch, precisions, models, vocabulary, sessionCounts, threads));
            }
            finally { models.ForEach(m => m.Dispose()); }
        }
        return results;
    }

    /// <summary>Every run: each session count, each precision's model at it in turn.</summary>
    private List<Result> RunModels(string arch, List<GenerationPrecision> precisions, List<CharModel> models, Vocabulary vocabulary, int[] sessionCounts, int threads)
    {
        var results = new List<Result>();
        var keys = precisions.SelectMany(p => sessionCounts.Select(c => (p, c))).ToList();
        var step = keys.ToDictionary(k => k, _ => new List<double>());
        var rate = keys.ToDictionary(k => k, _ => new List<double>());
        var pyStep = keys.ToDictionary(k => k, _ => new List<double>());
        var pyRate = keys.ToDictionary(k => k, _ => new List<double>());
        var timesOne = keys.ToDictionary(k => k, _ => new List<double>());
        var vsPyTorch = keys.ToDictionary(k => k, _ => new List<double>());
        var stepThreads = keys.ToDictionary(k => k, _ => new SortedSet<int>());
        var tuner = StepThreadTuner.ForDevice(BenchDevice.Device.type, threads); // as the server makes it
        MklProductThreads.Count = threads; // as the server's device loop sets it
        for (int run = 0; run < runs; run++)
        {
            foreach (var count in sessionCounts)
            foreach (var (precision, model) in precisions.Zip(models))
            {
                var key = (precision, count);
                // PyTorch keeps all threads, its faster setting (its LSTM batch of one: 0.80 ms on two, 1.31 on one).
                var (seconds1, rate1, usedThreads) = Measure(model, vocabulary, count, seconds, tuner);
                set_num_threads(threads);
                stepThreads[key].Add(usedThreads);
                step[key].Add(seconds1);
                rate[key].Add(rate1);
                timesOne[key].Add(rate1 / rate[(precision, 1)][run]);
                if (precision == GenerationPrecision.Float32 && count is 1 or 64 && pytorch?.Generate(arch, count, threads, seconds, vocabulary.Size) is { } json)
                {
                    var pySeconds = json.GetProperty("seconds_per_step").GetDouble();
                    pyStep[key].Add(pySeconds);
                    pyRate[key].Add(json.GetProperty("chars_per_second").GetDouble());
                    vsPyTorch[key].Add(seconds1 / pySeconds);
                }
            }
        }
        set_num_threads(threads);
        foreach (var key in keys)
        {
            var (precision, count) = key;
            var result = new Result(arch, precision, count, threads, new Stats(step[key]), new Stats(rate[key]), new Stats(pyStep[key]),
                new Stats(pyRate[key]), new Stats(timesOne[key]), new Stats(vsPyTorch[key]), string.Join(", ", stepThreads[key]));
            Console.WriteLine($"  generate {arch} ({GenerationPrecisions.Name(precision)}) × {count}: {result.StepSeconds.Median * 1e3:F3} ms/step on {result.StepThreads} thread(s), {result.CharsPerSecond.Format(" c/s")}, " +
                $"{result.TimesOne.Format("×", 2)} one session · PyTorch {result.PyTorchCharsPerSecond.Format(" c/s")}");
            results.Add(result);
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
