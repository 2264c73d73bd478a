using System.Diagnostics;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>
/// Training throughput (chars/s) of the stateful RNN, GRU and LSTM three ways, interleaved run by
/// run, taking the six orders of the three in turn so host-scheduling swings, and whatever runs
/// just before a measurement (the GEMM peak, PyTorch's process), hit all three alike:
/// the product's Trainer (the path the CLI and server use), a bare TorchSharp loop, and PyTorch.
/// Each run also takes the GEMM peak, so the fraction of peak is a ratio within one phase of the
/// host, and for the LSTM the rate of nn.LSTM alone (<see cref="TwoLayerLstmAlone"/>).
/// </summary>
public sealed class TrainingBench(Corpus corpus, PyTorchReference? pytorch, int runs, double seconds)
{
    /// <param name="EpochEndShare">Run by run: the share of the product's wall time its epoch ends took (off the clock of <paramref name="Product"/>).</param>
    public sealed record Result(string Arch, int Bptt, int Threads, Stats Product, Stats Bare, Stats PyTorch, double FlopsPerChar,
        Stats PeakFraction, Stats LstmAloneFraction, Stats ProductOverBare, Stats ProductOverPyTorch, Stats EpochEndShare);

    public static readonly string[] Archs = ["rnn", "gru", "lstm"];

    public List<Result> Run(int[] bptts, int[] threadCounts, IReadOnlyCollection<string> archs)
    {
        var text = corpus.Text.ToLowerInvariant();
        var vocabulary = Vocabulary.Build(text);
        var ids = vocabulary.Encode(text);
        var results = new List<Result>();
        foreach (var threads in threadCounts)
        foreach (var bptt in bptts)
        foreach (var arch in Archs.Where(archs.Contains))
        {
            var name = "stateful-" + arch;
            set_num_threads(threads);
            var product = new List<double>();
            var bare = new List<double>();
            var reference = new List<double>();
            var peakFraction = new List<double>();
            var lstmAloneFraction = new List<double>();
            var epochEndShare = new List<double>();
            var flopsPerChar = FlopCount.TrainingPerChar(arch, vocabulary.Size);
            for (int run = 0; run < runs; run++)
            {
                var measurements = new Action[]
                {
                    () =>
                    {
                        // The peak right before and right after the product's own window (their mean): the host's
                        // phases move within a run, so a GEMM taken seconds away can flatter or sink the fraction.
                        var before = Peak();
                        var (rate, share) = Product(name, bptt);
                        var peak = (before + Peak()) / 2;
                        product.Add(rate);
                        epochEndShare.Add(share);
                        peakFraction.Add(product[^1] * flopsPerChar / peak);
                        if (arch != "lstm") return;
                        before = Peak();
                        var alone = LstmAlone(bptt);
                        lstmAloneFraction.Add(alone * TwoLayerLstmAlone.FlopsPerChar / ((before + Peak()) / 2));
                    },
                    () => bare.Add(Bare(arch, ids, vocabulary.Size, bptt)),
                    // NaN where PyTorch gave no figure, so the lists stay aligned run by run (Stats leaves NaN out).
                    () => reference.Add(pytorch?.Train(arch, 64, bptt, threads, seconds) is { } json ? json.GetProperty("chars_per_second").GetDouble() : double.NaN),
                };
                // Runs take the six orders in turn, so that neither of the engine's paths always follows the
                // GEMM peak or PyTorch's process. (Rotating one order put the product after PyTorch in
                // every run but the ones it started.)
                var order = Orders[run % Orders.Length];
                foreach (var i in order) measurements[i]();
                Console.WriteLine($"    run {run + 1} ({string.Join(", ", order.Select(i => Names[i]))}): product {Stats.N(product[^1])} · bare {Stats.N(bare[^1])} · PyTorch {Stats.N(reference[^1])} c/s · product's epoch ends {epochEndShare[^1].ToString("P1", System.Globalization.CultureInfo.InvariantCulture)} of its wall time");
            }
            // Ratios run by run: the three of a run share the host's phase, which medians taken apart do not.
            static Stats Paired(List<double> a, List<double> b) => new(a.Zip(b, (x, y) => x / y));
            var result = new Result(arch, bptt, threads, new Stats(product), new Stats(bare), new Stats(reference), flopsPerChar,
                new Stats(peakFraction), new Stats(lstmAloneFraction), Paired(product, bare), Paired(product, reference), new Stats(epochEndShare));
            Console.WriteLine($"  train {name} bs 64 bptt {bptt} threads {threads}: product {result.Product.Format(" c/s")} · bare {result.Bare.Format(" c/s")} · PyTorch {result.PyTorch.Format(" c/s")}");
            results.Add(result);
        }
        return results;
    }

    private static readonly int[][] Orders = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [2, 1, 0], [1, 0, 2]];
    private static readonly string[] Names = ["product", "bare", "PyTorch"];

    /// <summary>
    /// The Trainer on lowercased text, fixed bptt, progress events subscribed as the CLI does, batch
    /// by batch through its own step. An epoch's end (a validation pass over the held-out fifth of
    /// the text) is evaluation, which the bare loop and PyTorch do not do: it runs off the clock,
    /// and its share of the wall time is returned beside the rate (the epoch-end section times its calls).
    /// </summary>
    private double? _devicePeak;

    /// <summary>FLOP/s of a float32 GEMM now; on a GPU, measured once (it has no host phases to follow, and each costs a second of device time).</summary>
    private double Peak() => BenchDevice.Device.type == TorchSharp.DeviceType.CPU ? GemmPeak.Once() * 1e9 : _devicePeak ??= GemmPeak.Once() * 1e9;

    private (double CharsPerSecond, double EpochEndShare) Product(string name, int bptt)
    {
        var architecture = Architectures.Get(name);
        var hp = architecture.Resolve(new Dictionary<string, double> { ["bs"] = 64, ["bptt"] = bptt, ["random_bptt"] = 0 });
        var options = new TrainingOptions { Epochs = 1000, Lowercase = true, LearningRate = LayerGroupValues.All(1e-3), SampleChars = 0 };
        using var trainer = Trainer.Create(architecture, hp, options, corpus, BenchDevice.Device, directory: null);
        trainer.Progress += _ => { };
        var epochEnds = new Stopwatch();
        var wall = Stopwatch.StartNew();
        var rate = Time(() => { while (!trainer.StepPiece(1)) { } }, () => trainer.NextBatchCharacters, offClockDue: () => trainer.InEpochEnd, offClock: () =>
        {
            epochEnds.Start();
            while (trainer.InEpochEnd) trainer.StepPiece(1);
            epochEnds.Stop();
        });
        return (rate, epochEnds.Elapsed / wall.Elapsed);
    }

    private double Bare(string arch, int[] ids, int vocabularySize, int bptt)
    {
        manual_seed(0);
        using var loop = new BareTorchLoop(arch, ids, vocabularySize, 64, bptt);
        return Time(loop.Step, () => loop.CharactersPerStep);
    }

    private double LstmAlone(int bptt)
    {
        using var alone = new TwoLayerLstmAlone(bptt);
        return Time(alone.Step, () => alone.CharactersPerStep);
    }

    /// <summary>
    /// chars/s over about <c>seconds</c> of steps after a few warm-up steps; <paramref name="offClock"/> runs off the
    /// clock after a step that leaves it due (the device is synchronized only then, so every path syncs alike).
    /// </summary>
    /// <param name="charsOfNextStep">Counted off the clock before each step: an epoch's last batch is shorter than the rest.</param>
    private double Time(Action step, Func<long> charsOfNextStep, Func<bool>? offClockDue = null, Action? offClock = null)
    {
        for (int i = 0; i < 3; i++) { step(); if (offClockDue?.Invoke() == true) offClock!(); }
        BenchDevice.Synchronize();
        var clock = Stopwatch.StartNew();
        long steps = 0, chars = 0;
        while (clock.Elapsed.TotalSeconds < seconds || steps < 3)
        {
            clock.Stop();
            chars += charsOfNextStep();
            clock.Start();
            step();
            steps++;
            if (offClockDue?.Invoke() != true) continue;
            BenchDevice.Synchronize();
            clock.Stop();
            offClock!();
            BenchDevice.Synchronize();
            clock.Start();
        }
        BenchDevice.Synchronize();
        return chars / clock.Elapsed.TotalSeconds;
    }
}
