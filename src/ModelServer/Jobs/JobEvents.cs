using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Training;

namespace CharRnn.ModelServer.Jobs;

/// <summary>What happened in a job; the services map these to the proto's JobEvent oneof.</summary>
public abstract record JobEventPayload
{
    public virtual bool IsTerminal => false;
}

public sealed record JobQueued(int Position) : JobEventPayload;
public sealed record JobStarted(string Device, long TotalSteps, long ParameterCount, long ResumedFromStep, int VocabularySize, long CorpusCharacters) : JobEventPayload;
public sealed record JobProgressed(TrainingProgress Progress) : JobEventPayload;
public sealed record JobEpochEnded(EpochRecord Record) : JobEventPayload;
/// <summary>A checkpoint is whole on disk. <paramref name="Step"/>: the step it holds, which later progress may have passed by the time the write ends.</summary>
public sealed record JobCheckpointSaved(string File, string Reason, int Epoch, long Step) : JobEventPayload;
public sealed record JobFinished(string Reason, double? BestValidLoss) : JobEventPayload { public override bool IsTerminal => true; }
public sealed record JobFailed(string Reason) : JobEventPayload { public override bool IsTerminal => true; }
public sealed record JobStopped(string Reason, bool CheckpointSaved) : JobEventPayload { public override bool IsTerminal => true; }

public sealed record JobEvent(long Sequence, string JobId, DateTimeOffset Time, long Step, JobEventPayload Payload);
