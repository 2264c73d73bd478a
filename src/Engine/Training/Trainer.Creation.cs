using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Storage;
using CharRnn.Engine.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training;

/// <summary>
/// How a trainer is made: a new model (<see cref="Create"/>), one resumed from its checkpoint (<see cref="Resume"/>) or a
/// new run from another model's weights (<see cref="InitFrom(string, string, TrainingOptions, Corpus, Device, string?)"/>), and its optimizer's parameter groups.
/// </summary>
public sealed partial class Trainer
{
    private Trainer(Architecture architecture, HyperParameters hyperParameters, TrainingOptions options, Vocabulary vocabulary,
        CharModel model, TrainingData data, CorpusRecord corpus, Device device, string? directory,
        TrainingPosition position, List<EpochRecord> history, DateTimeOffset created)
    {
        Architecture = architecture;
        HyperParameters = hyperParameters;
        Options = options;
        Vocabulary = vocabulary;
        Model = model;
        Device = device;
        Directory = directory;
        if (directory != null) // this trainer owns the folder now: clear what a write cut short by a crash left
        {
            foreach (var file in new[] { LastCheckpoint, BestCheckpoint, CycleCheckpoints }) AtomicFile.DeleteLeftovers(directory, file);
            ModelFolder.DeleteStaleWriteChecks(directory);
        }
        Position = position;
        History = history;
        DropOldSamples(History.Count); // a checkpoint from before the limit holds them all
        Created = created;
        _data = data;
        _corpus = corpus;
        _schedule = LearningRateSchedule.Parse(options.Schedule);
        _elapsedBefore = position.ElapsedSeconds;
        _epochChars = position.EpochCharacters;
        _epochLossSum = tensor(position.EpochLossSum, ScalarType.Float64).to(device).DetachFromDisposeScope();
        _lastReportSum = position.EpochLossSum;
        _lastReportChars = position.EpochCharacters;
        _lastReportStep = position.Step;
        _firstStep = position.Step + 1;

        _groups = model.named_parameters()
            .GroupBy(p => LayerGroups.Of(p.name))
            .OrderBy(g => g.Key)
            .Select(g => (g.Key, (ParamGroup)MakeGroup(g.Select(p => p.parameter).ToList(), g.Key)))
            .ToList();
        _optimizer = options.UsesAdamW
            ? new Optimizers.AdamW(_groups.Select(g => (AdamW.ParamGroup)g.ParamGroup))
            : new Optimizers.Adam(_groups.Select(g => (Adam.ParamGroup)g.ParamGroup));
        model.train();
    }

    /// <summary>
    /// A new model's corpus holds no NUL (<see cref="NulInCorpus"/>); a resume reads its corpus's NULs as padding, as its first run did.
    /// <see cref="Create"/> and <see cref="InitFrom"/> check it; a command calls it first too, to refuse before its lines say what it trains.
    /// </summary>
    public static void CheckNoNul(Corpus corpus)
    {
        if (NulInCorpus.Why(corpus.Text) is { } why)
            throw new CorpusException($"Corpus '{corpus.Name}' {why}.");
    }

    /// <summary>A new model of <paramref name="architecture"/>, seeded, with its vocabulary built from the corpus.</summary>
    public static Trainer Create(Architecture architecture, HyperParameters hyperParameters, TrainingOptions options,
        Corpus corpus, Device device, string? directory)
    {
        options.Validate();
        CheckNoNul(corpus);
        var vocabulary = Vocabulary.Build(corpus.Text, options.Lowercase, options.MinFrequency);
        var data = TrainingData.Build(architecture, hyperParameters, options, corpus, vocabulary, device);
        CharModel? model = null;
        try
        {
            lock (TorchRuntime.DefaultGenerators)
            {
                TorchRuntime.Seed(options.Seed);
                model = architecture.Create(hyperParameters, vocabulary.Size, device.type);
            }
            CheckCheckpointFits(model, hyperParameters);
            model.to(device);
            return new Trainer(architecture, hyperParameters, options, vocabulary, model, data,
                CorpusRecord.Of(corpus), device, directory,
                new TrainingPosition(), [], DateTimeOffset.UtcNow);
        }
        catch
        {
            model?.Dispose();
            data.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Continues from a checkpoint exactly where it stopped. <paramref name="change"/> may extend
    /// the run (epochs, max steps, time budget); the corpus must be the one it was trained on.
    /// </summary>
    public static Trainer Resume(string checkpointPath, Corpus corpus, Device device, string? directory,
        Func<TrainingOptions, TrainingOptions>? change = null)
    {
        if (directory != null) RepairBest(directory, checkpointPath);
        using var checkpoint = CheckpointFile.Read(checkpointPath);
        var meta = checkpoint.Metadata;
        if (meta.Imported is { } imported) throw new CheckpointException(checkpointPath, imported.WhyNotResumable);
        if (meta.Corpus.Sha256 != corpus.Sha256)
            throw new CorpusException($"Checkpoint '{checkpointPath}' was trained on corpus '{meta.Corpus.Name}' (SHA-256 {meta.Corpus.Sha256[..12]}…), " +
                                      $"but '{corpus.Name}' (SHA-256 {corpus.Sha256[..12]}…) was given. Resume with the same corpus.");
        // Trained before "\r\n" became "\n" (its vocabulary has the '\r', its position counts it): resumed on the text as it was.
        if (meta.Corpus.Characters != corpus.Length && corpus.LengthAsRead == meta.Corpus.Characters) corpus = corpus.AsRead();
        // A time budget bounds one run: a resumed run has none unless it is given one again.
        var stored = meta.Training with { TimeBudget = null };
        var options = (change?.Invoke(stored) ?? stored).Validate();
        var (architecture, hyperParameters, vocabulary, model) = TrainedModel.Build(checkpoint, checkpointPath, device.type);
        TrainingData? data = null;
        Trainer? trainer = null;
        try
        {
            model.to(device);
            data = TrainingData.Build(architecture, hyperParameters, options, corpus, vocabulary, device);
            var position = meta.Position with { Finished = false };
            // Its CodePoints too, which a checkpoint written before they were stored lacks: the same text (its SHA-256), as read.
            trainer = new Trainer(architecture, hyperParameters, options, vocabulary, model, data, meta.Corpus with { CodePoints = corpus.CodePoints }, device,
                directory, position, meta.History.ToList(), meta.Created) { StartedFrom = meta.InitFrom };
            trainer.RestoreState(checkpoint, checkpointPath);
            return trainer;
        }
        catch
        {
            // A long-lived server would keep the model on its device otherwise.
            if (trainer != null) trainer.Dispose();
            else
            {
                data?.Dispose();
                model.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// A new run from the weights of <paramref name="checkpointPath"/> (karpathy's -init_from: fine-tuning on another text,
    /// or training on with another schedule): the source's architecture, hyperparameters and vocabulary (the corpus encoded
    /// with it, <see cref="InitFromSource.CheckCorpus"/>), a fresh optimizer, schedule and history from epoch 1, with
    /// <paramref name="options"/> (their lowercasing and min_freq the source's). An imported model is a source too. The
    /// caller checks what it was given against the source first (<see cref="InitFromSource.CheckGiven"/>).
    /// </summary>
    public static Trainer InitFrom(string checkpointPath, string sourceName, TrainingOptions options, Corpus corpus, Device device, string? directory)
    {
        if (directory != null && Path.GetFullPath(Path.TrimEndingDirectorySeparator(directory)) == Path.GetDirectoryName(Path.GetFullPath(checkpointPath)))
            throw new ArgumentException($"The new model's folder '{directory}' is '{sourceName}''s own: a model started from another's weights is a new model; give it another folder or name.");
        CheckNoNul(corpus);
        using var checkpoint = CheckpointFile.Read(checkpointPath);
        var meta = checkpoint.Metadata;
        options = InitFromSource.WithSourceText(options, meta).Validate();
        var (architecture, hyperParameters, vocabulary, model) = TrainedModel.Build(checkpoint, checkpointPath, device.type);
        TrainingData? data = null;
        try
        {
            InitFromSource.CheckCorpus(vocabulary, corpus, sourceName);
            CheckCheckpointFits(model, hyperParameters);
            model.to(device);
            data = TrainingData.Build(architecture, hyperParameters, options, corpus, vocabulary, device, sourceName);
            return new Trainer(architecture, hyperParameters, options, vocabulary, model, data,
                CorpusRecord.Of(corpus), device, directory,
                new TrainingPosition(), [], DateTimeOffset.UtcNow) { StartedFrom = InitFromSource.Record(meta, sourceName, checkpointPath) };
        }
        catch
        {
            data?.Dispose();
            model.Dispose();
            throw;
        }
    }

    private ParamGroup MakeGroup(List<Parameter> parameters, LayerGroup group) => Options.UsesAdamW
        ? new AdamW.ParamGroup(parameters, lr: Options.LearningRate[group], weight_decay: Options.WeightDecay[group])
        : new Adam.ParamGroup(parameters, lr: Options.LearningRate[group], weight_decay: Options.WeightDecay[group]);
}
