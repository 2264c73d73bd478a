namespace CharRnn.Engine.Training;

/// <summary>Where a run stands, sent at a bounded rate while training (losses in nats per char).</summary>
public sealed record TrainingProgress(
    long Step, int Epoch, int Batch, int BatchesInEpoch, double EpochProgress,
    double Loss, double LearningRate, double CharsPerSecond, TimeSpan Elapsed, TimeSpan? Remaining, long TotalSteps);

public sealed record CheckpointSaved(string Path, string Reason, long Step, int Epoch);
