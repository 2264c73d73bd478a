using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>
/// What a windowed model's first chars after a short prime cost, with the rest of its window
/// filled by padding (never seen in training) or by spaces (what GenerationSession does): the
/// loss of the char after a prime of k chars, over random positions of the text, for primes that
/// start a word and for primes that start anywhere.
/// </summary>
public static class StartWindowBench
{
    public sealed record Row(string Model, string PrimeStarts, string Filler, double ValidLoss, double[] LossAfter);

    private const int Positions = 4_000;

    public static List<Row> Run(Corpus corpus, TimeSpan trainingBudget, int threads)
    {
        set_num_threads(threads);
        var rows = new List<Row>();
        foreach (var name in new[] { "char3", "loop", "rnn" })
        {
            var architecture = Architectures.Get(name);
            var options = new TrainingOptions { Epochs = 1_000, TimeBudget = trainingBudget, SampleChars = 0, Seed = 42 };
            using var trainer = Trainer.Create(architecture, architecture.Resolve(null), options, corpus, BenchDevice.Device, directory: null);
            var outcome = trainer.Run();
            trainer.Model.eval();
            var validLoss = outcome.LastEpoch?.ValidLoss ?? double.NaN;
            Console.WriteLine($"  start-window: {name} trained ({outcome.Reason}), validation loss {validLoss:F3}");
            var vocabulary = trainer.Vocabulary;
            var ids = vocabulary.Encode(corpus.Text);
            var model = (WindowedCharModel)trainer.Model;
            var random = new Random(7);
            foreach (var starts in new[] { "a word", "anywhere" })
            {
                var positions = new List<int>();
                while (positions.Count < Positions)
                {
                    var i = random.Next(1, ids.Length - model.Context - 1);
                    if (starts == "anywhere" || corpus.Text[i - 1] == ' ') positions.Add(i);
                }
                foreach (var (filler, fillerId) in new[] { ("padding", 0), ("space", vocabulary.Encode(" ")[0]) })
                    rows.Add(new Row(name, starts, filler, validLoss,
                        Enumerable.Range(1, model.Context).Select(k => LossAfter(model, ids, positions, k, fillerId)).ToArray()));
            }
        }
        return rows;
    }

    /// <summary>Mean loss of the char after the k chars at each position, the window's first n - k slots holding the filler.</summary>
    private static double LossAfter(WindowedCharModel model, int[] ids, List<int> positions, int k, int fillerId)
    {
        var n = model.Context;
        var before = new long[positions.Count * n]; // the state a step slides: its first slot drops out
        var last = new long[positions.Count];
        var next = new long[positions.Count];
        for (int r = 0; r < positions.Count; r++)
        {
            var window = Enumerable.Range(0, n).Select(j => j < n - k ? fillerId : (long)ids[positions[r] + j - (n - k)]).ToArray();
            before[r * n] = fillerId;
            Array.Copy(window, 0, before, r * n + 1, n - 1);
            last[r] = window[n - 1];
            next[r] = ids[positions[r] + k];
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var state = new RecurrentState([tensor(before, [positions.Count, n]).to(BenchDevice.Device)], batchDim: 0);
        var (logits, _) = model.Step(tensor(last).to(BenchDevice.Device), state);
        return nn.functional.cross_entropy(logits, tensor(next).to(BenchDevice.Device)).item<float>();
    }
}
