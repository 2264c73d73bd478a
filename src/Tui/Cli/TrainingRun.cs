using System.Globalization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>What charrnn train and charrnn resume do once their trainer is made: run it to its end on the console.</summary>
internal static class TrainingRun
{
    /// <summary>
    /// The console a run reports on. Made before the command's first line: from then on Ctrl+C stops the run
    /// cleanly (a checkpoint, exit 130), where one before its handlers were there would end the process unhandled.
    /// </summary>
    public static TrainingConsole NewConsole() => new(Console.Out, live: !Console.IsOutputRedirected);

    public static int RunToEnd(Trainer trainer, TrainingConsole console)
    {
        console.Attach(trainer);
        TrainingOutcome outcome;
        try { outcome = trainer.Run(console.Stopping); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk or a folder taken away mid-run: the run failed (exit 1), not its arguments (2).
            outcome = new TrainingOutcome(TrainingOutcomeKind.Failed, $"could not write a checkpoint: {e.Message}{Kept(trainer.Directory!)}", null, trainer.History.LastOrDefault());
        }
        // Ended between epoch ends (max_steps, a time budget): the run validated its last weights before saving them.
        // Said before the run's last line, as an epoch's validation comes before what follows it.
        if (outcome.Kind != TrainingOutcomeKind.Failed && trainer.Position.Batch > 0 && trainer.CurrentValidation is var (loss, accuracy))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"validation loss {loss:F4} nats/char, accuracy {accuracy:P1} at step {trainer.Position.Step} (mid-epoch)"));
        }
        console.Report(outcome);
        // 128 + the signal, as a shell gives a run a signal ended: `charrnn train … && charrnn generate …` stops there.
        return outcome.Kind == TrainingOutcomeKind.Failed ? 1 : console.SignalExitCode ?? 0;
    }

    /// <summary>
    /// What a run whose checkpoint could not be written leaves to go on from, and how: a log read after the fact (a cron
    /// job's, a full disk's) says what to do next. Checkpoints are written whole or not at all, so one that reads is the run's.
    /// </summary>
    private static string Kept(string folder)
    {
        var last = Path.Combine(folder, Trainer.LastCheckpoint);
        try
        {
            if (File.Exists(last))
                return $"; {last} is whole, as of step {CheckpointFile.ReadMetadata(last).Position.Step}: charrnn resume {ShellWord.Of(folder)} continues from it once a checkpoint can be written there.";
        }
        catch (CheckpointException) { } // not the run's: as if none
        var best = ModelFolder.ResumeFromBestHint(folder);
        return best.Length > 0 ? $"; no last.ckpt of this run was saved, but {best["; ".Length..]} once a checkpoint can be written there."
            : "; no checkpoint of this run was saved: run it again once one can be written there.";
    }

    public static string ParentOf(string folder) => Path.GetDirectoryName(Path.GetFullPath(folder)) ?? ".";
}
