using CharRnn.Engine.Checkpoints;

namespace CharRnn.Engine.Training;

public enum TrainingOutcomeKind { Finished, Stopped, Failed }

/// <summary>
/// How a run ended. Stopped runs saved a checkpoint and can be resumed. A run its patience ended
/// (<see cref="StoppedEarly"/>) is finished, its <see cref="Reason"/> saying why; it can be resumed too.
/// </summary>
public sealed record TrainingOutcome(TrainingOutcomeKind Kind, string Reason, string? CheckpointPath, EpochRecord? LastEpoch, bool StoppedEarly = false);
