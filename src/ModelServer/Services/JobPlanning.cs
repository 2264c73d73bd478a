using System.Text;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Corpora;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Jobs;
using CharRnn.ModelServer.TrainedModels;
using CharRnn.ModelServer.Security;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>Turns a StartJobRequest into a validated <see cref="JobPlan"/>: every field checked before anything is queued.</summary>
public sealed class JobPlanning(ModelStore models, CorpusStore corpora, ServerLimits limits)
{
    /// <summary>What a resumed job may change; the rest defines its data, vocabulary or optimizer state.</summary>
    private static readonly HashSet<string> ResumeChanges =
        ["epochs", "max_steps", "time_budget_seconds", "sample_chars", "progress_interval_seconds", "learning_rate", "weight_decay", "schedule", "clip", "keep_cycle_checkpoints", "patience", "min_delta"];

    public JobPlan Plan(Api.StartJobRequest request, Caller caller)
    {
        var name = ModelNames.Validate(request.ModelName);
        if (request.Resume && !models.CanWrite(name, caller))
        {
            if (!models.Exists(name) || !models.CanRead(name, caller))
                throw models.NoModelFor(name, caller);
            throw ServerException.PermissionDenied(models.Ownership(name) is { } record
                ? $"Model '{name}' belongs to key '{record.Owner}'; only its owner or an admin can resume it."
                : $"Model '{name}' was made outside the server and has no owner; only an admin key can resume it.", ("model", name));
        }
        if (request.Resume && request.InitFrom != "")
            throw ServerException.Invalid($"init_from and resume are exclusive: resume continues model '{name}', init_from starts a new model from '{Echo.Of(request.InitFrom)}''s weights; send one.", field: "init_from");
        return request.Resume ? PlanResume(request, name, caller)
            : request.InitFrom != "" ? PlanInitFrom(request, name, caller)
            : PlanNew(request, name, caller);
    }

    /// <summary>
    /// A new model from another's weights (init_from): the source the caller can read, as OpenSession finds it (best.ckpt, else last.ckpt);
    /// its architecture, hyperparameters and vocabulary, the request's checked against them (<see cref="InitFromSource"/>); the request's options.
    /// </summary>
    private JobPlan PlanInitFrom(Api.StartJobRequest request, string name, Caller caller)
    {
        ModelNames.ValidateNew(name);
        var sourceName = ModelNames.Validate(request.InitFrom, "init_from");
        if (!models.CanRead(sourceName, caller) || !models.Exists(sourceName))
            throw models.NoModelFor(sourceName, caller);
        if (models.TakenName(name) is { } taken)
            throw ServerException.Exists(ModelNames.TakenMessage(name, taken, models.CanWrite(taken, caller)), ("model", taken));
        string checkpoint;
        CheckpointMetadata meta;
        Architecture architecture;
        HyperParameters hyperParameters;
        try
        {
            checkpoint = ModelFolder.CheckpointForGeneration(models.FolderOf(sourceName));
            meta = CheckpointFile.ReadMetadata(checkpoint);
            architecture = Architectures.Get(meta.Architecture);
            hyperParameters = architecture.Resolve(meta.HyperParameters);
        }
        catch (Exception e) when (e is CheckpointException or ArgumentException)
        {
            throw ServerException.Precondition($"Model '{sourceName}' cannot be started from: {e.Message}", ("model", sourceName));
        }
        var options = ProtoMapper.Apply(request.Options, new TrainingOptions
        {
            LearningRate = LayerGroupValues.All(architecture.DefaultLearningRate),
            WeightDecay = LayerGroupValues.All(architecture.DefaultWeightDecay),
        }, limits.MaxEpochs);
        var given = new InitFromGiven(request.Architecture is "" ? null : request.Architecture, request.Hyperparameters,
            request.Options?.HasLowercase == true ? request.Options.Lowercase : null, request.Options?.HasMinFreq == true ? request.Options.MinFreq : null);
        try { InitFromSource.CheckGiven(meta, sourceName, given, ApiSettingNames); }
        catch (ArgumentException e) { throw ServerException.Invalid(e.Message); }
        options = InitFromSource.WithSourceText(options, meta);
        CheckEpochs(options);
        options = WithJobTimeCap(options);
        var (corpus, uploaded) = Corpus(request, caller);
        CheckFits(architecture, hyperParameters, options, corpus, uploaded, startsFrom: sourceName);
        try { InitFromSource.CheckCorpus(meta.Vocabulary.ToVocabulary(), corpus, sourceName); }
        catch (ArgumentException e) { throw ServerException.Invalid(e.Message, field: uploaded ? "corpus_text" : "corpus_name"); }
        CheckMemory(architecture, hyperParameters, meta.Vocabulary.Symbols.Length, corpus);
        return JobPlan.NewModel(name, models.FolderOf(name), corpus, uploaded, CorpusNameOf(request, uploaded), architecture, hyperParameters, options) with
        {
            InitFromModel = sourceName, InitFromCheckpoint = checkpoint, Warnings = TrainingWarnings.For(options),
        };
    }

    /// <summary>init_from's refusals name the request's fields as the proto spells them (the message's lead is the BadRequest field).</summary>
    private static readonly InitFromSettingNames ApiSettingNames = new("architecture", "hyperparameters[{0}]", "options.lowercase", "options.min_freq");

    private static string CorpusNameOf(Api.StartJobRequest request, bool uploaded) =>
        uploaded ? CorpusStore.UploadedName : string.IsNullOrEmpty(request.CorpusName) ? Engine.Text.KnownCorpus.Nietzsche.Name : request.CorpusName;

    /// <summary>
    /// Names a hyperparameter cap as it can be found and set: no Limits field holds it (ListArchitectures gives it
    /// as the spec's max), and `charrnn serve --max-hyperparameter` sets it. ImportModel's refusals name it the same way.
    /// </summary>
    internal static string CapText(string key) =>
        $"(this server's cap, ListArchitectures' max for it; set by charrnn serve --max-hyperparameter {key}=N)";

    private JobPlan PlanNew(Api.StartJobRequest request, string name, Caller caller)
    {
        ModelNames.ValidateNew(name); // a resumed model keeps the name it has, whatever it is
        if (string.IsNullOrEmpty(request.Architecture))
            throw ServerException.Invalid($"architecture is empty; choose one of: {string.Join(", ", Architectures.All.Select(a => a.Name))}.");
        var architecture = Architectures.All.FirstOrDefault(a => a.Name == request.Architecture)
            ?? throw ServerException.Invalid($"architecture '{Echo.Of(request.Architecture)}' is not known; choose one of: {string.Join(", ", Architectures.All.Select(a => a.Name))}.{LessonNames.ArchitectureHint(request.Architecture, Architectures.All.Select(a => a.Name))}");
        if (models.TakenName(name) is { } taken)
            throw ServerException.Exists(ModelNames.TakenMessage(name, taken, models.CanWrite(taken, caller)), ("model", taken));

        // Against this server's range, where it caps the engine's: every refusal gives the range ListArchitectures lists.
        foreach (var (key, value) in request.Hyperparameters)
            if (architecture.Parameters.FirstOrDefault(p => p.Name == key) is { } spec && limits.MaxOf(spec) < spec.Max)
            {
                try { (spec with { Max = limits.MaxOf(spec) }).Validate(value); }
                catch (HyperParameterException e) { throw ServerException.Invalid($"hyperparameters[{key}]: {e.Message[..^1]} {CapText(key)}."); }
            }
        var given = new Dictionary<string, double>(request.Hyperparameters);
        foreach (var spec in architecture.Parameters)
            if (!given.ContainsKey(spec.Name) && limits.DefaultOf(spec) != spec.Default) given[spec.Name] = limits.DefaultOf(spec);
        HyperParameters hyperParameters;
        try { hyperParameters = architecture.Resolve(given); }
        catch (HyperParameterException e) { throw ServerException.Invalid($"hyperparameters[{Echo.Of(e.Parameter)}]: {e.Message}"); }

        var options = ProtoMapper.Apply(request.Options, new TrainingOptions
        {
            LearningRate = LayerGroupValues.All(architecture.DefaultLearningRate),
            WeightDecay = LayerGroupValues.All(architecture.DefaultWeightDecay),
        }, limits.MaxEpochs);
        CheckEpochs(options);
        options = WithJobTimeCap(options);
        var (corpus, uploaded) = Corpus(request, caller);
        CheckFits(architecture, hyperParameters, options, corpus, uploaded);
        Vocabulary vocabulary;
        try { vocabulary = Vocabulary.Build(corpus.Text, options.Lowercase, options.MinFrequency); }
        catch (MinFrequencyException e) { throw ServerException.Invalid($"options.{e.Message}"); } // refused at planning, not after the queue

        CheckMemory(architecture, hyperParameters, vocabulary.Size, corpus);
        return JobPlan.NewModel(name, models.FolderOf(name), corpus, uploaded, CorpusNameOf(request, uploaded), architecture, hyperParameters, options) with
        {
            Warnings = TrainingWarnings.For(options),
        };
    }

    private JobPlan PlanResume(Api.StartJobRequest request, string name, Caller caller)
    {
        // The job continues last.ckpt, so its settings are the ones to keep, not best.ckpt's (an earlier
        // run's, when later runs never beat its loss); and a damaged best.ckpt must not block a resume.
        if (!models.Exists(name))
            throw models.NoModelFor(name, caller);
        var folder = models.FolderOf(name);
        string checkpoint;
        CheckpointMetadata meta;
        try
        {
            checkpoint = ModelFolder.CheckpointForResume(folder);
            meta = CheckpointFile.ReadMetadata(checkpoint);
        }
        catch (CheckpointException e)
        {
            throw ServerException.Precondition($"Model '{name}' cannot be resumed: {e.Message}", ("model", name));
        }
        // Said with what a client can do instead, in the request's terms: start a new model from these weights.
        if (meta.Imported is { } imported)
            throw ServerException.Precondition($"Model '{name}' cannot be resumed: {imported.WhyNotResumable} from its weights (init_from = '{name}', with a new model_name).",
                ("model", name));
        // What the model has already may be sent back (as GetModel gives it); only a change is refused.
        if (request.CorpusCase == Api.StartJobRequest.CorpusOneofCase.CorpusText
            || (request.CorpusCase == Api.StartJobRequest.CorpusOneofCase.CorpusName && request.CorpusName != "" && request.CorpusName != meta.Corpus.Name))
            throw ServerException.Invalid($"corpus_name/corpus_text must be empty when resuming (or corpus_name the model's, '{meta.Corpus.Name}'): a model continues on the corpus it was trained on.",
                field: request.CorpusCase == Api.StartJobRequest.CorpusOneofCase.CorpusText ? "corpus_text" : "corpus_name");
        if (!string.IsNullOrEmpty(request.Architecture) && request.Architecture != meta.Architecture)
            throw ServerException.Invalid($"architecture '{Echo.Of(request.Architecture)}' differs from the model's '{meta.Architecture}'; leave it empty when resuming.");
        foreach (var (key, value) in request.Hyperparameters)
        {
            var has = meta.HyperParameters.TryGetValue(key, out var stored);
            if (!has || stored != value)
                throw ServerException.Invalid($"hyperparameters[{Echo.Of(key)}] = {value} differs from the model's ({(has ? stored : "it has no such hyperparameter")}); " +
                                              "leave hyperparameters empty when resuming: they are the model's.");
        }
        // A time budget is the run's own (TrainingOptions.time_budget_seconds: "in this run"): not the last run's.
        var options = ProtoMapper.Apply(request.Options, meta.Training with { TimeBudget = null }, limits.MaxEpochs, ResumeChanges);
        CheckEpochs(options);
        options = WithJobTimeCap(options);
        CheckLeftToTrain(name, options, meta.Position);

        var uploaded = meta.Corpus.Name == CorpusStore.UploadedName;
        var corpus = corpora.OfModel(name, folder, meta);
        if (corpus.Sha256 != meta.Corpus.Sha256)
            throw ServerException.Precondition(CorpusChangedMessage(name, meta.Corpus, corpus), ("model", name), ("corpus", meta.Corpus.Name));
        // The limit may have been lowered since the model was made.
        var architecture = Architectures.All.FirstOrDefault(a => a.Name == meta.Architecture);
        HyperParameters? sizes = null;
        try { sizes = architecture?.Resolve(meta.HyperParameters); }
        catch (HyperParameterException) { } // a checkpoint of an older build: the job's start says what is wrong with it
        if (sizes != null)
            CheckMemory(architecture!, sizes, meta.Vocabulary.Symbols.Length, corpus);
        // Of the stored options as the request changed them; a rate not sent is the model's, and its warning says so.
        return JobPlan.Resume(name, folder, corpus, uploaded, meta.Corpus.Name, checkpoint, options, meta.Architecture) with
        {
            Warnings = TrainingWarnings.For(options, rateGiven: request.Options?.LearningRate.Count > 0),
            ResumesFromStep = meta.Position.Step,
        };
    }

    /// <summary>INVALID_ARGUMENT when training the model would need more memory than this server gives a job, by <see cref="TrainingFootprint"/>'s estimate.</summary>
    private void CheckMemory(Architecture architecture, HyperParameters hp, int vocabulary, Corpus corpus)
    {
        var needed = TrainingFootprint.Bytes(architecture, hp, vocabulary, corpus.Length);
        var limit = limits.JobMemoryLimit;
        if (needed <= limit) return;
        // Each size as the request's field, as the server's other refusals name them, so that a client can say it as its user types it.
        var read = TrainingFootprint.SizesRead.Where(hp.Values.ContainsKey).ToList();
        var sizes = string.Join(", ", read.Select(n => $"hyperparameters[{n}] = {hp.Int(n)}"));
        var smaller = read.Where(n => n != "layers").Select(n => $"hyperparameters[{n}]").ToList();
        var fewer = read.Contains("layers") ? ", or fewer hyperparameters[layers]" : "";
        throw ServerException.Invalid($"Training this model would need about {TrainingFootprint.Format(needed)} ({architecture.Name}: {sizes}, a vocabulary of {vocabulary}, " +
                                      $"{corpus.Length:N0} characters); this server gives a job at most {TrainingFootprint.Format(limit)} (limit max_job_memory_bytes). " +
                                      $"Use a smaller {ProseList.Of(smaller, "or")}{fewer}.");
    }

    /// <summary>
    /// This server's cap on one job's training time (max_job_seconds, `serve --max-job-hours`), when it has one: a job
    /// without a time budget gets the cap as its budget, so that no job holds the shared device without end; a larger one is refused.
    /// </summary>
    private TrainingOptions WithJobTimeCap(TrainingOptions options)
    {
        if (limits.JobTimeCap is not { } cap) return options;
        if (options.TimeBudget is not { } budget) return options with { TimeBudget = cap };
        if (budget > cap)
            throw ServerException.Invalid($"options.time_budget_seconds = {budget.TotalSeconds:0.###} is more than this server gives one job ({cap.TotalSeconds:0.###} s, " +
                                          $"limit max_job_seconds); ask for at most {cap.TotalSeconds:0.###}, or leave it unset to get that.");
        return options;
    }

    /// <summary>Epochs the request did not set come from the model when resuming, and may be over this server's cap.</summary>
    private void CheckEpochs(TrainingOptions options)
    {
        if (options.Epochs > limits.MaxEpochs)
            throw ServerException.Invalid($"The model's epochs = {options.Epochs} is more than this server allows ({limits.MaxEpochs}, limit max_epochs); set options.epochs to at most {limits.MaxEpochs}.",
                field: "options.epochs");
    }

    /// <summary>
    /// Why model <paramref name="name"/>, trained on <paramref name="trained"/>, cannot be resumed on the text its corpus's name gives
    /// <paramref name="now"/> (a resume continues on the same text or not at all), and what would let it: where the corpora folder's file
    /// of a built-in corpus's name stands in for the built-in text the model was trained on, renaming that file.
    /// </summary>
    private string CorpusChangedMessage(string name, CorpusRecord trained, Corpus now)
    {
        var refused = $"Model '{name}' was trained on corpus '{trained.Name}' with SHA-256 {trained.Sha256[..12]}…, but the server's copy now has {now.Sha256[..12]}…; " +
                      "it cannot be resumed on other text";
        if (trained.Name == CorpusStore.UploadedName)
            return $"{refused} (its copy, {ModelFolder.UploadedCorpusFile} in the model's folder, was changed).";
        if (KnownCorpus.All.Any(k => k.Name == trained.Name && k.Sha256 == trained.Sha256) && corpora.KnownCorporaReplaced().Any(r => r.Name == trained.Name))
            return $"{refused}: the corpora folder's {trained.Name}.txt is used in place of the built-in text it was trained on. " +
                   $"To resume it, rename that file (the built-in text is then offered as '{trained.Name}' again, and the file under its new name).";
        return $"{refused}. To resume it, put the text it was trained on (SHA-256 {trained.Sha256}) back as corpus '{trained.Name}'.";
    }

    /// <summary>
    /// A resume that asks for no more than the model has trained would end at once and rewrite its
    /// last.ckpt for nothing: refused, saying which option to raise.
    /// </summary>
    private void CheckLeftToTrain(string name, TrainingOptions options, TrainingPosition at)
    {
        if (!options.Reached(at)) return;
        if (options.MaxSteps > 0 && at.Step >= options.MaxSteps)
            throw ServerException.Invalid($"Model '{name}' has trained {at.Step} step(s) and options.max_steps is {options.MaxSteps}: nothing is left to train. " +
                                          $"Ask for more: options.max_steps above {at.Step}, or options.max_steps 0 to train to its epochs ({options.Epochs}).", field: "options.max_steps");
        throw ServerException.Invalid(at.Epoch >= limits.MaxEpochs
            ? $"Model '{name}' has trained {at.Epoch} epoch(s), as many as this server allows (limit max_epochs = {limits.MaxEpochs}): nothing is left to train."
            : $"Model '{name}' has trained {at.Epoch} epoch(s), and options.epochs is {options.Epochs}: nothing is left to train. Ask for more: options.epochs above {at.Epoch} (at most {limits.MaxEpochs}; it counts epochs in total).",
            field: "options.epochs");
    }

    /// <summary>
    /// A new model's corpus, named or sent; refused now, not after the job waited its turn in the queue, where it holds a
    /// NUL (<see cref="NulInCorpus"/>, as Trainer refuses it). A resume's corpus is its model's (PlanResume).
    /// </summary>
    private (Corpus Corpus, bool Uploaded) Corpus(Api.StartJobRequest request, Caller caller)
    {
        var (corpus, uploaded) = CorpusAsGiven(request, caller);
        if (NulInCorpus.Why(corpus.Text) is { } why)
            throw ServerException.Invalid($"{(uploaded ? "corpus_text" : $"Corpus '{corpus.Name}'")} {why}.", field: uploaded ? "corpus_text" : "corpus_name");
        return (corpus, uploaded);
    }

    private (Corpus Corpus, bool Uploaded) CorpusAsGiven(Api.StartJobRequest request, Caller caller)
    {
        if (request.CorpusCase != Api.StartJobRequest.CorpusOneofCase.CorpusText)
            return (corpora.Get(request.CorpusName, caller), false);
        // Without a leading BOM and with "\n" line endings, as the corpus is saved (corpus.txt): its fingerprint is of the bytes kept.
        var text = Engine.Text.Corpus.WithUnixLineEndings(request.CorpusText.StartsWith('\uFEFF') ? request.CorpusText[1..] : request.CorpusText);
        // The engine would name the text as a corpus called 'corpus_text'; a client sent a field.
        if (text.Length == 0)
            throw ServerException.Invalid("corpus_text is empty; a corpus needs some text to learn from. Send the text, or name a corpus the server has with corpus_name (ListCorpora).",
                field: "corpus_text");
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > limits.MaxUploadBytes)
            throw ServerException.Invalid($"corpus_text has {bytes.Length:N0} bytes; this server accepts uploads up to {limits.MaxUploadBytes:N0} (limit max_upload_bytes).");
        try
        {
            return (Engine.Text.Corpus.FromBytes(bytes, CorpusStore.UploadedName, "corpus_text"), true);
        }
        catch (CorpusException e)
        {
            throw ServerException.Invalid(e.Message, field: "corpus_text");
        }
    }

    /// <summary>
    /// INVALID_ARGUMENT when the corpus is too short for the batch layout (checked now, not when the job starts), naming as its
    /// field the hyperparameter the message offers to change (bs, context), or the corpus where none can change.
    /// </summary>
    /// <param name="startsFrom">init_from's model, whose hyperparameters the job has: the message names none to change.</param>
    private static void CheckFits(Architecture architecture, HyperParameters hp, TrainingOptions options, Corpus corpus, bool uploaded, string? startsFrom = null)
    {
        try
        {
            TrainingData.CheckFits(architecture, hp, options, corpus.Text.EnumerateRunes().Count(), startsFrom, "options." + ProtoMapper.TrainingOptionField("val_fraction"),
                name => $"hyperparameters[{name}]");
        }
        catch (CorpusLayoutException e)
        {
            throw ServerException.Invalid(e.Message, field: e.Setting is { } setting ? $"hyperparameters[{setting}]" : uploaded ? "corpus_text" : "corpus_name");
        }
    }
}
