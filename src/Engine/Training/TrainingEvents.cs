using CharRnn.Engine.Checkpoints;

namespace CharRnn.Engine.Training;

/// <summary>Where a run stands, sent at a bounded rate while training (losses in nats per char).</summary>
public sealed record TrainingProgress(
    long Step, int Epoch, int Batch, int BatchesInEpoch, double EpochProgress,
    double Loss, double LearningRate, double CharsPerSecond, TimeSpan Elapsed, TimeSpan? Remaining, long TotalSteps);

public sealed record CheckpointSaved(string Path, string Reason, long Step, int Epoch);

public enum TrainingOutcomeKind { Finished, Stopped, Failed }

/// <summary>
/// How a run ended. Stopped runs saved a checkpoint and can be resumed. A run its patience ended
/// (<see cref="StoppedEarly"/>) is finished, its <see cref="Reason"/> saying why; it can be resumed too.
/// </summary>
public sealed record TrainingOutcome(TrainingOutcomeKind Kind, string Reason, string? CheckpointPath, EpochRecord? LastEpoch, bool StoppedEarly = false);
