using System.Data.Common;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Corpora;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Persistence;
using CharRnn.ModelServer.Security;

namespace CharRnn.ModelServer.Jobs;

/// <summary>After a restart: queue again what was queued, resume what was running, and restore ended jobs' histories from the database.</summary>
public sealed partial class JobQueue
{
    /// <summary>
    /// After a restart: queues again the jobs that were queued, and resumes the ones that were
    /// running from their last checkpoint (exactly: weights, optimizer, schedule, position). A job
    /// whose key was removed while the server was down is stopped here, before the device loop could
    /// start it, as <see cref="RemovedKeySweeper"/> stops one of a running server: on two reads of the
    /// keys file that agree (<see cref="StopIfKeysStayRemoved"/>).
    /// </summary>
    public void Recover()
    {
        models.RemoveDeleted();
        var removed = removals.Read();
        List<TrainingJob> keyGone = [];
        List<JobRecord> unstored = []; // jobs that could not be recovered, whose failure the database did not take either
        foreach (var record in database.UnfinishedJobs())
        {
            try
            {
                var folder = models.FolderOf(record.ModelName);
                var upload = Path.Combine(folder, ModelFolder.UploadedCorpusFile);
                var corpus = record.Plan.UploadedCorpus ? Corpus.FromFile(upload, CorpusStore.UploadedName) : corpora.Get(record.Plan.CorpusName);
                var checkpoint = Path.Combine(folder, Trainer.LastCheckpoint);
                // A new model's job is planned only where no model is yet, so a checkpoint in its folder is its own:
                // resume from it, whatever the row's state says (a start that failed after a restart left it "queued").
                var resume = File.Exists(checkpoint);
                var options = WithJobTimeCap(record.Id, record.Plan.Options);
                var resumesFrom = resume ? CheckpointFile.ReadMetadata(checkpoint).Position.Step : 0;
                JobPlan plan;
                if (resume)
                {
                    plan = JobPlan.Resume(record.ModelName, folder, corpus, record.Plan.UploadedCorpus, record.Plan.CorpusName, checkpoint, options,
                        record.Plan.Architecture) with { Warnings = record.Plan.StoredWarnings(), ResumesFromStep = resumesFrom };
                }
                else
                {
                    if (record.Plan.Resume) throw new InvalidDataException($"its model's {Trainer.LastCheckpoint} is gone");
                    var architecture = Architectures.Get(record.Plan.Architecture ?? throw new InvalidDataException("no architecture recorded"));
                    plan = JobPlan.NewModel(record.ModelName, folder, corpus, record.Plan.UploadedCorpus, record.Plan.CorpusName, architecture,
                        architecture.Resolve(record.Plan.HyperParameters), options) with
                    {
                        InitFromModel = record.Plan.InitFromModel, InitFromCheckpoint = record.Plan.InitFromCheckpoint, Warnings = record.Plan.StoredWarnings(),
                    };
                }
                var (history, nextSequence) = journal.History(record.Id);
                var job = Enqueue(plan, record.Owner, record.Id, checkQuota: false, (Replayable(history, resumesFrom, keepEnd: false), nextSequence), record.Created,
                    record.KeyHash);
                job.RunTime = TimeSpan.FromSeconds(record.RunSeconds); // a time budget counts what it trained before the restart
                logger.LogInformation("Job {JobId} recovered after a restart ({How})", job.Id, resume ? $"resuming {record.ModelName} from its last checkpoint" : "queued again");
                if (removed?.Gone(job.KeyHash, job.Owner) == true) keyGone.Add(job);
            }
            catch (Exception e) when (e is CorpusException or CheckpointException or InvalidDataException or ArgumentException or ServerException or IOException
                                           or UnauthorizedAccessException or System.Data.Common.DbException)
            {
                // One job that cannot be recovered (its files, or its rows: a damaged page, a full disk) must not stop the server.
                logger.LogWarning("Job {JobId} could not be recovered: {Reason}", record.Id, e.Message);
                var failed = record with
                {
                    State = "failed", Reason = $"could not be recovered after a restart: {(paths.Enabled ? paths.Redact(e.Message) : e.Message)}", Ended = DateTimeOffset.UtcNow,
                };
                try
                {
                    database.UpdateJob(record.Id, failed.State, failed.Reason, record.Step, record.TotalSteps, record.BestValidLoss, null, failed.Ended,
                        TimeSpan.FromSeconds(record.RunSeconds));
                }
                catch (System.Data.Common.DbException stored)
                {
                    // Listed all the same, failed, saying why (a full disk hides nothing from `jobs` until space is freed); its row stays unfinished.
                    logger.LogError("Job {JobId}'s failure could not be stored either ({Reason}); it is listed as failed until the next start, which tries it again", record.Id, stored.Message);
                    unstored.Add(failed with { Reason = $"{failed.Reason} (nor could this be stored: {stored.Message}; the next start tries again)" });
                }
            }
        }
        StopIfKeysStayRemoved(keyGone);
        RestoreEnded(); // after the loop: jobs it could not recover are among them
        // Last, as the newest ended jobs: the older ones RestoreEnded lists must not push these out (which would forget their rows).
        foreach (var record in unstored) RestoreEnded(record);
        lock (_gate) foreach (var record in unstored) _unstoredFailures[record.ModelName] = record.Id;
    }

    /// <summary>
    /// Stops the recovered jobs whose key the keys file did not hold, before the device loop can start them, once a
    /// later read of the file agrees, as <see cref="RemovedKeySweeper"/> wants two sweeps in a row: an editor rewrites
    /// the file in place, and one caught half-written at the start must not stop a valid key's job for good. The file
    /// is read again a sweep's period later, and each period after while it cannot be read (missing, not valid), for
    /// up to <see cref="MaxKeysRereads"/> periods; a key found again keeps its job, and one still unreadable then
    /// leaves its job to the sweeper. The start waits only when some recovered job's key looked removed.
    /// </summary>
    private void StopIfKeysStayRemoved(List<TrainingJob> keyGone)
    {
        if (keyGone.Count == 0) return;
        logger.LogInformation("{Count} recovered job(s) of keys the keys file does not hold ({Keys}): reading it again before stopping them, in case it was being rewritten",
            keyGone.Count, string.Join(", ", keyGone.Select(j => $"'{j.Owner}'").Distinct()));
        RemovedKeys? again = null;
        for (var read = 0; read < MaxKeysRereads && again == null; read++)
        {
            Thread.Sleep(RemovedKeySweeper.Period);
            again = removals.Read();
        }
        foreach (var job in keyGone)
        {
            if (again == null)
                logger.LogWarning("Job {JobId}'s key ('{Key}') may have been removed, but the keys file cannot be read now: the job is queued, and stopped once the file reads without the key twice",
                    job.Id, job.Owner);
            else if (!again.Gone(job.KeyHash, job.Owner))
                logger.LogInformation("Job {JobId} goes on: its key ('{Key}') is in the keys file after all (it was being rewritten)", job.Id, job.Owner);
            else
            {
                logger.LogInformation("Job {JobId} stopped: its key ('{Key}') was removed", job.Id, job.Owner);
                Stop(job.Id, Caller.Local, RemovedKeys.StopReason(job.Owner));
            }
        }
    }

    /// <summary>How many sweep periods a start waits for a keys file it cannot read before it leaves the removed keys' jobs to the sweeper.</summary>
    private const int MaxKeysRereads = 5;

    /// <summary>
    /// This server's cap on one job's training time (`serve --max-job-hours`) applies to a recovered job too, queued or
    /// started under another cap or none: its budget becomes the smaller of its own and the cap, and the log says so.
    /// </summary>
    private Engine.Training.TrainingOptions WithJobTimeCap(string jobId, Engine.Training.TrainingOptions options)
    {
        if (_limits.JobTimeCap is not { } cap || options.TimeBudget <= cap) return options;
        logger.LogInformation("Job {JobId}'s time budget is capped at {Cap} by --max-job-hours (it had {Budget})", jobId, Engine.Training.DurationText.Format(cap), options.TimeBudget is { } budget ? Engine.Training.DurationText.Format(budget) : "none");
        return options with { TimeBudget = cap };
    }

    /// <summary>
    /// The newest ended jobs, as the database has them, so that ListJobs, GetJob and WatchJob know
    /// them after a restart too. Their stored events are read when one is first watched
    /// (<see cref="EndedHistory"/>).
    /// </summary>
    private void RestoreEnded()
    {
        foreach (var record in database.EndedJobs(_limits.MaxEndedJobs).Reverse()) // oldest first, as they ended
            RestoreEnded(record);
    }

    /// <summary>One ended job, listed as <paramref name="record"/> says it ended.</summary>
    private void RestoreEnded(JobRecord record)
    {
        var state = record.State switch { "finished" => JobState.Finished, "stopped" => JobState.Stopped, _ => JobState.Failed };
        var job = new TrainingJob(record.Id, record.Owner, record.ModelName, record.Created, journal.Record)
        {
            // A resume job's row stored before its architecture was: the model's checkpoint says it, while the model is there.
            Architecture = record.Plan.Architecture ?? ArchitectureOf(Path.Combine(models.FolderOf(record.ModelName), Trainer.LastCheckpoint)),
            State = state, Reason = record.Reason, Started = record.Started, Ended = record.Ended, InitFrom = record.Plan.InitFromModel,
            Warnings = record.Plan.StoredWarnings(),
            Step = record.Step, TotalSteps = record.TotalSteps, BestValidLoss = record.BestValidLoss,
        };
        job.Events.RestoreEnded(() => EndedHistory(record, state));
        job.RestoreEpoch(() => EndedEpoch(record.Id));
        List<string> forgotten;
        lock (_gate)
        {
            _byId[job.Id] = job;
            forgotten = RememberEnded(job);
        }
        Forget(forgotten);
    }

    /// <summary>An ended job's epoch (Job.epoch) from its stored events; 0 when they cannot be read.</summary>
    private int EndedEpoch(string jobId)
    {
        try
        {
            return journal.EndedEpoch(jobId);
        }
        catch (Exception e) when (e is DbException or IOException or InvalidOperationException)
        {
            logger.LogWarning(e, "Job {JobId}'s stored events could not be read; it reports epoch 0", jobId);
            return 0;
        }
    }

    /// <summary>
    /// An ended job's stored events, at most <see cref="MaxRestoredProgress"/> of them progress,
    /// and its end. A job whose end was not stored (a kill -9 as it ended, a database older than
    /// the events table), or whose stored end disagrees with its row, gets the end from its row.
    /// </summary>
    private (IReadOnlyList<JobEvent> History, long NextSequence) EndedHistory(JobRecord record, JobState state)
    {
        List<JobEvent> history;
        long nextSequence;
        try
        {
            var (stored, next) = journal.History(record.Id, goesOn: false);
            history = Replayable(stored, resumesFrom: null, keepEnd: true);
            nextSequence = next;
        }
        catch (Exception e) when (e is DbException or IOException or InvalidOperationException)
        {
            logger.LogWarning(e, "Job {JobId}'s stored events could not be read; watchers get its end only", record.Id);
            (history, nextSequence) = ([], 0);
        }
        var progress = history.Count(e => e.Payload is JobProgressed);
        if (progress > MaxRestoredProgress) // a curve of a few thousand points is plenty
        {
            var every = (int)Math.Ceiling(progress / (double)MaxRestoredProgress);
            var seen = 0;
            history = history.Where(e => e.Payload is not JobProgressed || seen++ % every == 0).ToList();
        }
        if (history.Count > 0 && history[^1].Payload.IsTerminal && !Ends(history[^1].Payload, state))
            history.RemoveAt(history.Count - 1); // a shutdown's stop, then a recovery that failed: the row says how it ended
        if (history.Count == 0 || !history[^1].Payload.IsTerminal)
        {
            JobEventPayload end = state switch
            {
                JobState.Finished => new JobFinished(record.Reason, record.BestValidLoss),
                JobState.Stopped => new JobStopped(record.Reason, File.Exists(Path.Combine(models.FolderOf(record.ModelName), Trainer.LastCheckpoint)),
                    OnRequest: record.StoppedOnRequest),
                _ => new JobFailed(record.Reason),
            };
            var sequence = Math.Max(nextSequence, history.Count > 0 ? history[^1].Sequence + 1 : 0);
            history.Add(new JobEvent(sequence, record.Id, record.Ended ?? DateTimeOffset.UtcNow, record.Step, end));
        }
        return (history, nextSequence);
    }

    /// <summary>
    /// A job's stored events as a watcher should see them. Each run's <see cref="JobStarted"/>
    /// drops what earlier runs sent past the step it resumed from, since it trains those steps
    /// again (as <paramref name="resumesFrom"/> does for a run about to start), so the history
    /// reads as one curve. An end that is not the job's last event (a shutdown's stop, resumed at
    /// the next start) is dropped, as is the last one unless <paramref name="keepEnd"/>.
    /// </summary>
    internal static List<JobEvent> Replayable(IReadOnlyList<JobEvent> history, long? resumesFrom, bool keepEnd)
    {
        var kept = new List<JobEvent>();
        foreach (var e in history)
        {
            if (e.Payload is JobStarted started) kept.RemoveAll(k => TrainedStep(k) > started.ResumedFromStep);
            kept.Add(e);
        }
        if (resumesFrom is { } step) kept.RemoveAll(k => TrainedStep(k) > step);
        return kept.Where((e, i) => !e.Payload.IsTerminal || (keepEnd && i == kept.Count - 1)).ToList();
    }

    /// <summary>
    /// The step an event tells of: a checkpoint's own, which training may have passed by the time
    /// its background write ended (the event's step then), so that the checkpoint a job resumes from stays in its history.
    /// </summary>
    private static long TrainedStep(JobEvent e) => e.Payload is JobCheckpointSaved saved ? saved.Step : e.Step;

    /// <summary>Progress events kept in memory for an ended job restored after a restart, once watched.</summary>
    private const int MaxRestoredProgress = 2_000;

    private static bool Ends(JobEventPayload end, JobState state) => (end, state) is (JobFinished, JobState.Finished) or (JobStopped, JobState.Stopped) or (JobFailed, JobState.Failed);

    /// <summary>
    /// A resume job's architecture, from its checkpoint's metadata (for listings before it starts; the start checks the file),
    /// when its plan or row does not say it. Cached: the model listings read the same file.
    /// </summary>
    private static string ArchitectureOf(string? checkpoint)
    {
        if (checkpoint == null) return "";
        try { return CheckpointMetadataCache.Read(checkpoint).Architecture; }
        catch (Exception e) when (e is CheckpointException or IOException) { return ""; }
    }
}
