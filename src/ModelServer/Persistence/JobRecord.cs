namespace CharRnn.ModelServer.Persistence;

/// <summary>
/// A job as stored: enough to queue it again after a restart, and to tell how it ended when its end event was lost
/// (<paramref name="StoppedOnRequest"/>: stopped by StopJob, not a time budget or a shutdown).
/// </summary>
public sealed record JobRecord(
    string Id, string Owner, string ModelName, string State, JobRecordPlan Plan, DateTimeOffset Created,
    DateTimeOffset? Started, DateTimeOffset? Ended, string Reason, long Step, long TotalSteps, double? BestValidLoss, double RunSeconds = 0,
    string? KeyHash = null, bool StoppedOnRequest = false);

/// <summary>What a job trains: a new model (architecture, hyperparameters) or a resumed one, with its effective options.</summary>
public sealed record JobRecordPlan(string? Architecture, Dictionary<string, double>? HyperParameters, Engine.Training.TrainingOptions Options,
    string CorpusName, bool UploadedCorpus, bool Resume)
{
    /// <summary>A new model started from another's weights (StartJobRequest.init_from): the source's name and checkpoint; null otherwise (and in rows stored before it).</summary>
    public string? InitFromModel { get; init; }
    public string? InitFromCheckpoint { get; init; }
    /// <summary>Job.warnings, as planning gave them in the proto's words; null in rows stored before they were.</summary>
    public string[]? Warnings { get; init; }
    /// <summary>The same warnings in parts (Job.warning_parts); null in rows stored before they had parts.</summary>
    public Engine.Training.TrainingWarning[]? WarningParts { get; init; }

    /// <summary>The stored warnings: in parts, or, in a row stored before they had parts, each sentence as it is.</summary>
    public IReadOnlyList<Engine.Training.TrainingWarning> StoredWarnings() =>
        WarningParts ?? (Warnings ?? []).Select(Engine.Training.TrainingWarning.Sentence).ToArray();
}
