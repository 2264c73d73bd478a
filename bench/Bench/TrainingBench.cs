using System.Diagnostics;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>
/// Training throughput (chars/s) of the stateful RNN, GRU and LSTM three ways, interleaved run by
/// run (product, bare, PyTorch, product, ...) so host-scheduling swings hit all three alike:
/// the product's Trainer (the path the CLI and server use), a bare TorchSharp loop, and PyTorch.
/// </summary>
public sealed class TrainingBench(Corpus corpus, PyTorchReference? pytorch, int runs, double seconds)
{
    public sealed record Result(string Arch, int Bptt, int Threads, Stats Product, Stats Bare, Stats PyTorch, double FlopsPerChar);

    private static readonly (string Arch, string Name)[] Models = [("rnn", "stateful-rnn"), ("gru", "stateful-gru"), ("lstm", "stateful-lstm")];

    public List<Result> Run(int[] bptts, int[] threadCounts)
    {
        var text = corpus.Text.ToLowerInvariant();
        var vocabulary = Vocabulary.Build(text);
        var ids = vocabulary.Encode(text);
        var results = new List<Result>();
        foreach (var threads in threadCounts)
        foreach (var bptt in bptts)
        foreach (var (arch, name) in Models)
        {
            set_num_threads(threads);
            var product = new List<double>();
            var bare = new List<double>();
            var reference = new List<double>();
            for (int run = 0; run < runs; run++)
            {
                product.Add(Product(name, bptt));
                bare.Add(Bare(arch, ids, vocabulary.Size, bptt));
                if (pytorch?.Train(arch, 64, bptt, threads, seconds) is { } json) reference.Add(json.GetProperty("chars_per_second").GetDouble());
            }
            var result = new Result(arch, bptt, threads, new Stats(product), new Stats(bare), new Stats(reference), FlopCount.TrainingPerChar(arch, vocabulary.Size));
            Console.WriteLine($"  train {name} bs 64 bptt {bptt} threads {threads}: product {result.Product.Format(" c/s")} · bare {result.Bare.Format(" c/s")} · PyTorch {result.PyTorch.Format(" c/s")}");
            results.Add(result);
        }
        return results;
    }

    /// <summary>The Trainer on lowercased text, fixed bptt, progress events subscribed as the CLI does.</summary>
    private double Product(string name, int bptt)
    {
        var architecture = Architectures.Get(name);
        var hp = architecture.Resolve(new Dictionary<string, double> { ["bs"] = 64, ["bptt"] = bptt, ["random_bptt"] = 0 });
        var options = new TrainingOptions { Epochs = 1000, Lowercase = true, LearningRate = LayerGroupValues.All(1e-3), SampleChars = 0 };
        using var trainer = Trainer.Create(architecture, hp, options, corpus, BenchDevice.Device, directory: null);
        trainer.Progress += _ => { };
        return Time(trainer.Step, 64L * bptt);
    }

    private double Bare(string arch, int[] ids, int vocabularySize, int bptt)
    {
        manual_seed(0);
        using var loop = new BareTorchLoop(arch, ids, vocabularySize, 64, bptt);
        return Time(loop.Step, loop.CharactersPerStep);
    }

    /// <summary>chars/s over about <c>seconds</c> after a few warm-up steps.</summary>
    private double Time(Action step, long charsPerStep)
    {
        for (int i = 0; i < 3; i++) step();
        BenchDevice.Synchronize();
        var clock = Stopwatch.StartNew();
        long steps = 0;
        while (clock.Elapsed.TotalSeconds < seconds || steps < 3)
        {
            step();
            steps++;
        }
        BenchDevice.Synchronize();
        return steps * charsPerStep / clock.Elapsed.TotalSeconds;
    }
}
