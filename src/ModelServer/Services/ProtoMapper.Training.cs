using CharRnn.Engine.Training;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Jobs;
using Google.Protobuf.WellKnownTypes;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

public static partial class ProtoMapper
{
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
            Patience = o.Patience,
            MinDelta = o.MinDelta,
        };
        result.LearningRate.AddRange(Values(o.LearningRate));
        result.WeightDecay.AddRange(Values(o.WeightDecay));
        return result;
    }

    /// <summary>
    /// <paramref name="start"/> with the fields <paramref name="o"/> sets, validated; only the
    /// <paramref name="allowed"/> ones may change (when resuming), and epochs are capped at <paramref name="maxEpochs"/>.
    /// A field set to the value it has is no change: a client may send back the options GetModel gave it.
    /// </summary>
    public static TrainingOptions Apply(Api.TrainingOptions? o, TrainingOptions start, int maxEpochs, IReadOnlySet<string>? allowed = null)
    {
        if (o == null) return start;
        var result = start;
        void Check(bool changes, string field)
        {
            if (changes && allowed != null && !allowed.Contains(field))
                throw ServerException.Invalid($"options.{field} cannot change when resuming (it defines the data, vocabulary or optimizer state); " +
                                              $"leave it unset or as the model has it; these can change: {string.Join(", ", allowed.Order())}.", field: "options." + field);
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
        Check(o.HasPatience, "patience"); if (o.HasPatience) result = result with { Patience = o.Patience }; // its range: Validate's, below
        Check(o.HasMinDelta, "min_delta"); if (o.HasMinDelta) result = result with { MinDelta = o.MinDelta };
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
        // Asked for now, it would keep nothing: only SGDR (alone or as a phase) has cycles to end.
        if (o.HasKeepCycleCheckpoints && o.KeepCycleCheckpoints && !LearningRateSchedule.Parse(result.Schedule).HasCycles)
            throw ServerException.Invalid($"options.keep_cycle_checkpoints keeps each SGDR cycle's end, and options.schedule '{result.Schedule}' has no cycles; " +
                                          "set options.schedule to sgdr:cycle_len=1,cycle_mult=2 (say), or a schedule with an sgdr phase, or drop options.keep_cycle_checkpoints.",
                field: "options.keep_cycle_checkpoints");
        // Asked for without patience, it would change nothing: say so rather than train as if it did.
        if (o.HasMinDelta && result.MinDelta > 0 && result.Patience == 0)
            throw ServerException.Invalid($"options.min_delta = {result.MinDelta.ToString(System.Globalization.CultureInfo.InvariantCulture)} only counts with early stopping, and patience is 0 (off); " +
                                          "set options.patience to the epochs to wait (say 3), or drop min_delta.");
        return result;
    }

    public static Api.Job.Types.State ToProto(JobState state) => state switch
    {
        JobState.Queued => Api.Job.Types.State.Queued,
        JobState.Running => Api.Job.Types.State.Running,
        JobState.Finished => Api.Job.Types.State.Finished,
        JobState.Failed => Api.Job.Types.State.Failed,
        JobState.Stopped => Api.Job.Types.State.Stopped,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "no proto value for this job state"),
    };

    /// <summary>The job as <paramref name="state"/> and <paramref name="queuePosition"/> (read together) say it is.</summary>
    public static Api.Job ToProto(TrainingJob job, JobState state, int queuePosition)
    {
        var result = new Api.Job
        {
            Id = job.Id,
            ModelName = job.ModelName,
            Owner = job.Owner,
            Architecture = job.Architecture,
            State = ToProto(state),
            Created = Timestamp.FromDateTimeOffset(job.Created),
            Step = job.Step,
            TotalSteps = job.TotalSteps,
            Epoch = job.Epoch,
            LastLoss = double.IsFinite(job.LastLoss) ? job.LastLoss : 0,
            Reason = job.Reason,
            QueuePosition = queuePosition,
            CharsPerSecond = job.CharsPerSecond,
            InitFrom = job.InitFrom ?? "",
        };
        if (job.Started is { } started) result.Started = Timestamp.FromDateTimeOffset(started);
        if (job.Ended is { } ended) result.Ended = Timestamp.FromDateTimeOffset(ended);
        if (job.BestValidLoss is { } best && double.IsFinite(best)) result.BestValidLoss = best;
        AddWarnings(result, job.Warnings);
        return result;
    }

    /// <summary>Job.warnings, in the proto's words, and the same in parts (Job.warning_parts) for a client to word its own way.</summary>
    private static void AddWarnings(Api.Job job, IReadOnlyList<TrainingWarning> warnings)
    {
        job.Warnings.AddRange(warnings.Select(w => w.Say(TrainingSettingNames.Api)));
        job.WarningParts.AddRange(warnings.Select(ToProto));
    }

    public static Api.TrainingWarning ToProto(TrainingWarning warning) => new()
    {
        Parts =
        {
            warning.Parts.Select(p => new Api.TrainingWarning.Types.Part
            {
                Text = p.Words, Setting = p.Setting is { } s ? TrainingSettingNames.Api.NameOf(s) : "", Values = { p.Values },
            }),
        },
    };

    /// <summary>What CheckJob answers: the job a StartJob would queue, by its model and architecture (it has no id).</summary>
    public static Api.Job ToCheckedJob(JobPlan plan)
    {
        var job = new Api.Job { ModelName = plan.ModelName, Architecture = plan.Architecture?.Name ?? plan.ResumeArchitecture ?? "", InitFrom = plan.InitFromModel ?? "" };
        AddWarnings(job, plan.Warnings);
        return job;
    }

    /// <summary>An event of a job whose warnings are <paramref name="warnings"/>: its queued and started events carry them (as Job.warnings words them).</summary>
    public static Api.JobEvent ToProto(JobEvent e, IReadOnlyList<TrainingWarning> warnings)
    {
        var result = new Api.JobEvent { Sequence = e.Sequence, JobId = e.JobId, Time = Timestamp.FromDateTimeOffset(e.Time), Step = e.Step };
        switch (e.Payload)
        {
            case JobQueued q:
                result.Queued = new Api.JobEvent.Types.Queued { Position = q.Position, Warnings = { warnings.Select(w => w.Say(TrainingSettingNames.Api)) } };
                break;
            case JobStarted s:
                result.Started = new Api.JobEvent.Types.Started
                {
                    Device = s.Device, TotalSteps = s.TotalSteps, ParameterCount = s.ParameterCount, ResumedFromStep = s.ResumedFromStep,
                    VocabularySize = s.VocabularySize, CorpusCharacters = s.CorpusCharacters, CorpusCodePoints = s.CorpusCodePoints, InitFrom = s.InitFrom ?? "",
                    Warnings = { warnings.Select(w => w.Say(TrainingSettingNames.Api)) },
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
                result.Finished = new Api.JobEvent.Types.Finished { Reason = f.Reason, StoppedEarly = f.StoppedEarly };
                if (f.BestValidLoss is { } best && double.IsFinite(best)) result.Finished.BestValidLoss = best;
                if (f.Final is { } finished) (result.Finished.FinalValidLoss, result.Finished.FinalValidAccuracy) = (finished.Loss, finished.Accuracy);
                break;
            case JobFailed f:
                result.Failed = new Api.JobEvent.Types.Failed { Reason = f.Reason };
                break;
            case JobStopped s:
                result.Stopped = new Api.JobEvent.Types.Stopped { Reason = s.Reason, CheckpointSaved = s.CheckpointSaved, OnRequest = s.OnRequest };
                if (s.Final is { } stopped) (result.Stopped.FinalValidLoss, result.Stopped.FinalValidAccuracy) = (stopped.Loss, stopped.Accuracy);
                if (s.At is { } at) (result.Stopped.EpochsCompleted, result.Stopped.StepsIntoEpoch, result.Stopped.BatchesInEpoch) = (at.EpochsCompleted, at.StepsIntoEpoch, at.BatchesInEpoch);
                break;
        }
        return result;
    }

    private static IEnumerable<double> Values(LayerGroupValues v) => v.IsUniform ? [v.Embedding] : [v.Embedding, v.Recurrent, v.Output];

    private static LayerGroupValues Groups(IList<double> values, string field) => values.Count switch
    {
        1 => LayerGroupValues.All(values[0]),
        3 => new LayerGroupValues(values[0], values[1], values[2]),
        _ => throw ServerException.Invalid($"options.{field} has {values.Count} values; give one, or three (embedding, recurrent, output)."),
    };
}
