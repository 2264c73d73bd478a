using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Corpora;
using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Jobs;
using CharRnn.ModelServer.Sessions;
using Google.Protobuf.WellKnownTypes;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>
/// The one boundary between the public contract and the engine: every proto message is built
/// or read here, and nowhere else in the server.
/// </summary>
public static class ProtoMapper
{
    // ---- catalogue -----------------------------------------------------------------------

    public static Api.HyperParameterSpec ToProto(HyperParameterSpec spec, ServerLimits? limits = null) => new()
    {
        Name = spec.Name,
        Type = spec.Type switch
        {
            HyperParameterType.Int => Api.HyperParameterSpec.Types.Type.Int,
            HyperParameterType.Float => Api.HyperParameterSpec.Types.Type.Float,
            _ => Api.HyperParameterSpec.Types.Type.Bool,
        },
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

    /// <summary>An engine error about a training option, naming the TrainingOptions field ("lr = …" becomes "options.learning_rate = …").</summary>
    private static string InProtoTerms(string engineMessage)
    {
        var key = engineMessage.Split(' ', 2)[0];
        return key == "sgdr" // the schedule's own settings ("sgdr cycle_len = …")
            ? "options.schedule: " + engineMessage
            : "options." + TrainingOptionField(key) + engineMessage[key.Length..];
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
        };
        result.Hyperparameters.AddRange(a.Parameters.Select(p => ToProto(p, limits)));
        return result;
    }

    public static Api.ModelSummary ToProto(ModelListing m, bool training)
    {
        var summary = new Api.ModelSummary { Name = m.Name, SizeBytes = m.Bytes, Training = training, Error = m.Error ?? "", Warning = m.Warning ?? "" };
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

    public static Api.ModelDetails ToDetails(ModelListing m, bool training)
    {
        var meta = m.Metadata ?? throw ServerException.Precondition($"Model '{m.Name}' cannot be read: {m.Error}");
        var details = new Api.ModelDetails
        {
            Summary = ToProto(m, training),
            TrainingOptions = ToProto(meta.Training),
            Vocabulary = string.Concat(meta.Vocabulary.Symbols),
            Checkpoint = Path.GetFileName(m.CheckpointPath ?? ""),
        };
        details.Hyperparameters.Add(meta.HyperParameters);
        details.History.AddRange(meta.History.Select(ToProto));
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
        Sha256 = c.Sha256,
        Available = c.Available,
    };

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
    };

    // ---- training ------------------------------------------------------------------------

    public static Api.TrainingOptions ToProto(TrainingOptions o)
    {
        var result = new Api.TrainingOptions
        {
            Epochs = o.Epochs,
            MaxSteps = o.MaxSteps,
            TimeBudgetSeconds = o.TimeBudget?.TotalSeconds ?? 0,
            Optimizer = o.Optimizer,
            Schedule = o.Schedule,
            Clip = o.Clip,
            Lowercase = o.Lowercase,
            MinFreq = o.MinFrequency,
            ValidFraction = o.ValidFraction,
            Seed = o.Seed,
            SampleChars = o.SampleChars,
            ProgressIntervalSeconds = o.ProgressInterval.TotalSeconds,
            KeepCycleCheckpoints = o.KeepCycleCheckpoints,
        };
        result.LearningRate.AddRange(Values(o.LearningRate));
        result.WeightDecay.AddRange(Values(o.WeightDecay));
        return result;
    }

    /// <summary>
    /// Applies the fields a request set onto <paramref name="start"/>; <paramref name="allowed"/> limits
    /// which may change (resume). A field set to the value it has is no change: a client may send back
    /// the options GetModel gave it.
    /// </summary>
    /// <summary>
    /// <paramref name="start"/> with the fields <paramref name="o"/> sets, validated; only the
    /// <paramref name="allowed"/> ones may change (when resuming), and epochs are capped at <paramref name="maxEpochs"/>.
    /// </summary>
    public static TrainingOptions Apply(Api.TrainingOptions? o, TrainingOptions start, int maxEpochs, IReadOnlySet<string>? allowed = null)
    {
        if (o == null) return start;
        var result = start;
        void Check(bool changes, string field)
        {
            if (changes && allowed != null && !allowed.Contains(field))
                throw ServerException.Invalid($"options.{field} cannot change when resuming (it defines the data, vocabulary or optimizer state); " +
                                              $"leave it unset or as the model has it; these can change: {string.Join(", ", allowed.Order())}.");
        }
        Check(o.HasEpochs, "epochs");
        if (o.HasEpochs)
        {
            // The server's cap, not the engine's: the message names the range this server accepts.
            var cap = Math.Min(maxEpochs, TrainingOptions.MaxEpochs);
            if (o.Epochs < 1 || o.Epochs > cap)
                throw ServerException.Invalid($"options.epochs = {o.Epochs} is not allowed; use 1 to {cap}{(cap < TrainingOptions.MaxEpochs ? " (limit max_epochs)" : "")}.");
            result = result with { Epochs = o.Epochs };
        }
        Check(o.HasMaxSteps, "max_steps"); if (o.HasMaxSteps) result = result with { MaxSteps = o.MaxSteps };
        Check(o.HasTimeBudgetSeconds, "time_budget_seconds");
        if (o.HasTimeBudgetSeconds)
        {
            // Under a millisecond would round to no time at all; over a year is a typo, as the CLI's --time-budget takes it.
            if (!double.IsFinite(o.TimeBudgetSeconds) || o.TimeBudgetSeconds < 0 || (o.TimeBudgetSeconds > 0 && o.TimeBudgetSeconds < TrainingOptions.MinTimeBudgetSeconds)
                || o.TimeBudgetSeconds > TrainingOptions.MaxTimeBudgetSeconds)
                throw ServerException.Invalid($"options.time_budget_seconds = {o.TimeBudgetSeconds} is not allowed; use 0 (no limit) or {TrainingOptions.MinTimeBudgetSeconds} to " +
                                              $"{TrainingOptions.MaxTimeBudgetSeconds} seconds ({TrainingOptions.MaxTimeBudgetDays} days).");
            result = result with { TimeBudget = o.TimeBudgetSeconds > 0 ? TimeSpan.FromSeconds(o.TimeBudgetSeconds) : null };
        }
        // An empty string is proto3's "not set", for optimizer and schedule alike: the default (the model's own when resuming).
        var optimizer = o.HasOptimizer && o.Optimizer != "";
        var schedule = o.HasSchedule && o.Schedule != "";
        Check(optimizer && o.Optimizer != start.Optimizer, "optimizer"); if (optimizer) result = result with { Optimizer = o.Optimizer };
        Check(o.LearningRate.Count > 0, "learning_rate"); if (o.LearningRate.Count > 0) result = result with { LearningRate = Groups(o.LearningRate, "learning_rate") };
        Check(o.WeightDecay.Count > 0, "weight_decay"); if (o.WeightDecay.Count > 0) result = result with { WeightDecay = Groups(o.WeightDecay, "weight_decay") };
        Check(schedule, "schedule"); if (schedule) result = result with { Schedule = o.Schedule };
        Check(o.HasClip, "clip"); if (o.HasClip) result = result with { Clip = o.Clip };
        Check(o.HasLowercase && o.Lowercase != start.Lowercase, "lowercase"); if (o.HasLowercase) result = result with { Lowercase = o.Lowercase };
        Check(o.HasMinFreq && o.MinFreq != start.MinFrequency, "min_freq"); if (o.HasMinFreq) result = result with { MinFrequency = o.MinFreq };
        Check(o.HasValidFraction && o.ValidFraction != start.ValidFraction, "valid_fraction"); if (o.HasValidFraction) result = result with { ValidFraction = o.ValidFraction };
        Check(o.HasSeed && o.Seed != start.Seed, "seed"); if (o.HasSeed) result = result with { Seed = o.Seed };
        Check(o.HasSampleChars, "sample_chars"); if (o.HasSampleChars) result = result with { SampleChars = o.SampleChars };
        Check(o.HasKeepCycleCheckpoints, "keep_cycle_checkpoints"); if (o.HasKeepCycleCheckpoints) result = result with { KeepCycleCheckpoints = o.KeepCycleCheckpoints };
        Check(o.HasProgressIntervalSeconds, "progress_interval_seconds");
        if (o.HasProgressIntervalSeconds)
        {
            if (!double.IsFinite(o.ProgressIntervalSeconds) || o.ProgressIntervalSeconds < TrainingOptions.MinProgressIntervalSeconds || o.ProgressIntervalSeconds > TrainingOptions.MaxProgressIntervalSeconds)
                throw ServerException.Invalid($"options.progress_interval_seconds = {o.ProgressIntervalSeconds} is not allowed; use {TrainingOptions.MinProgressIntervalSeconds} to {TrainingOptions.MaxProgressIntervalSeconds} seconds.");
            result = result with { ProgressInterval = TimeSpan.FromSeconds(o.ProgressIntervalSeconds) };
        }
        try
        {
            result = result.Validate();
        }
        catch (ArgumentException e)
        {
            throw ServerException.Invalid(InProtoTerms(e.Message));
        }
        // Asked for now, it would keep nothing: only SGDR has cycles to end.
        if (o.HasKeepCycleCheckpoints && o.KeepCycleCheckpoints && LearningRateSchedule.Parse(result.Schedule) is not SgdrSchedule)
            throw ServerException.Invalid($"options.keep_cycle_checkpoints keeps each SGDR cycle's end, and schedule '{result.Schedule}' has no cycles; " +
                                          "set options.schedule to sgdr:cycle_len=1,cycle_mult=2 (say), or drop keep_cycle_checkpoints.");
        return result;
    }

    /// <summary>The job as <paramref name="state"/> and <paramref name="queuePosition"/> (read together) say it is.</summary>
    public static Api.Job ToProto(TrainingJob job, JobState state, int queuePosition)
    {
        var result = new Api.Job
        {
            Id = job.Id,
            ModelName = job.ModelName,
            Owner = job.Owner,
            Architecture = job.Architecture,
            State = state switch
            {
                JobState.Queued => Api.Job.Types.State.Queued,
                JobState.Running => Api.Job.Types.State.Running,
                JobState.Finished => Api.Job.Types.State.Finished,
                JobState.Failed => Api.Job.Types.State.Failed,
                _ => Api.Job.Types.State.Stopped,
            },
            Created = Timestamp.FromDateTimeOffset(job.Created),
            Step = job.Step,
            TotalSteps = job.TotalSteps,
            Epoch = job.Epoch,
            LastLoss = double.IsFinite(job.LastLoss) ? job.LastLoss : 0,
            Reason = job.Reason,
            QueuePosition = queuePosition,
            CharsPerSecond = job.CharsPerSecond,
        };
        if (job.Started is { } started) result.Started = Timestamp.FromDateTimeOffset(started);
        if (job.Ended is { } ended) result.Ended = Timestamp.FromDateTimeOffset(ended);
        if (job.BestValidLoss is { } best && double.IsFinite(best)) result.BestValidLoss = best;
        return result;
    }

    public static Api.JobEvent ToProto(JobEvent e)
    {
        var result = new Api.JobEvent { Sequence = e.Sequence, JobId = e.JobId, Time = Timestamp.FromDateTimeOffset(e.Time), Step = e.Step };
        switch (e.Payload)
        {
            case JobQueued q:
                result.Queued = new Api.JobEvent.Types.Queued { Position = q.Position };
                break;
            case JobStarted s:
                result.Started = new Api.JobEvent.Types.Started
                {
                    Device = s.Device, TotalSteps = s.TotalSteps, ParameterCount = s.ParameterCount, ResumedFromStep = s.ResumedFromStep,
                    VocabularySize = s.VocabularySize, CorpusCharacters = s.CorpusCharacters,
                };
                break;
            case JobProgressed { Progress: var p }:
                result.Progress = new Api.JobEvent.Types.Progress
                {
                    Step = p.Step, Epoch = p.Epoch, Batch = p.Batch, BatchesInEpoch = p.BatchesInEpoch, EpochProgress = p.EpochProgress,
                    Loss = p.Loss, LearningRate = p.LearningRate, CharsPerSecond = p.CharsPerSecond, ElapsedSeconds = p.Elapsed.TotalSeconds,
                    TotalSteps = p.TotalSteps,
                };
                if (p.Remaining is { } eta) result.Progress.EtaSeconds = eta.TotalSeconds;
                break;
            case JobEpochEnded { Record: var r }:
                result.EpochEnd = new Api.JobEvent.Types.EpochEnd { Record = ToProto(r) };
                break;
            case JobCheckpointSaved c:
                result.CheckpointSaved = new Api.JobEvent.Types.CheckpointSaved { File = c.File, Reason = c.Reason, Epoch = c.Epoch, Step = c.Step };
                break;
            case JobFinished f:
                result.Finished = new Api.JobEvent.Types.Finished { Reason = f.Reason };
                if (f.BestValidLoss is { } best && double.IsFinite(best)) result.Finished.BestValidLoss = best;
                if (f.Final is { } finished) (result.Finished.FinalValidLoss, result.Finished.FinalValidAccuracy) = (finished.Loss, finished.Accuracy);
                break;
            case JobFailed f:
                result.Failed = new Api.JobEvent.Types.Failed { Reason = f.Reason };
                break;
            case JobStopped s:
                result.Stopped = new Api.JobEvent.Types.Stopped { Reason = s.Reason, CheckpointSaved = s.CheckpointSaved };
                if (s.Final is { } stopped) (result.Stopped.FinalValidLoss, result.Stopped.FinalValidAccuracy) = (stopped.Loss, stopped.Accuracy);
                break;
        }
        return result;
    }

    // ---- generation ----------------------------------------------------------------------

    /// <summary>Engine settings from a request: unset fields from <paramref name="start"/>, or the defaults (temperature 1, seed random).</summary>
    public static SamplingSettings FromProto(Api.SamplingSettings? s, SamplingSettings? start = null)
    {
        var result = start ?? new SamplingSettings(Temperature: 1.0, Seed: SamplingSettings.DrawSeed());
        if (s == null) return result;
        if (s.HasTemperature) result = result with { Temperature = s.Temperature };
        if (s.HasTopK) result = result with { TopK = s.TopK };
        if (s.HasTopP) result = result with { TopP = s.TopP };
        if (s.HasSeed) result = result with { Seed = s.Seed };
        try
        {
            return result.Validate();
        }
        catch (ArgumentException e)
        {
            throw ServerException.Invalid("sampling." + e.Message);
        }
    }

    public static Api.SamplingSettings ToProto(SamplingSettings s) => new()
    {
        Temperature = s.Temperature,
        TopK = s.TopK,
        TopP = s.TopP,
        Seed = s.Seed,
    };

    public static Api.Session ToProto(ServerSession s) => new()
    {
        Id = s.Id,
        ModelName = s.Model.Name,
        Architecture = s.Model.Trained.Architecture.Name,
        Sampling = ToProto(s.Settings),
        CharactersSeen = s.CharactersSeen,
        Created = Timestamp.FromDateTimeOffset(s.Created),
        IdleTimeoutSeconds = (int)s.IdleTimeout.TotalSeconds,
    };

    public static Api.GenerateResponse ToProto(GenerationOutput o, bool probabilities)
    {
        var result = new Api.GenerateResponse
        {
            Text = o.Text,
            Probability = probabilities ? o.Last.Probability : 0,
            CharactersSeen = o.CharactersSeen,
            FinishReason = o.Finish switch
            {
                GenerationFinish.Length => Api.GenerateResponse.Types.FinishReason.Length,
                GenerationFinish.Stop => Api.GenerateResponse.Types.FinishReason.Stop,
                _ => Api.GenerateResponse.Types.FinishReason.Unspecified,
            },
        };
        if (o.Last.Alternatives != null)
            result.Alternatives.AddRange(o.Last.Alternatives.Select(a => new Api.Alternative { Text = a.Text, Probability = a.Probability }));
        return result;
    }

    public static IEnumerable<Api.Alternative> ToProto(IEnumerable<(string Text, float Probability)> alternatives) =>
        alternatives.Select(a => new Api.Alternative { Text = a.Text, Probability = a.Probability });

    private static IEnumerable<double> Values(LayerGroupValues v) => v.IsUniform ? [v.Embedding] : [v.Embedding, v.Recurrent, v.Output];

    private static LayerGroupValues Groups(IList<double> values, string field) => values.Count switch
    {
        1 => LayerGroupValues.All(values[0]),
        3 => new LayerGroupValues(values[0], values[1], values[2]),
        _ => throw ServerException.Invalid($"options.{field} has {values.Count} values; give one, or three (embedding, recurrent, output)."),
    };
}
