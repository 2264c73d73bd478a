using System.Diagnostics;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>
/// The LSTM's generation steps with and without MKL-packed weights, side by side: two copies of
/// one model (the same weights), one prepared to generate as a loaded model is, one not. Each
/// side runs whole batched steps (sampling included) on each of libtorch's thread counts, the
/// packed side with its products on every thread as the server runs it and the unpacked side
/// both ways (products on libtorch's count, as before packing, and on every thread), so that
/// the speed-up is the packing's, not the thread split's; configurations alternate round by
/// round, and each round's ratio is the best unpacked time over the best packed one.
/// </summary>
public static class PackedWeightsBench
{
    public sealed record Result(int Sessions, Stats Unpacked, Stats Packed, Stats Speedup);

    public static IReadOnlyList<Result> Run(Corpus corpus, IReadOnlyList<int> sessionCounts, int threads, int rounds, double secondsPerRound)
    {
        var vocabulary = Vocabulary.Build(corpus.Text, lowercase: true);
        var architecture = Architectures.Get("stateful-lstm");
        manual_seed(0);
        using var unpacked = architecture.Create(architecture.Resolve(), vocabulary.Size);
        using var packed = architecture.Create(architecture.Resolve(), vocabulary.Size);
        packed.load_state_dict(unpacked.state_dict());
        unpacked.eval();
        packed.eval();
        packed.PrepareForGeneration();
        var counts = StepThreadTuner.CandidatesUpTo(threads);
        var configs = counts.Select(t => (Packed: false, Threads: t, ProductsOnAll: false))
            .Concat(counts.Select(t => (Packed: false, Threads: t, ProductsOnAll: true)))
            .Concat(counts.Select(t => (Packed: true, Threads: t, ProductsOnAll: true))).ToArray();
        var results = new List<Result>();
        try
        {
            foreach (var n in sessionCounts)
            {
                var sessions = new[] { unpacked, packed }.ToDictionary(m => m, m => Enumerable.Range(0, n).Select(i =>
                {
                    var s = new GenerationSession(m, vocabulary, new SamplingSettings(Temperature: 0.8, Seed: (ulong)i));
                    s.Feed("the ");
                    return s;
                }).ToList());
                var best = new List<(double Unpacked, double Packed)>();
                for (int round = 0; round < rounds; round++)
                {
                    var times = new Dictionary<(bool Packed, int Threads, bool ProductsOnAll), double>();
                    foreach (var c in round % 2 == 0 ? configs : configs.Reverse())
                    {
                        set_num_threads(c.Threads);
                        MklProductThreads.Count = c.ProductsOnAll ? threads : 0;
                        var group = sessions[c.Packed ? packed : unpacked];
                        for (int i = 0; i < 3; i++) GenerationStep.Advance(group);
                        var clock = Stopwatch.StartNew();
                        long steps = 0;
                        while (clock.Elapsed.TotalSeconds < secondsPerRound / configs.Length || steps < 3)
                        {
                            GenerationStep.Advance(group);
                            steps++;
                        }
                        times[c] = clock.Elapsed.TotalSeconds / steps;
                    }
                    best.Add((times.Where(t => !t.Key.Packed).Min(t => t.Value), times.Where(t => t.Key.Packed).Min(t => t.Value)));
                }
                foreach (var s in sessions.Values.SelectMany(x => x)) s.Dispose();
                var result = new Result(n, new Stats(best.Select(b => b.Unpacked * 1e3)), new Stats(best.Select(b => b.Packed * 1e3)), new Stats(best.Select(b => b.Unpacked / b.Packed)));
                Console.WriteLine($"  packed lstm × {n}: {result.Packed.Median:F3} against {result.Unpacked.Median:F3} ms a step, {result.Speedup.Format("×", 2)}");
                results.Add(result);
            }
        }
        finally
        {
            set_num_threads(threads);
            MklProductThreads.Count = 0;
        }
        return results;
    }

    public sealed record PackingCost(int Rows, Stats Packing, Stats Product);

    /// <summary>
    /// What a new batch size costs a weight the size of the LSTM's recurrent one (2048 × 512): the
    /// product that makes its packed copy (MKL's pack and the copy's check against torch's product)
    /// against a product through the copy once made, each the median of <paramref name="rounds"/>.
    /// </summary>
    public static IReadOnlyList<PackingCost> Costs(IReadOnlyList<int> rowCounts, int threads, int rounds)
    {
        MklProductThreads.Count = threads;
        set_num_threads(threads);
        manual_seed(0);
        using var weight = randn(2048, 512);
        using var packed = MklPackedWeight.TryCreate(weight) ?? throw new InvalidOperationException("MKL's packed GEMM is not available here.");
        var costs = new List<PackingCost>();
        try
        {
            foreach (var rows in rowCounts)
            {
                using var x = randn(rows, 512);
                using var output = empty(rows, 2048);
                var packing = new List<double>();
                var product = new List<double>();
                for (int round = 0; round < rounds; round++)
                {
                    packed.DropPacks();
                    for (int i = 0; i < MklPackedWeight.SightingsToPack; i++) packed.MultiplyInto(x, output, accumulate: false); // torch's
                    var clock = Stopwatch.StartNew();
                    packed.MultiplyInto(x, output, accumulate: false); // packs, checks, multiplies
                    packing.Add(clock.Elapsed.TotalMilliseconds);
                    for (int i = 0; i < 3; i++) packed.MultiplyInto(x, output, accumulate: false);
                    clock.Restart();
                    for (int i = 0; i < 20; i++) packed.MultiplyInto(x, output, accumulate: false);
                    product.Add(clock.Elapsed.TotalMilliseconds / 20);
                }
                var cost = new PackingCost(rows, new Stats(packing), new Stats(product));
                Console.WriteLine($"  packing for {rows} row(s): {cost.Packing.Median:F2} ms, a packed product then {cost.Product.Median:F3} ms");
                costs.Add(cost);
            }
        }
        finally
        {
            MklProductThreads.Count = 0;
        }
        return costs;
    }
}
