using System.Globalization;
using System.Text.Json;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Export;

/// <summary>
/// The way back from <see cref="PyTorchExport"/>: a .safetensors file it wrote (its weights perhaps changed in PyTorch
/// since: fine-tuned, pruned, averaged) as a checkpoint the engine loads like any other. The metadata rebuilds the model
/// (architecture, hyperparameters, vocabulary); the tensors must be exactly the ones that model has, under the export's
/// names (<see cref="PyTorchExport.TorchName"/>, so the hand-written cells' rnn.*_l0 too) and of its shapes. The checkpoint
/// holds no optimizer state and no history: what the export recorded of its source goes into <see cref="ImportRecord"/>,
/// as the source's, and a resume of it is refused (<see cref="ImportRecord.WhyNotResumable"/>).
/// </summary>
public static class PyTorchImport
{
    /// <summary>The metadata keys an import reads; every file charrnn export writes has them.</summary>
    public static readonly string[] RequiredMetadata = ["charrnn_export_version", "architecture", "hyperparameters", "vocab", "vocab_counts", "lowercase", "unknown_index"];

    public const string Reason = "imported";

    /// <summary>The checkpoint of the model <paramref name="contents"/> (read from <paramref name="path"/>) describes; its tensors are the contents' own.</summary>
    public static Checkpoint ToCheckpoint(SafetensorsContents contents, string path, DateTimeOffset now)
    {
        var meta = contents.Metadata;
        CheckMetadata(meta, path);
        var architecture = Parse(path, "architecture", () => Architectures.Get(meta["architecture"]));
        var hyperParameters = Parse(path, "hyperparameters", () =>
            architecture.Resolve(ReadJson<Dictionary<string, double>>(meta, path, "hyperparameters", "a JSON object of numbers by name (e.g. {\"n_hidden\": 256})")));
        var symbols = ReadJson<string[]>(meta, path, "vocab", "a JSON array of one-character strings, the vocabulary in index order");
        var counts = ReadJson<long[]>(meta, path, "vocab_counts", "a JSON array of whole numbers, one count per vocab symbol");
        var lowercase = Parse(path, "lowercase", () => meta["lowercase"] switch
        {
            "true" => true, "false" => false, var other => throw new ArgumentException($"it is '{other}', expected \"true\" or \"false\""),
        });
        var vocabulary = Parse(path, "vocab", () => new Vocabulary(symbols, lowercase,
            meta["unknown_index"] switch { "1" => true, "" => false, var other => throw new ArgumentException($"unknown_index is '{other}', expected \"1\" or \"\"") },
            counts));

        CheckCounts(path, vocabulary);
        CheckAgreement(meta, path, architecture, vocabulary);
        var described = $"a {architecture.Name} with {hyperParameters} and a vocabulary of {vocabulary.Size}";
        CheckSizeAgainstFile(contents, path, architecture, hyperParameters, vocabulary.Size, described);
        using var model = architecture.Create(hyperParameters, vocabulary.Size);
        CheckTorchModule(meta, path, architecture, PyTorchExport.TorchModuleOf(model) ?? "");
        // The file's names for the model's weights, each with the engine's name it maps back to.
        var expected = model.state_dict().ToDictionary(kv => PyTorchExport.TorchName(model, kv.Key), kv => (Name: kv.Key, Shape: kv.Value.shape), StringComparer.Ordinal);
        var given = contents.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var allNames = string.Join(", ", expected.Keys.Order(StringComparer.Ordinal));
        foreach (var name in expected.Keys.Order(StringComparer.Ordinal))
            if (!given.ContainsKey(name))
                throw Fault(path, $"tensor {name} is missing: {described} needs {allNames}");
        foreach (var name in given.Keys.Order(StringComparer.Ordinal))
            if (!expected.ContainsKey(name))
                throw Fault(path, $"it has a tensor {name} that {described} does not have (it needs exactly {allNames})");

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, (engineName, shape)) in expected.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var tensor = given[name];
            if (!tensor.shape.SequenceEqual(shape))
                throw Fault(path, VocabularyMismatch(name, tensor.shape, shape, vocabulary.Size)
                                  ?? $"tensor {name} has shape [{string.Join(", ", tensor.shape)}]; {described} expects [{string.Join(", ", shape)}]");
            if (!isfinite(tensor).all().item<bool>())
                throw Fault(path, $"tensor {name} holds NaN or infinite values; the weights must be finite");
            tensors["model/" + engineName] = tensor;
        }

        var imported = new ImportRecord(Path.GetFileName(path), now, Optional(meta, "source_checkpoint"),
            Number(path, meta, "epoch", int.Parse, e => e >= 0, "a whole number of 0 or more"),
            Number(path, meta, "step", long.Parse, s => s >= 0, "a whole number of 0 or more"),
            Number(path, meta, "valid_loss", double.Parse, l => double.IsFinite(l) && l >= 0, "a finite number of 0 or more")); // a cross-entropy
        var metadata = new CheckpointMetadata
        {
            Architecture = architecture.Name,
            HyperParameters = hyperParameters.Values.ToDictionary(kv => kv.Key, kv => kv.Value),
            Vocabulary = VocabularyRecord.From(vocabulary),
            // The text the source model was trained on, by name; its fingerprint is not in the file (and a resume is refused).
            Corpus = new CorpusRecord(Optional(meta, "corpus") ?? "", "", 0),
            Training = new TrainingOptions { Epochs = Math.Max(1, imported.ExportedEpoch ?? 0), Lowercase = vocabulary.Lowercase },
            // Where the source's training stood; no history, so no validation loss is claimed for these weights.
            Position = new TrainingPosition { Epoch = imported.ExportedEpoch ?? 0, Step = imported.ExportedStep ?? 0, Finished = true },
            ParameterCount = model.ParameterCount,
            Created = now,
            Saved = now,
            Reason = Reason,
            Imported = imported,
        };
        return new Checkpoint(metadata, tensors, []);
    }

    private static void CheckMetadata(IReadOnlyDictionary<string, string> meta, string path)
    {
        var keys = string.Join(", ", RequiredMetadata);
        if (!meta.ContainsKey("charrnn_export_version"))
            throw Fault(path, $"it was not written by charrnn export: its metadata has no charrnn_export_version (it has {(meta.Count == 0 ? "no metadata" : string.Join(", ", meta.Keys.Order(StringComparer.Ordinal)))}). " +
                              $"An import needs the metadata keys {keys}; when saving from PyTorch, pass on the exported file's: " +
                              "safetensors.torch.save_file(state_dict, path, metadata=safe_open(exported, \"pt\").metadata())");
        if (meta["charrnn_export_version"] != PyTorchExport.FormatVersion.ToString(CultureInfo.InvariantCulture))
            throw Fault(path, $"it has charrnn_export_version '{meta["charrnn_export_version"]}'; this build reads version {PyTorchExport.FormatVersion}");
        if (RequiredMetadata.Where(k => !meta.ContainsKey(k)).ToList() is { Count: > 0 } missing)
            throw Fault(path, $"its metadata has no {string.Join(", ", missing)}; an import needs {keys}");
    }

    /// <summary>Reads one metadata value, its faults (bad JSON, an unknown architecture, a bad hyperparameter) said as the file's.</summary>
    private static T Parse<T>(string path, string key, Func<T> read)
    {
        try { return read(); }
        catch (Exception e) when (e is JsonException or ArgumentException or HyperParameterException)
        {
            throw Fault(path, $"its metadata '{key}' cannot be used: {WithoutParameter(e).TrimEnd('.')}");
        }
    }

    /// <summary>
    /// A metadata value that holds JSON, read as <typeparamref name="T"/>; JSON that is not well-formed, or not of that kind (null
    /// included), is refused naming the key, what it must be (<paramref name="expected"/>) and where the JSON goes wrong, not in .NET's types.
    /// </summary>
    private static T ReadJson<T>(IReadOnlyDictionary<string, string> meta, string path, string key, string expected) where T : class
    {
        var text = meta[key];
        try { using var _ = JsonDocument.Parse(text); }
        catch (JsonException e)
        {
            var problem = e.Message.Split(" Path: ")[0].TrimEnd('.');
            throw Fault(path, $"its metadata '{key}' cannot be used: it is not well-formed JSON ({problem}); it must be {expected}");
        }
        string where;
        try
        {
            if (JsonSerializer.Deserialize<T>(text) is { } value) return value;
            where = "$";
        }
        catch (JsonException e) { where = e.Path ?? "$"; }
        throw Fault(path, $"its metadata '{key}' cannot be used: it must be {expected}; the JSON at {where} does not fit that");
    }

    /// <summary>An ArgumentException's message without the " (Parameter 'symbols')" .NET adds, which names no key of the file.</summary>
    private static string WithoutParameter(Exception e) =>
        e is ArgumentException { ParamName: { } name } ? e.Message.Replace($" (Parameter '{name}')", "") : e.Message;

    private static string? Optional(IReadOnlyDictionary<string, string> meta, string key) =>
        meta.TryGetValue(key, out var value) && value.Length > 0 ? value : null;

    private static T? Number<T>(string path, IReadOnlyDictionary<string, string> meta, string key, Func<string, IFormatProvider, T> parse, Func<T, bool> allowed, string what) where T : struct =>
        Optional(meta, key) is { } text ? Parse(path, key, () =>
        {
            var fault = new ArgumentException($"'{text}' is not {what}");
            T value;
            try { value = parse(text, CultureInfo.InvariantCulture); }
            catch (Exception e) when (e is FormatException or OverflowException) { throw fault; }
            return allowed(value) ? value : throw fault;
        }) : null;

    /// <summary>
    /// The vocab_counts are how often the training text had each symbol, and generation's prior takes their logs and their
    /// sum: a negative count (a NaN log), a character counted 0 (an infinite loss when a fresh session is fed it first; every
    /// symbol but padding and unknown is a character of the text, the unknown one 0 when no character was rare), a counted
    /// padding symbol, or counts whose sum overflows (every generation failing) are no text's, and refused here rather than stored.
    /// </summary>
    private static void CheckCounts(string path, Vocabulary vocabulary)
    {
        var counts = vocabulary.Counts;
        string? problem = null;
        var tooFew = Enumerable.Range(0, counts.Count).Select(i => (Index: i, Least: i == 0 || (i == 1 && vocabulary.HasUnknown) ? 0 : 1))
            .FirstOrDefault(s => counts[s.Index] < s.Least, (Index: -1, Least: 0));
        if (tooFew.Index >= 0)
            problem = $"the count of symbol {tooFew.Index} ({Vocabulary.Describe(System.Text.Rune.GetRuneAt(vocabulary.Symbols[tooFew.Index], 0))}) is {counts[tooFew.Index]}; " +
                      "a count is how often the training text had the symbol, " + (tooFew.Least == 0 ? "0 or more"
                          : "and every symbol but the padding symbol (index 0) and the unknown symbol (index 1, when unknown_index is 1) is a character of that text, so 1 or more");
        else if (counts[0] != 0)
            problem = $"the padding symbol (index 0) has count {counts[0]}; it stands for no text and is never counted, so its count is 0";
        else if (!SumFits(counts))
            problem = $"the counts add up to more than {long.MaxValue:N0}, more characters than any training text has";
        if (problem != null)
            throw Fault(path, $"its metadata 'vocab_counts' cannot be used: {problem}");

        static bool SumFits(IReadOnlyList<long> counts) // none negative here
        {
            try { _ = counts.Sum(); return true; } // LINQ's sum of longs is checked
            catch (OverflowException) { return false; }
        }
    }

    /// <summary>
    /// Keys an export writes for PyTorch code that the engine does not read, but that say what it builds from the others:
    /// where one disagrees (a padding_index other than 0, a layout not the architecture's, lowercase true over a vocab
    /// with uppercase letters, which a lowercased text never has and a lowercased prime never reaches), the file describes
    /// a model the engine would not run as its metadata says, and is refused rather than imported with the key ignored.
    /// An absent key is not checked: the engine does not need it.
    /// </summary>
    private static void CheckAgreement(IReadOnlyDictionary<string, string> meta, string path, Architecture architecture, Vocabulary vocabulary)
    {
        if (meta.TryGetValue("padding_index", out var padding) && padding != "0")
            throw Fault(path, $"its metadata 'padding_index' is '{Echo.Of(padding)}'; the padding symbol is always index 0 (vocab[0], \"\\u0000\"), so padding_index must be 0");
        var layout = architecture.Layout.ToString();
        if (meta.TryGetValue("layout", out var given) && given != layout)
            throw Fault(path, $"its metadata 'layout' is '{Echo.Of(given)}', but architecture {architecture.Name} has the {layout} layout; " +
                              $"layout must be {layout} (or the architecture must be the one the weights were exported with)");
        if (vocabulary.Lowercase && vocabulary.Symbols.FirstOrDefault(s => s != s.ToLowerInvariant()) is { } upper)
            throw Fault(path, $"its metadata 'lowercase' is 'true', but its vocab has {Vocabulary.Describe(System.Text.Rune.GetRuneAt(upper, 0))}, " +
                              "which a lowercased text never has (and a lowercased prime never reaches); lowercase must be 'false' for this vocab, " +
                              "or the vocab must be the one the weights were trained with");
    }

    /// <summary>torch_module, when given, must be the torch.nn module the architecture's weights load into (empty for a windowed one).</summary>
    private static void CheckTorchModule(IReadOnlyDictionary<string, string> meta, string path, Architecture architecture, string module)
    {
        if (!meta.TryGetValue("torch_module", out var given) || given == module) return;
        var allowed = module.Length == 0 ? $"empty: {architecture.Name} is a windowed model, which no torch.nn module loads" : $"{module}: {architecture.Name} loads into nn.{module}";
        throw Fault(path, $"its metadata 'torch_module' is '{Echo.Of(given)}', but it must be {allowed} " +
                          "(or the architecture must be the one the weights were exported with)");
    }

    /// <summary>
    /// The file must hold about as many weights as the model its metadata describes, checked before that model is built:
    /// otherwise a small file whose metadata says n_hidden 4096 would have the importer allocate gigabytes (a server
    /// imports files from any client) only to refuse the first tensor's shape. The estimate is the exact count or a little over
    /// (loop-concat's), so twice the file's weights leaves room for it; the exact names and shapes are checked once the model is built.
    /// </summary>
    private static void CheckSizeAgainstFile(SafetensorsContents contents, string path, Architecture architecture, HyperParameters hyperParameters, int vocabularySize, string described)
    {
        var held = contents.Tensors.Sum(kv => kv.Value.NumberOfElements);
        var needed = TrainingFootprint.Parameters(architecture, hyperParameters, vocabularySize);
        if (needed > 2.0 * held + 1024)
            throw Fault(path, $"its metadata describes {described} of about {needed:N0} parameters, but the file holds {held:N0} weights: " +
                              "the metadata must be the one the weights were exported with");
    }

    /// <summary>The clearer error when a shape is wrong only where the vocabulary's size goes: the vocab and the weights disagree.</summary>
    private static string? VocabularyMismatch(string name, long[] found, long[] expected, int vocabularySize)
    {
        if (found.Length != expected.Length) return null;
        var differs = Enumerable.Range(0, found.Length).Where(d => found[d] != expected[d]).ToList();
        if (differs.Count == 0 || differs.Any(d => expected[d] != vocabularySize)) return null;
        return $"its vocab has {vocabularySize} symbols, but tensor {name} has shape [{string.Join(", ", found)}] (for {found[differs[0]]} symbols; " +
               $"expected [{string.Join(", ", expected)}]): the vocab metadata must be the one the weights were trained with";
    }

    private static InvalidDataException Fault(string path, string problem) => SafetensorsReader.Fault(path, problem);
}
