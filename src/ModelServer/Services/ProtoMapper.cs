using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Corpora;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Jobs;
using Google.Protobuf.WellKnownTypes;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>
/// The one boundary between the public contract and the engine: every engine or server type
/// becomes a proto message here, and every request's settings an engine value; services only
/// gather these into their responses (lists, counts, a passage's text). This file maps the
/// catalogue (architectures, models, corpora, limits); ProtoMapper.Training.cs jobs, their options
/// and events; ProtoMapper.Generation.cs sessions, sampling and generated text.
/// </summary>
public static partial class ProtoMapper
{
    // Enum maps name every value and throw on the rest, so a value added on one side fails the
    // mapping's test instead of quietly becoming another value on the wire.
    public static Api.HyperParameterSpec.Types.Type ToProto(HyperParameterType type) => type switch
    {
        HyperParameterType.Int => Api.HyperParameterSpec.Types.Type.Int,
        HyperParameterType.Float => Api.HyperParameterSpec.Types.Type.Float,
        HyperParameterType.Bool => Api.HyperParameterSpec.Types.Type.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no proto value for this hyperparameter type"),
    };

    public static Api.HyperParameterSpec ToProto(HyperParameterSpec spec, ServerLimits? limits = null) => new()
    {
        Name = spec.Name,
        Type = ToProto(spec.Type),
        DefaultValue = limits?.DefaultOf(spec) ?? spec.Default,
        Min = spec.Min,
        Max = limits?.MaxOf(spec) ?? spec.Max,
        Doc = spec.Doc,
        CappedByServer = limits != null && limits.MaxOf(spec) < spec.Max,
    };

    /// <summary>A training option's spec, with this server's cap on epochs and the proto field it sets.</summary>
    public static Api.HyperParameterSpec ToTrainingOptionProto(HyperParameterSpec spec, ServerLimits? limits)
    {
        var result = ToProto(spec);
        if (spec.Name == "epochs" && limits != null) result.Max = Math.Min(result.Max, limits.MaxEpochs);
        result.CappedByServer = result.Max < spec.Max;
        result.OptionField = TrainingOptionField(spec.Name);
        return result;
    }

    /// <summary>
    /// The options only a server job has (the CLI takes a time budget as a duration, and prints
    /// progress as it goes), listed with the others so a form can check them too.
    /// </summary>
    public static IEnumerable<Api.HyperParameterSpec> ServerTrainingOptionProtos()
    {
        var defaults = new TrainingOptions();
        yield return ToTrainingOptionProto(new HyperParameterSpec("time_budget_seconds", HyperParameterType.Float, 0, 0, TrainingOptions.MaxTimeBudgetSeconds,
            $"Stop after this much training time in this run (0: no limit; otherwise at least {TrainingOptions.MinTimeBudgetSeconds}; at most {TrainingOptions.MaxTimeBudgetDays} days)."), null);
        yield return ToTrainingOptionProto(new HyperParameterSpec("progress_interval_seconds", HyperParameterType.Float, defaults.ProgressInterval.TotalSeconds,
            TrainingOptions.MinProgressIntervalSeconds, TrainingOptions.MaxProgressIntervalSeconds, "Minimum seconds between progress events."), null);
    }

    // The engine (and the CLI and REPL) name some options by short keys; the proto spells them out.
    private static readonly Dictionary<string, string> TrainingOptionFields = new()
    {
        ["lr"] = "learning_rate", ["wd"] = "weight_decay", ["lower"] = "lowercase", ["val_fraction"] = "valid_fraction", ["keep_cycles"] = "keep_cycle_checkpoints",
    };

    public static string TrainingOptionField(string key) => TrainingOptionFields.GetValueOrDefault(key, key);

    /// <summary>
    /// An engine error about a training option, naming the TrainingOptions field ("lr = …" becomes "options.learning_rate = …";
    /// a schedule's errors all start "schedule '…'", so become "options.schedule '…'"). A product's keys ("lr × wd = 5 × 0.5")
    /// are each named so, and so are the later words naming a key the proto spells otherwise ("a smaller lr or wd"); a key
    /// in a formula ("1 − lr·wd") stays.
    /// </summary>
    private static string InProtoTerms(string engineMessage)
    {
        var subject = System.Text.RegularExpressions.Regex.Match(engineMessage, "^[a-z][a-z_]*(?: × [a-z][a-z_]*)*");
        var keys = subject.Value.Split(" × ");
        var rest = engineMessage[subject.Length..];
        foreach (var key in keys.Where(TrainingOptionFields.ContainsKey))
            rest = System.Text.RegularExpressions.Regex.Replace(rest, $@"(?<=[\s(]){key}(?=[\s.,;)])", "options." + TrainingOptionFields[key]);
        // A value per layer group, "0.1,2,0.1", as the repeated field it was sent as.
        rest = System.Text.RegularExpressions.Regex.Replace(rest, @"^ = ([^\s,]+(?:,[^\s,]+)+) ", m => $" = [{m.Groups[1].Value.Replace(",", ", ")}] ");
        return string.Join(" × ", keys.Select(k => "options." + TrainingOptionField(k))) + rest;
    }

    public static Api.Architecture ToProto(Architecture a, ServerLimits limits)
    {
        var result = new Api.Architecture
        {
            Name = a.Name,
            Summary = a.Summary,
            Stateful = a.IsStateful,
            DefaultLearningRate = a.DefaultLearningRate,
            DefaultWeightDecay = a.DefaultWeightDecay,
            LessonClass = CharRnn.Engine.Text.LessonNames.ClassOf(a.Name) ?? "",
        };
        result.Hyperparameters.AddRange(a.Parameters.Select(p => ToProto(p, limits)));
        return result;
    }

    public static Api.ModelSummary ToProto(ModelListing m, bool training, bool queued)
    {
        var summary = new Api.ModelSummary { Name = m.Name, SizeBytes = m.Bytes, Training = training, Queued = queued, Error = m.Error ?? "", Warning = m.Warning ?? "" };
        if (m.Metadata is not { } meta) return summary;
        summary.Architecture = meta.Architecture;
        summary.ParameterCount = meta.ParameterCount;
        if (double.IsFinite(meta.Position.BestValidLoss)) summary.BestValidLoss = meta.Position.BestValidLoss;
        if (meta.ValidationOfWeights is { } last && double.IsFinite(last.Loss)) summary.LastValidLoss = last.Loss;
        summary.CorpusName = meta.Corpus.Name;
        summary.CorpusSha256 = meta.Corpus.Sha256;
        summary.Created = Timestamp.FromDateTimeOffset(meta.Created);
        summary.Saved = Timestamp.FromDateTimeOffset(meta.Saved);
        summary.EpochsTrained = meta.Position.Epoch;
        summary.StepsTrained = meta.Position.Step;
        summary.VocabularySize = meta.Vocabulary.Symbols.Length;
        summary.Lowercase = meta.Vocabulary.Lowercase;
        return summary;
    }

    /// <summary>
    /// A model a job is making and has not saved yet, listed as training (or queued, before its job runs) with what its job
    /// knows of it, from the <paramref name="plan"/> read with it: the job may have ended (and forgotten its plan) since.
    /// </summary>
    public static Api.ModelSummary ToUnsavedSummary(TrainingJob job, JobPlan plan, bool queued) => new()
    {
        Name = job.ModelName, Architecture = job.Architecture, Training = !queued, Queued = queued, Owner = job.Owner,
        CorpusName = plan.CorpusName, CorpusSha256 = plan.Corpus.Sha256, Lowercase = plan.Options?.Lowercase ?? false,
    };

    public static Api.ModelDetails ToDetails(ModelListing m, bool training, bool queued)
    {
        var meta = m.Metadata ?? throw ServerException.Precondition($"Model '{m.Name}' cannot be read: {m.Error}", ("model", m.Name));
        var details = new Api.ModelDetails
        {
            Summary = ToProto(m, training, queued),
            TrainingOptions = ToProto(meta.Training),
            Vocabulary = string.Concat(meta.Vocabulary.Symbols),
            Checkpoint = Path.GetFileName(m.CheckpointPath ?? ""),
        };
        details.Hyperparameters.Add(meta.HyperParameters);
        details.History.AddRange(meta.History.Select(ToProto));
        if (meta.InitFrom is { } from)
        {
            details.InitFrom = new Api.InitFrom { Model = from.Model, Checkpoint = from.Checkpoint, Epoch = from.Epoch };
            if (from.ValidLoss is { } loss) details.InitFrom.ValidLoss = loss;
        }
        return details;
    }

    public static Api.EpochRecord ToProto(EpochRecord r) => new()
    {
        Epoch = r.Epoch,
        Step = r.Step,
        TrainLoss = r.TrainLoss,
        ValidLoss = r.ValidLoss,
        ValidAccuracy = r.ValidAccuracy,
        LearningRate = r.LearningRate,
        ElapsedSeconds = r.ElapsedSeconds,
        Sample = r.Sample ?? "",
    };

    public static Api.CorpusInfo ToProto(CorpusEntry c) => new()
    {
        Name = c.Name,
        Description = c.Description,
        Characters = c.Characters,
        CodePoints = c.CodePoints,
        Sha256 = c.Sha256,
        Available = c.Available,
        Uploaded = c.Uploaded,
        Owner = c.Owner ?? "",
        UploadedAt = c.UploadedAt is { } at ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at) : null,
    };

    public static Api.KeyUsage ToProto(KeyUsage u) =>
        new() { Key = u.Key, Sessions = u.Sessions, Jobs = u.Jobs, CharsLastMinute = u.CharsLastMinute, Models = u.Models, Corpora = u.Corpora };

    public static Api.Limits ToProto(ServerLimits l) => new()
    {
        MaxSessions = l.MaxSessions,
        MaxCharsPerCall = l.MaxCharsPerCall,
        MaxPrimeChars = l.MaxPrimeChars,
        MaxUploadBytes = l.MaxUploadBytes,
        MaxQueuedJobs = l.MaxQueuedJobs,
        SessionIdleSeconds = l.SessionIdleSeconds,
        MaxTemperature = SamplingSettings.MaxTemperature,
        MaxSessionsPerKey = l.MaxSessionsPerKey,
        MaxJobsPerKey = l.MaxJobsPerKey,
        MaxCharsPerMinutePerKey = l.MaxCharsPerMinutePerKey,
        MaxModelsPerKey = l.MaxModelsPerKey,
        MaxJobMemoryBytes = l.JobMemoryLimit,
        MaxEpochs = l.MaxEpochs,
        MaxMessageBytes = l.MaxMessageBytes,
        MaxTrainingMessageBytes = l.MaxTrainingMessageBytes,
        MaxJobSeconds = l.MaxJobHours * 3600,
        MaxCorpusBytes = l.MaxCorpusBytes,
        MaxCorporaPerKey = l.MaxCorporaPerKey,
        MaxExports = l.MaxExports,
        MaxExportsPerKey = l.ExportsPerKeyInForce,
        MaxImportBytes = l.MaxImportBytes,
        MaxImports = l.MaxImports,
        MaxImportsPerKey = l.ImportsPerKeyInForce,
    };
}
