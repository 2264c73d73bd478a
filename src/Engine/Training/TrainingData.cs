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

    /// <summary>Fails with a message naming bs, bptt or the window when a text of this length cannot be batched.</summary>
    /// <param name="startsFrom">The model a run started from another's weights takes its hyperparameters from: the message then
    /// names no hyperparameter to change, only what can be (the corpus, the validation share).</param>
    /// <param name="validFractionName">How the caller spells val_fraction (charrnn train's --val-fraction, the proto's options.valid_fraction);
    /// null where the caller cannot set it (charrnn lr-find): no share is offered then.</param>
    /// <param name="hyperParameterName">How the caller spells a hyperparameter it names (bs, context): charrnn train's --bs, the proto's
    /// hyperparameters[bs]; as named when left out.</param>
    /// <param name="assign">What goes between that name and its value: " " for a flag (--bs 16), " = " for a key or field (bs = 16).</param>
    public static void CheckFits(Architecture architecture, HyperParameters hp, TrainingOptions options, int characters,
        string? startsFrom = null, string? validFractionName = "val_fraction", Func<string, string>? hyperParameterName = null, string assign = " = ")
    {
        var named = hyperParameterName ?? (name => name);
        var validChars = (int)Math.Round(characters * options.ValidFraction);
        var trainChars = characters - validChars;
        if (architecture.Layout == DataLayout.Stream)
        {
            // What LanguageModelBatcher needs, two chars a stream: training's streams are disjoint (2·bs chars), the
            // validation's scoring streams overlap by one (ForScoring), so bs + 1 chars give each stream two.
            int bs = hp.Int("bs"), trainNeeds = 2 * bs, validNeeds = bs + 1;
            bool FitsWith(int streams, double fraction) =>
                characters - (int)Math.Round(characters * fraction) >= 2 * streams && (int)Math.Round(characters * fraction) >= streams + 1;
            bool Fits(double fraction) => FitsWith(bs, fraction);
            if (!Fits(options.ValidFraction))
            {
                // Offer only what would fit: a share too small to hold out the 2 chars even bs 1 needs is no bs's fault.
                var smallerBs = Enumerable.Range(1, bs - 1).Any(b => FitsWith(b, options.ValidFraction));
                throw new CorpusLayoutException(
                    $"The corpus has {characters:N0} characters: {trainChars:N0} for training and {validChars:N0} for validation. " +
                    $"Cut into {named("bs")}{assign}{bs} streams, training needs at least {trainNeeds:N0} characters and validation {validNeeds:N0} (its streams share a char at each cut). " +
                    (startsFrom == null ? $"Use {(smallerBs ? $"a smaller {named("bs")} or " : "")}a longer corpus{FittingValidFractions(Fits, validFractionName)}."
                        : $"{named("bs")} comes from '{startsFrom}', the model this one starts from: use a longer corpus{FittingValidFractions(Fits, validFractionName)}."),
                    startsFrom == null && smallerBs ? "bs" : null);
            }
            return;
        }
        int n = architecture.WindowLength(hp), stride = architecture.WindowStride;
        int WindowsOf(int length) => architecture.Layout == DataLayout.SequenceWindows ? (characters - length - 1 + length - 1) / length : (characters - length + stride - 1) / stride;
        static bool Split(int count, double fraction) => count >= 2 && Math.Round(count * fraction) >= 1 && count - Math.Round(count * fraction) >= 1;
        var windows = WindowsOf(n);
        bool WindowsFit(double fraction) => Split(windows, fraction);
        if (!WindowsFit(options.ValidFraction))
        {
            // A shorter context is offered only where one gives windows that split at the share given.
            var shorter = architecture.FixedWindowLength == null && Enumerable.Range((int)ContextMin(architecture), Math.Max(0, n - (int)ContextMin(architecture)))
                .Any(c => Split(WindowsOf(c), options.ValidFraction));
            throw new CorpusLayoutException($"The corpus ({characters:N0} character{(characters == 1 ? "" : "s")}) gives {Math.Max(0, windows)} window{(windows == 1 ? "" : "s")} " +
                                        $"of {n} characters: too few to train on and hold out a validation share. " +
                                        (startsFrom != null ? $"The window comes from '{startsFrom}', the model this one starts from: use a longer corpus{FittingValidFractions(WindowsFit, validFractionName)}."
                                            : "Use a longer corpus" + (shorter ? $", or a shorter {named("context")} ({ContextMin(architecture)} or more)" : "") + FittingValidFractions(WindowsFit, validFractionName) + "."),
                                        startsFrom == null && shorter ? "context" : null);
        }
        if ((long)windows * n > Array.MaxLength) // the windows are stored in one array of n ids each
            throw new CorpusLayoutException($"The corpus ({characters:N0} characters) gives {windows:N0} windows of {n} characters, {(long)windows * n:N0} ids in all: " +
                                        $"more than one array holds ({Array.MaxLength:N0}). Use a smaller {(architecture.FixedWindowLength != null ? "corpus" : named("context"))}, or a stateful model, which stores the text once.",
                                        startsFrom == null && architecture.FixedWindowLength == null ? "context" : null);
    }

    /// <summary>", or NAME from 0.33 to 0.46": the validation shares (0.01 to 0.5, in hundredths) that make the text fit, if any do.</summary>
    private static string FittingValidFractions(Func<double, bool> fits, string? name)
    {
        if (name == null) return "";
        var fitting = Enumerable.Range(1, 50).Select(k => k / 100.0).Where(fits).ToList();
        return fitting.Count == 0 ? ""
            : fitting.Count == 1 ? $", or {name} {Share(fitting[0])}"
            : $", or {name} from {Share(fitting[0])} to {Share(fitting[^1])}";
    }

    private static string Share(double fraction) => fraction.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);

    private static double ContextMin(Architecture architecture) => architecture.Parameters.First(p => p.Name == "context").Min;

    /// <summary>The first validation symbol: the corpus's last <paramref name="validFraction"/> is held out.</summary>
    public static int ValidationStart(int symbols, double validFraction) => symbols - (int)Math.Round(symbols * validFraction);

    /// <summary>
    /// Where <see cref="ValidationStart"/> falls in <paramref name="text"/>, in UTF-16 code units (a symbol is one
    /// Unicode scalar, one or two units): the held-out end a stateful model validates on and never trains on.
    /// </summary>
    public static int ValidationStartIndex(string text, double validFraction)
    {
        var skip = ValidationStart(text.EnumerateRunes().Count(), validFraction);
        var index = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (skip-- == 0) break;
            index += rune.Utf16SequenceLength;
        }
        return index;
    }

    /// <param name="startsFrom">The model whose hyperparameters a run started from its weights has (<see cref="CheckFits"/>).</param>
    public static TrainingData Build(Architecture architecture, HyperParameters hp, TrainingOptions options,
        Corpus corpus, Vocabulary vocabulary, Device device, string? startsFrom = null)
    {
        var ids = vocabulary.Encode(corpus.Text);
        CheckFits(architecture, hp, options, ids.Length, startsFrom);
        var validStart = ValidationStart(ids.Length, options.ValidFraction);
        var validText = vocabulary.Decode(ids.Skip(validStart).Take(64));
        if (architecture.Layout == DataLayout.Stream)
        {
            int bs = hp.Int("bs"), bptt = hp.Int("bptt");
            var train = new LanguageModelBatcher(ids[..validStart], bs, bptt, device, hp.Bool("random_bptt"), options.Seed, "training text");
            try
            {
                var valid = LanguageModelBatcher.ForScoring(ids[validStart..], bs, bptt, device,
                    $"validation text (the last {options.ValidFraction:P0} of the corpus)");
                return new TrainingData(train, valid, validText);
            }
            catch
            {
                train.Dispose();
                throw;
            }
        }

        int n = architecture.WindowLength(hp);
        var examples = architecture.Layout == DataLayout.SequenceWindows
            ? WindowedExamples.Sequences(ids, n)
            : WindowedExamples.NextChar(ids, n, architecture.WindowStride);
        var (trainExamples, validExamples) = examples.Split(options.ValidFraction, options.Seed);
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
