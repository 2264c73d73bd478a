using System.Data.Common;
using System.Diagnostics;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Storage;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Corpora;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Metrics;
using CharRnn.ModelServer.Models;
using CharRnn.ModelServer.Persistence;
using CharRnn.ModelServer.Security;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace CharRnn.ModelServer.Jobs;

/// <summary>
/// Training jobs in order: at most one runs (the device is shared), the rest wait their turn,
/// keys taking turns (see <see cref="RunOrder"/>). Every job is also a row in the server database, its events too, so a restart (even
/// after kill -9) queues again what was queued, resumes what was running from its last
/// checkpoint, and still shows each job's history.
/// Enqueue, Stop, Get and List are thread-safe; <see cref="RunSlice"/> is called by the device
/// loop between generation steps and runs the current job for a bounded time.
/// </summary>
public sealed class JobQueue(IOptions<ServerOptions> options, ModelStore models, CorpusStore corpora, ServerDatabase database, JobEventJournal journal,
    PathRedaction paths, ILogger<JobQueue> logger)
{
    private readonly object _gate = new();
    private readonly List<TrainingJob> _queue = [];
    private readonly List<TrainingJob> _ended = [];
    private readonly List<TrainingJob> _persisting = []; // accepted, being stored before they join the queue
    private readonly HashSet<string> _deleting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TrainingJob> _byId = new(StringComparer.Ordinal);
    private readonly ServerLimits _limits = options.Value.Limits;
    private readonly TimeSpan _checkpointEvery = TimeSpan.FromMinutes(Math.Max(0.01, options.Value.CheckpointMinutes));
    private TrainingJob? _running;

    /// <summary>Raised when there is new work for the device loop.</summary>
    public event Action? WorkArrived;

    public int Queued { get { lock (_gate) return _queue.Count; } }
    public int Running { get { lock (_gate) return _running == null ? 0 : 1; } }
    public double RunningCharsPerSecond { get { lock (_gate) return _running?.CharsPerSecond ?? 0; } }

    public TrainingJob Enqueue(JobPlan plan, Caller caller) => Enqueue(plan, caller.Name, id: null, checkQuota: true, keyHash: caller.KeyHash);

    /// <summary>Whether <see cref="Enqueue(JobPlan, Caller)"/> would take the plan now (quotas, names, deletes): throws what it would, queues nothing.</summary>
    public void CheckAdmits(JobPlan plan, Caller caller)
    {
        var owned = ModelsOwnedBy(caller.Name, plan);
        lock (_gate) CheckAdmits(plan, caller.Name, id: null, checkQuota: true, owned);
    }

    // The models the key has on disk, read outside the lock (the device loop takes it every tick), and
    // those its jobs were making just before: a job that saves and ends meanwhile is in one or the other.
    private HashSet<string>? ModelsOwnedBy(string owner, JobPlan plan)
    {
        if (plan.ResumeCheckpoint != null) return null;
        List<string> making;
        lock (_gate) making = MakingFor(owner);
        var owned = database.ModelNamesOwnedBy(owner).Where(models.Exists).ToHashSet();
        owned.UnionWith(making);
        return owned;
    }

    /// <param name="history">A recovered job's events from before the restart, as a watcher should see them, and the number its next event gets.</param>
    /// <param name="created">A recovered job's creation time (a new one's is now).</param>
    private TrainingJob Enqueue(JobPlan plan, string owner, string? id, bool checkQuota, (List<JobEvent> Events, long NextSequence)? history = null,
        DateTimeOffset? created = null, string? keyHash = null)
    {
        TrainingJob job;
        var architecture = plan.Architecture?.Name ?? plan.ResumeArchitecture ?? ArchitectureOf(plan.ResumeCheckpoint);
        var owned = checkQuota ? ModelsOwnedBy(owner, plan) : null;
        lock (_gate)
        {
            CheckAdmits(plan, owner, id, checkQuota, owned);
            job = new TrainingJob(plan, owner, id, journal.Record) { Architecture = architecture, Created = created ?? DateTimeOffset.UtcNow, KeyHash = keyHash };
            if (history is { } h) job.Events.Restore(h.Events, h.NextSequence);
            _persisting.Add(job); // counts as active for the name and the quotas, but the device loop cannot start it yet
        }
        try
        {
            // Stored before the device loop may start it, so that a restart can start (or resume) the job and its row
            // exists before the loop updates it. A new model's upload replaces whatever an earlier job for the name left,
            // and a new model on a named corpus removes it.
            var upload = Path.Combine(plan.Folder, ModelFolder.UploadedCorpusFile);
            if (plan.UploadedCorpus && (plan.ResumeCheckpoint == null || !File.Exists(upload)))
                AtomicFile.WriteAllBytes(upload, System.Text.Encoding.UTF8.GetBytes(plan.Corpus.Text));
            else if (!plan.UploadedCorpus && plan.ResumeCheckpoint == null && File.Exists(upload))
                File.Delete(upload);
            database.InsertJob(Record(job, "queued"), newModelOwner: plan.ResumeCheckpoint == null ? owner : null);
        }
        catch
        {
            lock (_gate) _persisting.Remove(job);
            throw;
        }
        lock (_gate)
        {
            _persisting.Remove(job);
            _queue.Add(job);
            _byId[job.Id] = job;
            job.Events.Append(new JobQueued(RunOrder().IndexOf(job) + 1), 0);
        }
        logger.LogInformation("Job {JobId} queued by {Owner}: model {Model}", job.Id, owner, plan.ModelName);
        WorkArrived?.Invoke();
        return job;
    }

    /// <summary>What Enqueue refuses a plan for, under the lock: quotas, a model being deleted or gone, a name a job or a model holds.</summary>
    private void CheckAdmits(JobPlan plan, string owner, string? id, bool checkQuota, HashSet<string>? owned)
    {
        if (checkQuota && _queue.Count + _persisting.Count >= _limits.MaxQueuedJobs)
            throw ServerException.Exhausted($"The job queue is full ({_limits.MaxQueuedJobs} queued, limit max_queued_jobs); wait for a job to finish or stop one.");
        var mine = (_running?.Owner == owner ? 1 : 0) + _queue.Concat(_persisting).Count(j => j.Owner == owner);
        if (checkQuota && mine >= _limits.MaxJobsPerKey)
            throw ServerException.Exhausted($"Key '{owner}' has {mine} running or queued job(s), its quota (limit max_jobs_per_key = {_limits.MaxJobsPerKey}); wait for one to end or stop one.");
        if (owned != null)
        {
            // With the models the key's jobs are making and have not saved yet.
            owned.UnionWith(MakingFor(owner));
            if (owned.Count >= _limits.MaxModelsPerKey)
                throw ServerException.Exhausted($"Key '{owner}' owns {owned.Count} models, its quota (limit max_models_per_key = {_limits.MaxModelsPerKey}); delete models it no longer needs (DeleteModel), or resume one.");
        }
        if (_deleting.Contains(plan.ModelName))
            throw ServerException.Precondition($"Model '{plan.ModelName}' is being deleted; start the job again once DeleteModel has returned.");
        // Deleted since it was planned (a delete waits for no job, and this one is not queued yet): resuming would make its folder again.
        if (plan.ResumeCheckpoint != null && !File.Exists(plan.ResumeCheckpoint))
            throw ModelStore.NoModel(plan.ModelName);
        // A new model's name is taken by a job for the name in any case (see ModelStore.TakenName).
        var comparison = plan.ResumeCheckpoint == null ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (ActiveFor(plan.ModelName, comparison) is { } other)
        {
            var message = other.ModelName != plan.ModelName
                ? $"A job is already training a model named '{other.ModelName}', and names may not differ only in case; choose another model_name."
                : other.Owner == owner
                ? $"Job {other.Id} is already training model '{plan.ModelName}'; watch it, stop it, or choose another model_name."
                : plan.ResumeCheckpoint != null
                ? $"Job {other.Id} of key '{other.Owner}' is training model '{plan.ModelName}'; wait for it to end, or stop it (StopJob), then resume."
                : $"Another key's job is already training a model named '{plan.ModelName}'; choose another model_name.";
            // A new model's name taken by a job is a name in use, as it will be once the job has saved.
            throw plan.ResumeCheckpoint == null ? ServerException.Exists(message) : ServerException.Precondition(message);
        }
        // Planning checked this outside the lock: a job for the name may have ended (leaving its model) since.
        if (id == null && plan.ResumeCheckpoint == null && models.TakenName(plan.ModelName) is { } taken)
            throw ServerException.Exists(ModelStore.NameTakenMessage(plan.ModelName, taken));
    }

    /// <summary>
    /// Keeps jobs off a model while it is deleted (a resume queued meanwhile would write its
    /// checkpoints into a folder that no longer has an owner). FAILED_PRECONDITION when a job trains it.
    /// </summary>
    public IDisposable HoldForDelete(string modelName)
    {
        lock (_gate)
        {
            if (ActiveFor(modelName) != null)
                throw ServerException.Precondition($"Model '{modelName}' is being trained by a job; stop the job first (StopJob), then delete it.");
            if (!_deleting.Add(modelName))
                throw ServerException.Precondition($"Model '{modelName}' is being deleted by another call.");
        }
        return new DeleteHold(this, modelName);
    }

    private sealed class DeleteHold(JobQueue queue, string modelName) : IDisposable
    {
        public void Dispose()
        {
            lock (queue._gate) queue._deleting.Remove(modelName);
        }
    }

    /// <summary>
    /// After a restart: queues again the jobs that were queued, and resumes the ones that were
    /// running from their last checkpoint (exactly: weights, optimizer, schedule, position).
    /// </summary>
    public void Recover()
    {
        models.RemoveDeleted();
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
                JobPlan plan;
                if (resume)
                {
                    plan = new JobPlan(record.ModelName, folder, corpus, record.Plan.UploadedCorpus, null, null, null, checkpoint, record.Plan.Options, record.Plan.CorpusName,
                        record.Plan.Architecture);
                }
                else
                {
                    if (record.Plan.Resume) throw new InvalidDataException($"its model's {Trainer.LastCheckpoint} is gone");
                    var architecture = Architectures.Get(record.Plan.Architecture ?? throw new InvalidDataException("no architecture recorded"));
                    plan = new JobPlan(record.ModelName, folder, corpus, record.Plan.UploadedCorpus, architecture,
                        architecture.Resolve(record.Plan.HyperParameters), record.Plan.Options, null, null, record.Plan.CorpusName);
                }
                var (history, nextSequence) = journal.History(record.Id);
                var resumesFrom = resume ? CheckpointFile.ReadMetadata(checkpoint).Position.Step : 0;
                var job = Enqueue(plan, record.Owner, record.Id, checkQuota: false, (Replayable(history, resumesFrom, keepEnd: false), nextSequence), record.Created,
                    record.KeyHash);
                job.RunTime = TimeSpan.FromSeconds(record.RunSeconds); // a time budget counts what it trained before the restart
                logger.LogInformation("Job {JobId} recovered after a restart ({How})", job.Id, resume ? $"resuming {record.ModelName} from its last checkpoint" : "queued again");
            }
            catch (Exception e) when (e is CorpusException or CheckpointException or InvalidDataException or ArgumentException or ServerException or IOException
                                           or UnauthorizedAccessException or System.Data.Common.DbException)
            {
                // One job that cannot be recovered (its files, or its rows: a damaged page, a full disk) must not stop the server.
                logger.LogWarning("Job {JobId} could not be recovered: {Reason}", record.Id, e.Message);
                try
                {
                    database.UpdateJob(record.Id, "failed", $"could not be recovered after a restart: {(paths.Enabled ? paths.Redact(e.Message) : e.Message)}", record.Step, record.TotalSteps, record.BestValidLoss, null, DateTimeOffset.UtcNow,
                        TimeSpan.FromSeconds(record.RunSeconds));
                }
                catch (System.Data.Common.DbException stored)
                {
                    logger.LogError("Job {JobId}'s failure could not be stored either ({Reason}); the next start tries it again", record.Id, stored.Message);
                }
            }
        }
        RestoreEnded(); // after the loop: jobs it could not recover are among them
    }

    /// <summary>
    /// The newest ended jobs, as the database has them, so that ListJobs, GetJob and WatchJob know
    /// them after a restart too. Their stored events are read when one is first watched
    /// (<see cref="EndedHistory"/>).
    /// </summary>
    private void RestoreEnded()
    {
        foreach (var record in database.EndedJobs(_limits.MaxEndedJobs).Reverse()) // oldest first, as they ended
        {
            var state = record.State switch { "finished" => JobState.Finished, "stopped" => JobState.Stopped, _ => JobState.Failed };
            var job = new TrainingJob(record.Id, record.Owner, record.ModelName, record.Created, journal.Record)
            {
                // A resume job's row stored before its architecture was: the model's checkpoint says it, while the model is there.
                Architecture = record.Plan.Architecture ?? ArchitectureOf(Path.Combine(models.FolderOf(record.ModelName), Trainer.LastCheckpoint)),
                State = state, Reason = record.Reason, Started = record.Started, Ended = record.Ended,
                Step = record.Step, TotalSteps = record.TotalSteps, BestValidLoss = record.BestValidLoss,
            };
            job.Events.RestoreEnded(() => EndedHistory(record, state));
            List<string> forgotten;
            lock (_gate)
            {
                _byId[job.Id] = job;
                forgotten = RememberEnded(job);
            }
            Forget(forgotten);
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
                JobState.Stopped => new JobStopped(record.Reason, File.Exists(Path.Combine(models.FolderOf(record.ModelName), Trainer.LastCheckpoint))),
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

    /// <summary>NOT_FOUND both for unknown jobs and for jobs of other keys (existence is not revealed).</summary>
    public TrainingJob Get(string id, Caller caller)
    {
        if (string.IsNullOrWhiteSpace(id)) throw ServerException.Invalid("job_id is empty; pass the id StartJob returned.");
        TrainingJob? found;
        lock (_gate) found = _byId.GetValueOrDefault(id);
        return found != null && Sees(caller, found)
            ? found
            : throw ServerException.NotFound($"No job '{id}' for key '{caller.Name}' (a key's ended jobs are kept until {_limits.MaxEndedJobs} newer ones of its own end).");
    }

    /// <summary>
    /// A key sees its own jobs (an admin, all), and the running or queued jobs on the models it owns: an
    /// admin's resume of someone's model is theirs to watch and stop (read outside the lock: it asks the database).
    /// </summary>
    private bool Sees(Caller caller, TrainingJob job) =>
        caller.Owns(job.Owner) || (job.State is JobState.Queued or JobState.Running && models.Ownership(job.ModelName)?.Owner == caller.Name);

    public int QueuePosition(TrainingJob job)
    {
        lock (_gate) return RunOrder().IndexOf(job) + 1;
    }

    /// <summary>The key whose job started last: the next one goes to another key's job when one waits.</summary>
    private string? _lastOwner;

    /// <summary>
    /// Queued jobs in the order they will start (under the lock): keys take turns, each next job the
    /// oldest of a key other than the last one's when one waits, so one key's queue of long jobs does not
    /// hold everyone else's until it is done. Among one key's jobs, first come first served.
    /// </summary>
    private List<TrainingJob> RunOrder()
    {
        var waiting = _queue.ToList();
        var order = new List<TrainingJob>(waiting.Count);
        var last = _running?.Owner ?? _lastOwner;
        while (waiting.Count > 0)
        {
            var next = waiting.FirstOrDefault(j => j.Owner != last) ?? waiting[0];
            waiting.Remove(next);
            order.Add(next);
            last = next.Owner;
        }
        return order;
    }

    /// <summary>The caller's jobs (an admin's: all): running first, then queued in order, then ended, newest first.</summary>
    public IReadOnlyList<TrainingJob> List(Caller caller)
    {
        List<TrainingJob> all;
        lock (_gate) all = [.. (_running == null ? [] : new[] { _running }).Concat(RunOrder()).Concat(Enumerable.Reverse(_ended))];
        return [.. all.Where(j => Sees(caller, j))];
    }

    public bool IsTraining(string modelName)
    {
        lock (_gate) return ActiveFor(modelName) != null;
    }

    /// <summary>
    /// The new models a running or queued job of <paramref name="caller"/>'s (any, for an admin) is making and has
    /// not saved yet: listed as training, though their folders hold no checkpoint before an epoch's end or a periodic save.
    /// </summary>
    public IReadOnlyList<TrainingJob> Unsaved(Caller caller)
    {
        List<TrainingJob> making;
        lock (_gate) making = [.. Active().Where(j => j.Plan is { ResumeCheckpoint: null } && (caller.Admin || j.Owner == caller.Name))];
        return [.. making.Where(j => !models.Exists(j.ModelName))]; // the folder is read outside the lock the device loop takes
    }

    /// <summary>FAILED_PRECONDITION for a model a job is making and has not saved yet: NOT_FOUND would say there is none, yet its name is taken.</summary>
    public void ThrowIfUnsaved(string modelName, Caller caller)
    {
        if (Unsaved(caller).FirstOrDefault(j => j.ModelName == modelName) is { } job)
            throw ServerException.Precondition($"Model '{modelName}' has no checkpoint yet: job {job.Id} is making it, and saves it at its first epoch's end " +
                                               "(or at the server's periodic save); WatchJob follows it, StopJob stops it with a checkpoint.");
    }

    /// <summary>Stops a job: a queued one leaves the queue at once; a running one checkpoints and stops at the device loop's next turn.</summary>
    public TrainingJob Stop(string id, Caller caller, string reason)
    {
        var job = Get(id, caller);
        List<string>? forgotten = null;
        lock (_gate)
        {
            if (_queue.Remove(job)) forgotten = MarkEnded(job, JobState.Stopped, reason);
            // Running, or taken from the queue and starting (Start can take seconds on a large corpus).
            else if (job.State == JobState.Running || _running == job) job.StopRequest ??= reason;
        }
        if (forgotten != null)
        {
            // Stored outside the lock: the device loop takes it every tick, and a write may wait on the disk.
            StoreEnd(job, JobState.Stopped, reason, new JobStopped(reason, CheckpointSaved: false), forgotten);
            logger.LogInformation("Job {JobId} removed from the queue: {Reason}", job.Id, reason);
            return job;
        }
        WorkArrived?.Invoke();
        return job;
    }

    /// <summary>
    /// Runs the current job for about <paramref name="budget"/> (at least one step, or one piece of one); starts the
    /// next queued job when none runs. Device thread only. Returns false when there was nothing to do.
    /// </summary>
    /// <param name="yieldNow">Asked after each piece: true ends the slice there (work waits for the device).</param>
    public bool RunSlice(TimeSpan budget, Device device, string deviceDescription, Func<bool>? yieldNow = null)
    {
        TrainingJob? job;
        lock (_gate)
        {
            if (_running == null && _queue.Count > 0)
            {
                _running = RunOrder()[0];
                _queue.Remove(_running);
                _lastOwner = _running.Owner;
            }
            job = _running;
        }
        if (job == null) return false;
        // A template, not a dictionary: the console log prints a scope's ToString ("job j-… model m"), and structured sinks still get the values.
        using var scope = logger.BeginScope("job {JobId} model {Model}", job.Id, job.ModelName);
        try
        {
            if (job.Ending is { } ending)
            {
                // The device serves others while the last checkpoint is written; the write's end wakes the loop.
                if (!job.Trainer!.CheckpointsWritten.IsCompleted) return false;
                job.Trainer.FlushCheckpoints(); // a failed write throws here: the job fails, saying why
                Complete(job, ending.Outcome, ending.Validated);
                return true;
            }
            if (job.Trainer == null && job.State == JobState.Queued && job.StopRequest is { } early)
            {
                End(job, JobState.Stopped, early, new JobStopped(early, CheckpointSaved: false), disposeTrainer: false);
                return true;
            }
            if (job.Trainer == null)
            {
                Start(job, device, deviceDescription);
                if (job.StopRequest is { } atStart)
                {
                    // Stopped while it started: nothing trained, so nothing to save (a checkpoint now would make an untrained model).
                    End(job, JobState.Stopped, atStart, new JobStopped(atStart, CheckpointSaved: false), disposeTrainer: true);
                    return true;
                }
            }
            var trainer = job.Trainer!;
            var clock = Stopwatch.StartNew();
            while (true)
            {
                // A stop waits for a whole step: one in pieces, or an epoch's end, goes on piece by piece
                // first (a stop would finish it in one call, holding every stream for its length).
                var between = !trainer.InStep && !trainer.InEpochEnd;
                var timeUp = trainer.Options.TimeBudget is { } limit && job.RunTime + clock.Elapsed >= limit && between;
                if (job.StopRequest is { } reason && between)
                {
                    // A job at its end already (validating its last weights) ends as it would have, without the rest of that pass.
                    EndWhenWritten(job, trainer.IsComplete || timeUp ? EndOfRun(trainer) : trainer.Stop(reason, waitForWrites: false), trainer.CurrentValidation);
                    break;
                }
                var pieceStarted = clock.Elapsed;
                if (trainer.IsComplete || timeUp)
                {
                    // Ended between epoch ends: its last weights are validated first, a batch a turn as an epoch's end is,
                    // so the job's end can say how good the model it leaves is.
                    if (trainer.CurrentValidation == null && !ValidatePiece(trainer))
                    {
                        if (clock.Elapsed + (clock.Elapsed - pieceStarted) > budget || yieldNow?.Invoke() == true) break;
                        continue;
                    }
                    EndWhenWritten(job, EndOfRun(trainer), trainer.CurrentValidation);
                    break;
                }
                var stepDone = StepPiece(job, trainer, budget);
                // Not while an epoch's end runs: saving would finish it (validation, sample, its own saves) in one call,
                // holding the device for seconds, and the epoch's end saves anyway.
                // Not while the last save is still being written either (a slow disk): saves would pile up, each holding a copy of the state.
                if (stepDone && Stopwatch.GetElapsedTime(job.LastSaved) >= _checkpointEvery && !trainer.IsComplete && !trainer.InEpochEnd
                    && trainer.CheckpointsWritten.IsCompleted)
                {
                    trainer.QueueCheckpoint("periodic"); // written in the background: streams wait only for the copy
                    job.LastSaved = Stopwatch.GetTimestamp();
                }
                // Another call only if one like the last still fits: a 2 ms slice of two 1.5 ms pieces would hold streams 3 ms.
                if (clock.Elapsed + (clock.Elapsed - pieceStarted) > budget || yieldNow?.Invoke() == true) break;
            }
            job.RunTime += clock.Elapsed;
        }
        catch (Exception e)
        {
            Fail(job, e);
        }
        return true;
    }

    /// <summary>Divergence, a corpus too short, out of device memory, a checkpoint that could not be written...: the job fails, the server lives on.</summary>
    private void Fail(TrainingJob job, Exception e)
    {
        // Expected: the message says what went wrong (a corpus changed or gone, a damaged checkpoint); the rest is logged with its stack.
        var expected = e is TrainingDivergedException or ArgumentException or CorpusException or CheckpointException;
        if (!expected) logger.LogError(e, "Job {JobId} failed", job.Id);
        var full = expected ? e.Message : $"{e.GetType().Name}: {e.Message}";
        // The job's watchers (its owner, anyone it is shared with) read the reason without the server's paths; the log keeps them.
        var reason = paths.Enabled ? paths.Redact(full) : full;
        if (expected && reason != full) logger.LogWarning("Job {JobId} failed: {Reason}", job.Id, full);
        // A save still being written (a periodic one) ends first: if it is whole it is reported as saved
        // (the file is there), and if its write failed too, the log says so beside the first failure.
        try { job.Trainer?.FlushCheckpoints(); }
        catch (Exception write) { logger.LogError(write, "Job {JobId}: a checkpoint could not be written either", job.Id); }
        End(job, JobState.Failed, reason, new JobFailed(reason), disposeTrainer: true);
    }

    /// <summary>
    /// The run is over and its last checkpoint queued: the job ends once the file is written (a 40 MB
    /// LSTM checkpoint takes ~0.3 s here, longer on a slow disk), and streams and commands go on meanwhile.
    /// </summary>
    private void EndWhenWritten(TrainingJob job, TrainingOutcome outcome, (double Loss, double Accuracy)? validated)
    {
        job.Ending = (outcome, validated);
        job.Trainer!.CheckpointsWritten.ContinueWith(_ => WorkArrived?.Invoke(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>
    /// One step, or a piece of one when a whole step would hold the device longer than
    /// <paramref name="budget"/> (the short slice it gets while anyone generates): the step is
    /// then cut so that each piece takes about the budget (in time for stream models, in rows
    /// for windowed ones), and generation runs between pieces. Returns true when a whole step is done.
    /// </summary>
    private static bool StepPiece(TrainingJob job, Trainer trainer, TimeSpan budget)
    {
        var pieces = 1;
        var stepping = !trainer.InEpochEnd; // an epoch's end runs a unit per call, in no pieces of its own
        if (!trainer.InStep && stepping)
        {
            var chars = trainer.NextBatchCharacters;
            (job.StepCharacters, job.StepSeconds) = (chars, 0);
            if (job.SecondsPerCharacter is { } perChar)
            {
                if (perChar * chars > budget.TotalSeconds) pieces = (int)Math.Min(MaxPieces, Math.Ceiling(perChar * chars / budget.TotalSeconds));
            }
            else if (budget < FirstStepWholeWithin) pieces = MaxPieces; // nothing measured yet, and streams are waiting: the finest cut
        }
        if (pieces > 1 || trainer.InStep) ServerMetrics.TrainingStepPieces.Inc();
        var started = Stopwatch.GetTimestamp();
        var done = trainer.StepPiece(pieces);
        // CUDA runs the piece after the call returns: the clock, and the device loop's share of time for
        // training, count its work only once it is done (else the next generation step waits for it).
        if (trainer.Device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize();
        if (!stepping) return done;
        job.StepSeconds += Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (done && job.StepCharacters > 0)
        {
            // Pieced steps count too: they cost a little more than whole ones (at most ~1.25×), which only cuts finer.
            var perChar = job.StepSeconds / job.StepCharacters;
            job.SecondsPerCharacter = job.SecondsPerCharacter is { } last ? 0.8 * last + 0.2 * perChar : perChar;
            job.StepCharacters = 0;
        }
        return done;
    }

    /// <summary>A job that trained all it was asked to finishes; one out of time stops (it can be resumed).</summary>
    private static TrainingOutcome EndOfRun(Trainer trainer) =>
        trainer.IsComplete ? trainer.Finish(waitForWrites: false) : trainer.Stop($"time budget of {trainer.Options.TimeBudget} reached", waitForWrites: false);

    /// <summary>One batch of the last weights' validation; true when the pass is done.</summary>
    private static bool ValidatePiece(Trainer trainer)
    {
        var done = trainer.ValidatePiece(1);
        if (trainer.Device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize(); // as StepPiece: the slice's clock counts the work done
        return done;
    }

    /// <summary>A slice at least this long means no one is streaming: a job's first step may then run whole.</summary>
    private static readonly TimeSpan FirstStepWholeWithin = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Stream models are cut in time, at most a segment per time step, and their pieces cost about
    /// what the whole step costs (a GRU step in 16 pieces: 1.25×, `make bench` pieces section); windowed models are cut in
    /// rows, each piece paying the model's per-operation overhead again, but their steps are short.
    /// </summary>
    private const int MaxPieces = 16;

    /// <summary>
    /// Server shutdown (device thread): the running job saves a checkpoint and stays queued in
    /// the database, so the next start resumes it; queued jobs stay queued.
    /// </summary>
    public void Shutdown(string reason)
    {
        TrainingJob? job;
        lock (_gate) job = _running;
        if (job?.Trainer is not { } trainer) return;
        if (job.Ending is { } ending)
        {
            // Its last checkpoint is being written: the job ends as it was going to, once the file is there.
            try
            {
                trainer.FlushCheckpoints();
                Complete(job, ending.Outcome, ending.Validated);
            }
            catch (Exception e)
            {
                try { Fail(job, e); }
                catch (Exception stored) { logger.LogError(stored, "Job {JobId} could not be ended on shutdown", job.Id); }
            }
            return;
        }
        if (job.StopRequest is { } stop)
        {
            // Stopped by its owner before the loop got to it: it ends stopped, not resumed at the next start.
            try { Complete(job, trainer.Stop(stop), trainer.CurrentValidation); }
            catch (Exception e) { logger.LogError(e, "Job {JobId} could not save a checkpoint on shutdown", job.Id); }
            return;
        }
        try
        {
            trainer.Stop(reason);
            job.Events.Append(new JobStopped($"{reason}; the job resumes when the server starts again", CheckpointSaved: true), trainer.Position.Step);
            database.UpdateJob(job.Id, "running", reason, trainer.Position.Step, job.TotalSteps, job.BestValidLoss, job.Started, null, job.RunTime);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Job {JobId} could not save a checkpoint on shutdown", job.Id);
        }
        finally
        {
            DisposeTrainer(job);
            ReleaseFolder(job);
        }
    }

    /// <summary>
    /// Frees the job's model and optimizer. A failure to (a CUDA fault) is logged: the job must still
    /// end and release its folder, or the device loop would try to end it again at every turn.
    /// </summary>
    private void DisposeTrainer(TrainingJob job)
    {
        var trainer = job.Trainer;
        job.Trainer = null;
        try { trainer?.Dispose(); }
        catch (Exception e) { logger.LogError(e, "Job {JobId}'s model could not be freed", job.Id); }
        models.Invalidate(job.ModelName);
    }

    private void ReleaseFolder(TrainingJob job)
    {
        var hold = job.FolderHold;
        job.FolderHold = null;
        try { hold?.Dispose(); }
        catch (Exception e) { logger.LogError(e, "Job {JobId}'s model folder lock could not be released", job.Id); }
    }

    private void Start(TrainingJob job, Device device, string deviceDescription)
    {
        var plan = job.RunnablePlan;
        // A `charrnn train` or `resume` writing into the folder (one started before this server) would have both
        // write the same checkpoints: the job fails, saying so (ArgumentException, an expected failure).
        job.FolderHold = ModelFolder.HoldForTraining(plan.Folder);
        Trainer trainer;
        try
        {
            trainer = plan.ResumeCheckpoint is { } checkpoint
                ? Trainer.Resume(checkpoint, plan.Corpus, device, plan.Folder, _ => plan.ResumeOptions!)
                : Trainer.Create(plan.Architecture!, plan.HyperParameters!, plan.Options!, plan.Corpus, device, plan.Folder);
        }
        catch
        {
            ReleaseFolder(job);
            throw;
        }
        job.Trainer = trainer;
        job.Architecture = trainer.Architecture.Name;
        job.State = JobState.Running;
        job.Started = DateTimeOffset.UtcNow;
        job.LastSaved = Stopwatch.GetTimestamp();
        job.Step = trainer.Position.Step;
        job.TotalSteps = trainer.EstimateTotalSteps();
        job.Epoch = trainer.Position.Epoch;
        if (double.IsFinite(trainer.Position.BestValidLoss)) job.BestValidLoss = trainer.Position.BestValidLoss;
        var lastWrite = 0L; // a Stopwatch timestamp: intervals on the wall clock would stop with it set back
        trainer.Progress += p =>
        {
            job.Step = p.Step;
            job.Epoch = p.Epoch;
            job.LastLoss = p.Loss;
            job.CharsPerSecond = p.CharsPerSecond;
            job.TotalSteps = p.TotalSteps;
            job.Events.Append(new JobProgressed(p), p.Step);
        };
        trainer.BatchEnded += step =>
        {
            ServerMetrics.TrainingSteps.Inc();
            // By the clock, not at progress events: those may come an hour apart (progress_interval_seconds),
            // and a kill -9 would lose that much of a time budget's count and of the step a restart reports.
            if (lastWrite == 0 || Stopwatch.GetElapsedTime(lastWrite) > TimeSpan.FromSeconds(5))
            {
                lastWrite = Stopwatch.GetTimestamp();
                job.Step = step;
                RecordProgress(job);
            }
        };
        trainer.EpochEnded += r =>
        {
            job.BestValidLoss = Math.Min(job.BestValidLoss ?? double.PositiveInfinity, r.ValidLoss);
            job.Events.Append(new JobEpochEnded(r), r.Step);
        };
        trainer.CheckpointSaved += c =>
        {
            job.LastSaved = Stopwatch.GetTimestamp();
            models.Invalidate(job.ModelName, c.Path); // new sessions get the newest checkpoint
            // Stamped with the step training has reached (the write ends after it): a watcher that resumes from
            // the step it last saw still gets it. The checkpoint's own step goes in the event.
            job.Events.Append(new JobCheckpointSaved(Path.GetFileName(c.Path), c.Reason, c.Epoch, c.Step), Math.Max(c.Step, job.Step));
        };
        database.UpdateJob(job.Id, "running", "", job.Step, job.TotalSteps, job.BestValidLoss, job.Started, null, job.RunTime);
        job.Events.Append(new JobStarted(deviceDescription, job.TotalSteps, trainer.Model.ParameterCount, trainer.Position.Step,
            trainer.Vocabulary.Size, plan.Corpus.Length), job.Step);
        logger.LogInformation("Job {JobId} started: {Architecture} on {Device}, {Steps} steps", job.Id, job.Architecture, deviceDescription, job.TotalSteps);
    }

    /// <param name="validated">The validation loss and accuracy of the weights the job ends with, when known.</param>
    private void Complete(TrainingJob job, TrainingOutcome outcome, (double Loss, double Accuracy)? validated = null)
    {
        job.Step = job.Trainer?.Position.Step ?? job.Step;
        // A run ended between epoch ends with weights better than every epoch's saved them as the best.
        if (job.Trainer is { } trainer && double.IsFinite(trainer.Position.BestValidLoss)) job.BestValidLoss = trainer.Position.BestValidLoss;
        var final = validated is var (loss, accuracy) && double.IsFinite(loss) ? new ValidationRecord(job.Step, loss, accuracy) : null;
        var (state, payload) = outcome.Kind switch
        {
            TrainingOutcomeKind.Finished => (JobState.Finished, (JobEventPayload)new JobFinished(outcome.Reason, job.BestValidLoss, final)),
            TrainingOutcomeKind.Stopped => (JobState.Stopped, new JobStopped(outcome.Reason, outcome.CheckpointPath != null, final)),
            _ => (JobState.Failed, new JobFailed(outcome.Reason)),
        };
        End(job, state, outcome.Reason, payload, disposeTrainer: true);
    }

    private void End(TrainingJob job, JobState state, string reason, JobEventPayload payload, bool disposeTrainer)
    {
        if (disposeTrainer) DisposeTrainer(job);
        ReleaseFolder(job);
        List<string> forgotten;
        lock (_gate) forgotten = MarkEnded(job, state, reason);
        StoreEnd(job, state, reason, payload, forgotten);
    }

    /// <summary>An ended job as the server lists it (under the lock); returns the old ones it pushed out.</summary>
    private List<string> MarkEnded(TrainingJob job, JobState state, string reason)
    {
        // The state last: GetJob reads a job outside the lock, and an ended job must come with its reason and end time.
        job.Reason = reason;
        job.Ended = DateTimeOffset.UtcNow;
        job.State = state;
        job.ForgetPlan();
        if (_running == job) _running = null;
        return RememberEnded(job);
    }

    /// <summary>An ended job's event and stored record (outside the lock).</summary>
    private void StoreEnd(TrainingJob job, JobState state, string reason, JobEventPayload payload, List<string> forgotten)
    {
        Forget(forgotten);
        if (!job.Events.Ended) job.Events.Append(payload, job.Step);
        try
        {
            database.UpdateJob(job.Id, state.ToString().ToLowerInvariant(), reason, job.Step, job.TotalSteps, job.BestValidLoss, job.Started, job.Ended, job.RunTime);
        }
        catch (Exception e) // a full disk, say: this runs on the device thread, and an escape would end the server
        {
            logger.LogError(e, "Job {JobId} ended ({State}) but its end could not be stored; after a restart it is recovered as unfinished", job.Id, state);
        }
        logger.LogInformation("Job {JobId} {State}: {Reason}", job.Id, state, reason);
    }

    /// <summary>
    /// The running job's progress, stored now and then for a restart: in the background, since a
    /// durable write (an fsync) on the device thread would stall every stream for its length. A
    /// failed write costs that record, not the job.
    /// </summary>
    private void RecordProgress(TrainingJob job)
    {
        // One write at a time: on a disk slow to sync, a write per 5 s each holding a pool thread would
        // starve the server's calls; a newer row comes with the next progress anyway.
        if (Interlocked.CompareExchange(ref _progressWriting, 1, 0) != 0) return;
        var (id, step, total, best, runTime) = (job.Id, job.Step, job.TotalSteps, job.BestValidLoss, job.RunTime);
        _ = Task.Run(() =>
        {
            try { database.UpdateProgress(id, step, total, best, runTime); }
            catch (Exception e) { logger.LogWarning("Job {JobId}'s progress could not be stored: {Reason}", id, e.Message); }
            finally { Volatile.Write(ref _progressWriting, 0); }
        });
    }

    private int _progressWriting;

    private static JobRecord Record(TrainingJob job, string state)
    {
        var plan = job.RunnablePlan;
        var recordPlan = new JobRecordPlan(plan.Architecture?.Name ?? (job.Architecture is "" ? null : job.Architecture), plan.HyperParameters?.Values.ToDictionary(kv => kv.Key, kv => kv.Value),
            plan.Options ?? plan.ResumeOptions!, plan.CorpusName, plan.UploadedCorpus, plan.ResumeCheckpoint != null);
        return new JobRecord(job.Id, job.Owner, job.ModelName, state, recordPlan, job.Created, null, null, "", job.Step, job.TotalSteps, null, KeyHash: job.KeyHash);
    }

    /// <summary>Lists an ended job (under the lock); returns the oldest ones it pushed out, for <see cref="Forget"/>.</summary>
    private List<string> RememberEnded(TrainingJob job)
    {
        // Per key: on a shared server one key's many jobs must not push another's history out.
        var forgotten = new List<string>();
        _ended.Add(job);
        var owned = _ended.Where(j => j.Owner == job.Owner).ToList();
        foreach (var old in owned.Take(owned.Count - _limits.MaxEndedJobs))
        {
            _byId.Remove(old.Id);
            _ended.Remove(old);
            forgotten.Add(old.Id);
        }
        return forgotten;
    }

    /// <summary>
    /// The database keeps what the server lists, no more. Outside the lock (a write may wait on the
    /// disk), and never fatal: this runs on the device thread, and a row left behind only costs space.
    /// </summary>
    private void Forget(List<string> ids)
    {
        foreach (var id in ids)
        {
            try { database.ForgetJob(id); }
            catch (Exception e) { logger.LogWarning("Could not remove ended job {JobId} from the database ({Error}); it stays stored", id, e.Message); }
        }
    }

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

    /// <summary>Names of the new models <paramref name="owner"/>'s active jobs are making (under the lock).</summary>
    private List<string> MakingFor(string owner) => Active().Where(j => j.Owner == owner && j.Plan?.ResumeCheckpoint == null).Select(j => j.ModelName).ToList();

    /// <summary>The running job, the queued ones and those being stored (under the lock).</summary>
    private IEnumerable<TrainingJob> Active() => (_running == null ? [] : new[] { _running }).Concat(_queue).Concat(_persisting);

    private TrainingJob? ActiveFor(string modelName, StringComparison comparison = StringComparison.Ordinal) =>
        string.Equals(_running?.ModelName, modelName, comparison) ? _running
            : _queue.Concat(_persisting).FirstOrDefault(j => string.Equals(j.ModelName, modelName, comparison));
}
