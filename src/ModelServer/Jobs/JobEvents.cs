using System.Text.Json.Serialization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Training;

namespace CharRnn.ModelServer.Jobs;

/// <summary>What happened in a job; the services map these to the proto's JobEvent oneof. Stored as JSON, tagged by kind.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(JobQueued), "queued")]
[JsonDerivedType(typeof(JobStarted), "started")]
[JsonDerivedType(typeof(JobProgressed), "progress")]
[JsonDerivedType(typeof(JobEpochEnded), "epoch_end")]
[JsonDerivedType(typeof(JobCheckpointSaved), "checkpoint_saved")]
[JsonDerivedType(typeof(JobFinished), "finished")]
[JsonDerivedType(typeof(JobFailed), "failed")]
[JsonDerivedType(typeof(JobStopped), "stopped")]
public abstract record JobEventPayload
{
    /// <summary>The job's last event: a watcher's stream ends with it.</summary>
    [JsonIgnore]
    public bool IsTerminal => this is JobFinished or JobFailed or JobStopped;
}

public sealed record JobQueued(int Position) : JobEventPayload;
/// <summary>
/// <paramref name="InitFrom"/>: the model a fine-tune starts from; null otherwise (and in events stored before it was added).
/// <paramref name="CorpusCharacters"/>: the corpus's size in UTF-16 units; <paramref name="CorpusCodePoints"/> in characters
/// (code points), 0 in events stored before it was added.
/// </summary>
public sealed record JobStarted(string Device, long TotalSteps, long ParameterCount, long ResumedFromStep, int VocabularySize, long CorpusCharacters,
    string? InitFrom = null, long CorpusCodePoints = 0) : JobEventPayload;
public sealed record JobProgressed(TrainingProgress Progress) : JobEventPayload;
public sealed record JobEpochEnded(EpochRecord Record) : JobEventPayload;
/// <summary>A checkpoint is whole on disk. <paramref name="Step"/>: the step it holds, which later progress may have passed by the time the write ends.</summary>
public sealed record JobCheckpointSaved(string File, string Reason, int Epoch, long Step) : JobEventPayload;
/// <summary>
/// A job's end. <see cref="Epoch"/>: the job's epoch as it ended (Job.epoch), stored with it so that a
/// restart reports it for the ended job (the jobs table has no column for it); null in events stored
/// before it was added, and in none the services send (the proto's end events have no such field).
/// </summary>
public abstract record JobEnd : JobEventPayload
{
    public int? Epoch { get; init; }
}
/// <summary>
/// <paramref name="Final"/>: the validation loss and accuracy of the weights the job ended with, when measured.
/// <paramref name="StoppedEarly"/>: its patience ended it before its epochs (false in events stored before it was added).
/// </summary>
public sealed record JobFinished(string Reason, double? BestValidLoss, ValidationRecord? Final = null, bool StoppedEarly = false) : JobEnd;
public sealed record JobFailed(string Reason) : JobEnd;
/// <summary>
/// <paramref name="OnRequest"/>: someone stopped it (StopJob), not its time budget or the server's shutdown.
/// <paramref name="At"/>: where its model stands, epochs done and steps into the next (null for a job stopped before it
/// started, and in events stored before it was added).
/// </summary>
public sealed record JobStopped(string Reason, bool CheckpointSaved, ValidationRecord? Final = null, bool OnRequest = false, StoppedAt? At = null) : JobEnd;
/// <summary>Epochs completed at a stop, and steps trained into the next epoch of <paramref name="BatchesInEpoch"/>.</summary>
public sealed record StoppedAt(int EpochsCompleted, long StepsIntoEpoch, int BatchesInEpoch)
{
    public static StoppedAt Of(Trainer trainer) => new(trainer.Position.Epoch, trainer.Position.Batch, trainer.BatchesInEpoch);
}

public sealed record JobEvent(long Sequence, string JobId, DateTimeOffset Time, long Step, JobEventPayload Payload);
