using System.Globalization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Text;

namespace CharRnn.Engine.Training;

/// <summary>
/// What a run started from another model's weights (<see cref="Trainer.InitFrom"/>) was given of the settings that
/// come from that model: the architecture, hyperparameters, lowercasing and min_freq. Null or absent: not given, taken
/// from the source; given, they must be the source's.
/// </summary>
public sealed record InitFromGiven(string? Architecture = null, IReadOnlyDictionary<string, double>? HyperParameters = null,
    bool? Lowercase = null, int? MinFrequency = null);

/// <summary>
/// The rules of starting from another model's weights (karpathy's char-rnn -init_from): the weights fix the
/// architecture, its hyperparameters and the vocabulary, so a setting given that differs is refused, naming the
/// difference, and the new corpus is encoded with the source's vocabulary.
/// </summary>
public static class InitFromSource
{
    /// <summary>Refuses (ArgumentException) the first given setting that differs from <paramref name="source"/>'s, saying it comes from the source.</summary>
    /// <param name="names">How the message names each setting; null: <see cref="InitFromSettingNames.Plain"/>.</param>
    public static void CheckGiven(CheckpointMetadata source, string sourceName, InitFromGiven given, InitFromSettingNames? names = null)
    {
        names ??= InitFromSettingNames.Plain;
        if (given.Architecture is { } architecture && architecture != source.Architecture)
            throw new ArgumentException($"{names.Architecture} '{Echo.Of(architecture)}' differs from '{sourceName}''s, '{source.Architecture}': a model started from another's weights " +
                                        "has its architecture; leave the architecture out, or give that one.");
        foreach (var (key, value) in given.HyperParameters ?? new Dictionary<string, double>())
        {
            var has = source.HyperParameters.TryGetValue(key, out var stored);
            if (!has || stored != value)
                throw new ArgumentException($"{names.HyperParameter(key)} = {Number(value)} differs from '{sourceName}''s ({(has ? Number(stored) : $"{source.Architecture} has no such hyperparameter")}): " +
                                            "a model started from another's weights has its hyperparameters; leave it out, or give the same value.");
        }
        if (given.Lowercase is { } lower && lower != source.Vocabulary.Lowercase)
            throw new ArgumentException($"{names.Lowercase} = {(lower ? "true" : "false")} differs from '{sourceName}''s vocabulary, which is {(source.Vocabulary.Lowercase ? "" : "not ")}lowercased: " +
                                        "lowercasing comes from the source model; leave it out.");
        if (given.MinFrequency is { } minFreq && !SameMinFrequency(source, minFreq))
            throw new ArgumentException($"{names.MinFrequency} = {minFreq} differs from '{sourceName}''s " +
                                        $"({(source.Imported != null ? source.Vocabulary.HasUnknown ? "above 1: it has the unknown symbol" : "1: it has no unknown symbol" : source.Training.MinFrequency.ToString(CultureInfo.InvariantCulture))}): " +
                                        "the vocabulary, min_freq's with it, comes from the source model; leave it out.");
    }

    /// <summary>An imported model records no min_freq, only whether its vocabulary has the unknown symbol (min_freq above 1).</summary>
    private static bool SameMinFrequency(CheckpointMetadata source, int minFreq) =>
        source.Imported != null ? (minFreq > 1) == source.Vocabulary.HasUnknown : minFreq == source.Training.MinFrequency;

    /// <summary>The new run's options with the source's text settings (its vocabulary's lowercasing and min_freq), which the given ones must match.</summary>
    public static TrainingOptions WithSourceText(TrainingOptions options, CheckpointMetadata source) => options with
    {
        Lowercase = source.Vocabulary.Lowercase,
        MinFrequency = source.Imported != null && source.Vocabulary.HasUnknown ? Math.Max(2, options.MinFrequency) : source.Training.MinFrequency,
    };

    /// <summary>
    /// Refuses a corpus with characters the source's vocabulary does not know, naming them, unless the vocabulary has the
    /// unknown symbol (min_freq above 1), which they then map to, as validation maps them.
    /// </summary>
    public static void CheckCorpus(Vocabulary vocabulary, Corpus corpus, string sourceName)
    {
        if (vocabulary.HasUnknown) return;
        var text = vocabulary.Normalize(corpus.Text);
        var missing = text.EnumerateRunes().Where(r => r.Value != 0 && !vocabulary.Contains(r)).Distinct().ToList();
        if (missing.Count == 0) return;
        var shown = string.Join(", ", missing.Take(10).Select(Vocabulary.Describe)) + (missing.Count > 10 ? $" and {missing.Count - 10} more" : "");
        throw new ArgumentException($"Corpus '{corpus.Name}' has {missing.Count} character(s) that '{sourceName}''s vocabulary does not know: {shown}. " +
                                    "A model started from another's weights keeps its vocabulary, and this one has no unknown symbol (it was trained with min_freq 1): " +
                                    "use a text of its characters only (charrnn models NAME lists them).");
    }

    /// <summary>What the new model's checkpoints record of where it started.</summary>
    public static InitFromRecord Record(CheckpointMetadata source, string sourceName, string checkpointPath) =>
        new(sourceName, Path.GetFileName(checkpointPath), source.Position.Epoch, source.Imported == null ? source.ValidationOfWeights?.Loss : null);

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
