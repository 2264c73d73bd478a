using CharRnn.Engine.Batching;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training;

/// <summary>
/// A corpus made ready for one architecture: encoded, split into training and validation the
/// lesson's way (stateful: the last share of the text; windowed: a random, seeded share of the
/// windows) and batched on the device.
/// </summary>
public sealed class TrainingData : IDisposable
{
    private TrainingData(IBatcher train, IBatcher valid, string validText)
    {
        Train = train;
        Valid = valid;
        ValidText = validText;
    }

    public IBatcher Train { get; }
    public IBatcher Valid { get; }
    /// <summary>The start of the validation text (a natural prime for epoch-end samples).</summary>
    public string ValidText { get; }

    public static TrainingData Build(Architecture architecture, HyperParameters hp, TrainingOptions options,
        Corpus corpus, Vocabulary vocabulary, Device device)
    {
        var ids = vocabulary.Encode(corpus.Text);
        var validStart = ids.Length - (int)Math.Round(ids.Length * options.ValidFraction);
        var validText = vocabulary.Decode(ids.Skip(validStart).Take(64));
        if (architecture.Layout == DataLayout.Stream)
        {
            int bs = hp.Int("bs"), bptt = hp.Int("bptt");
            var train = new LanguageModelBatcher(ids[..validStart], bs, bptt, device, hp.Bool("random_bptt"), options.Seed, "training text");
            try
            {
                var valid = new LanguageModelBatcher(ids[validStart..], bs, bptt, device, randomBptt: false, options.Seed,
                    $"validation text (the last {options.ValidFraction:P0} of the corpus)");
                return new TrainingData(train, valid, validText);
            }
            catch
            {
                train.Dispose();
                throw;
            }
        }

        int n = architecture.Name == "char3" ? 3 : hp.Int("context");
        var examples = architecture.Layout == DataLayout.SequenceWindows
            ? WindowedExamples.Sequences(ids, n)
            : WindowedExamples.NextChar(ids, n, stride: architecture.Name == "char3" ? 3 : 1);
        var (trainExamples, validExamples) = examples.Split(options.ValidFraction, options.Seed);
        if (trainExamples.Count == 0 || validExamples.Count == 0)
            throw new ArgumentException($"The corpus ({ids.Length} characters) gives {examples.Count} windows of {n} characters: " +
                                        "too few to hold out a validation share. Use a longer corpus.");
        var batchSize = hp.Int("bs");
        var trainBatcher = new WindowBatcher(trainExamples, batchSize, device, shuffle: true, options.Seed);
        return new TrainingData(trainBatcher, new WindowBatcher(validExamples, Math.Max(batchSize, 1024), device, shuffle: false, options.Seed), validText);
    }

    public void Dispose()
    {
        Train.Dispose();
        Valid.Dispose();
    }
}
