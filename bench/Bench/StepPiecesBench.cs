using System.Diagnostics;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>
/// What a training step costs when the server cuts it into pieces so that streams generate
/// between them (stream models are cut in time: forward segments, then backward segments):
/// the pieces' total against the same trainer's whole steps, interleaved a few steps at a time, and the
/// longest single call, which is what a stream waits for.
/// </summary>
public static class StepPiecesBench
{
    public sealed record Result(string Arch, int Pieces, Stats WholeMs, Stats TotalOverWhole, Stats LongestCallMs, int Calls);

    public static List<Result> Run(Corpus corpus, string arch, int threads, int[] pieceCounts, int rounds)
    {
        set_num_threads(threads);
        var architecture = Architectures.Get("stateful-" + arch);
        // Fixed bptt: whole steps and steps in pieces are timed on different batches, which must be the same length.
        using var trainer = Trainer.Create(architecture, architecture.Resolve(new Dictionary<string, double> { ["random_bptt"] = 0 }),
            new TrainingOptions { Epochs = 1000, Lowercase = true, SampleChars = 0 }, corpus, BenchDevice.Device, null);
        var whole = new List<double>();
        var ratios = pieceCounts.ToDictionary(p => p, _ => new List<double>());
        var longest = pieceCounts.ToDictionary(p => p, _ => new List<double>());
        var calls = pieceCounts.ToDictionary(p => p, _ => 0);
        for (int i = 0; i < 3; i++) Steps(trainer, 1, 1, out _, out _); // warm-up
        for (int round = 0; round < rounds; round++)
        {
            var wholeMs = Steps(trainer, 1, StepsPerRound, out _, out _) / StepsPerRound;
            whole.Add(wholeMs);
            foreach (var p in pieceCounts)
            {
                ratios[p].Add(Steps(trainer, p, StepsPerRound, out var longestMs, out var n) / StepsPerRound / wholeMs);
                longest[p].Add(longestMs);
                calls[p] = Math.Max(calls[p], n);
            }
        }
        var results = pieceCounts.Select(p => new Result(arch, p, new Stats(whole), new Stats(ratios[p]), new Stats(longest[p]), calls[p])).ToList();
        foreach (var r in results)
            Console.WriteLine($"  pieces {arch} × {r.Pieces}: whole step {r.WholeMs.Median:F1} ms, pieces {r.TotalOverWhole.Median:F2}× it in {r.Calls} calls, longest {r.LongestCallMs.Median:F1} ms");
        return results;
    }

    /// <summary>Steps measured together: one step's time swings too much with the host to compare.</summary>
    private const int StepsPerRound = 4;

    /// <summary>
    /// <paramref name="steps"/> whole training steps in calls of StepPiece(<paramref name="pieces"/>): their total ms, the
    /// longest call and the most calls one step took (the lesson's batcher varies bptt). An epoch's end, if one comes, runs untimed.
    /// </summary>
    private static double Steps(Trainer trainer, int pieces, int steps, out double longestMs, out int mostCalls)
    {
        var clock = new Stopwatch();
        double total = 0;
        longestMs = 0;
        mostCalls = 0;
        for (int i = 0; i < steps; i++)
        {
            while (trainer.InEpochEnd) trainer.StepPiece(1);
            int calls = 0;
            bool done;
            do
            {
                clock.Restart();
                done = trainer.StepPiece(pieces);
                var ms = clock.Elapsed.TotalMilliseconds;
                total += ms;
                longestMs = Math.Max(longestMs, ms);
                calls++;
            } while (!done);
            mostCalls = Math.Max(mostCalls, calls);
        }
        return total;
    }
}
