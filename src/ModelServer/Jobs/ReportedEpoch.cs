namespace CharRnn.ModelServer.Jobs;

/// <summary>
/// The epoch a job reports (Job.epoch, JobEvent.Progress.epoch): the one being trained, 1..epochs, as
/// EpochRecord.epoch numbers an epoch. The engine counts epochs done (0 while the first trains), as
/// ModelSummary.epochs_trained and JobEvent.CheckpointSaved.epoch do (2 while epoch 3 trains), which a client
/// would read as one behind: a finished 2-epoch job reported epoch 1.
/// </summary>
public static class ReportedEpoch
{
    /// <param name="epochsDone">The trainer's position: epochs completed.</param>
    /// <param name="epochs">The run's epochs: a finished job reports its last.</param>
    public static int Of(int epochsDone, int epochs) => Math.Max(1, Math.Min(epochsDone + 1, epochs));
}
