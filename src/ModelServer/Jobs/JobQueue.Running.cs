using System.Diagnostics;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Metrics;
using CharRnn.ModelServer.Persistence;
using static TorchSharp.torch;

namespace CharRnn.ModelServer.Jobs;

/// <summary>The device thread's side of the queue: run the current job a slice at a time, and end it (finished, stopped, failed), recorded in the database.</summary>
public sealed partial class JobQueue
{
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
                MarkStarted(_running);
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
                End(job, JobState.Stopped, early, new JobStopped(early, CheckpointSaved: false, OnRequest: true), disposeTrainer: false);
                return true;
            }
            if (job.Trainer == null)
            {
                Start(job, device, deviceDescription);
                if (job.StopRequest is { } atStart)
                {
                    // Stopped while it started: nothing trained, so nothing to save (a checkpoint now would make an untrained model).
                    End(job, JobState.Stopped, atStart, new JobStopped(atStart, CheckpointSaved: false, OnRequest: true), disposeTrainer: true);
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
                var stepDone = TrainPiece(job, trainer, budget);
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
            ServerMetrics.TrainingDeviceSeconds.WithLabels(job.Owner).Inc(clock.Elapsed.TotalSeconds);
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
        // A full (or failing) disk is no fault of the server's code either: said as such, with what to do, and logged without a stack.
        var diskFull = Engine.Storage.DiskFault.Is(e);
        var expected = diskFull || e is TrainingDivergedException or ArgumentException or CorpusException or CheckpointException or InitFromSourceException;
        if (!expected) logger.LogError(e, "Job {JobId} failed", job.Id);
        var full = diskFull ? DiskRefused(job.ModelName, e) : expected ? e.Message : $"{e.GetType().Name}: {e.Message}";
        // The job's watchers (its owner, anyone it is shared with) read the reason without the server's paths; the log keeps them.
        var reason = paths.Enabled ? paths.Redact(full) : full;
        // A warning the operator can alert on, in the disk's own words (as a call's refused write is logged); the job's end line has the rest.
        if (diskFull) logger.LogWarning("Job {JobId} failed: the disk refused a write: {Reason}", job.Id, e.Message);
        else if (expected && reason != full) logger.LogWarning("Job {JobId} failed: {Reason}", job.Id, full);
        // A save still being written (a periodic one) ends first: if it is whole it is reported as saved
        // (the file is there), and if its write failed too, the log says so beside the first failure.
        try { job.Trainer?.FlushCheckpoints(); }
        catch (Exception write) when (Engine.Storage.DiskFault.Is(write))
        {
            logger.LogWarning("Job {JobId}: a checkpoint could not be written either: {Reason}", job.Id, write.Message);
        }
        catch (Exception write) { logger.LogError(write, "Job {JobId}: a checkpoint could not be written either", job.Id); }
        End(job, JobState.Failed, reason, new JobFailed(reason), disposeTrainer: true);
    }

    /// <summary>A job's failure on a full (or failing) disk: whose fault it is, and what the operator and the key do next.</summary>
    private static string DiskRefused(string model, Exception e) =>
        $"The server's disk refused a write for model '{model}' (full, over its quota, or failing): {e.Message.TrimEnd('.')}. " +
        "The server's operator should make room; then resume the model, or train it anew if it saved no checkpoint.";

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
    private static bool TrainPiece(TrainingJob job, Trainer trainer, TimeSpan budget)
    {
        var pieces = 1;
        var stepping = !trainer.InEpochEnd; // an epoch's end runs a unit per call, in no pieces of its own
        if (!trainer.InStep && stepping) pieces = job.PieceSizer.PiecesFor(trainer.NextBatchCharacters, budget);
        if (pieces > 1 || trainer.InStep) ServerMetrics.TrainingStepPieces.Inc();
        var started = Stopwatch.GetTimestamp();
        var done = trainer.StepPiece(pieces);
        // The clock, and the device loop's share of time for training, count the piece's work only once
        // it is done (else the next generation step waits for it).
        trainer.WaitForDevice();
        if (stepping) job.PieceSizer.Record(Stopwatch.GetElapsedTime(started), done);
        return done;
    }

    /// <summary>
    /// A job that trained all it was asked to finishes; one out of time stops (it can be resumed). A budget that is the
    /// server's cap (`serve --max-job-hours`) is said to be, for the key that set none reads why its job stopped.
    /// </summary>
    private TrainingOutcome EndOfRun(Trainer trainer)
    {
        if (trainer.IsComplete) return trainer.Finish(waitForWrites: false);
        var budget = trainer.Options.TimeBudget!.Value;
        var whose = budget == _limits.JobTimeCap
            ? ": this server's cap on one job's training time in a run (limit max_job_seconds, charrnn serve --max-job-hours); resume the model to train on"
            : "";
        return trainer.Stop($"time budget of {Engine.Training.DurationText.Format(budget)} reached{whose}", waitForWrites: false);
    }

    /// <summary>One batch of the last weights' validation; true when the pass is done.</summary>
    private static bool ValidatePiece(Trainer trainer)
    {
        var done = trainer.ValidatePiece(1);
        trainer.WaitForDevice(); // as TrainPiece: the slice's clock counts the work done
        return done;
    }

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
            job.Events.Append(new JobStopped($"{reason}; the job resumes when the server starts again", CheckpointSaved: true, At: StoppedAt.Of(trainer)), trainer.Position.Step);
            database.UpdateJob(job.Id, "running", reason, trainer.Position.Step, job.TotalSteps, job.BestValidLoss, job.Started, null, job.RunTime);
            logger.LogInformation("Job {JobId} (model {Model}) checkpointed at step {Step}; it resumes at the next start", job.Id, job.ModelName, trainer.Position.Step);
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

    /// <summary>
    /// A new model's job that ends before its first checkpoint leaves no folder behind: a job on an upload
    /// wrote corpus.txt there when it was queued, so "remove it if empty" alone never fired. Only what the
    /// job wrote goes (its corpus.txt, then the folder if that left it empty), and the owner's row with it,
    /// so the name is free as if the job had never been; a folder holding a checkpoint is a model and stays whole.
    /// </summary>
    private void RemoveIfNeverSaved(string jobId, JobPlan? jobPlan)
    {
        if (jobPlan is not { ResumeCheckpoint: null } plan || ModelFolder.HoldsModel(plan.Folder)) return;
        try
        {
            // A job on a named corpus stopped in the queue made no folder, but its owner's row is there all the same.
            if (Directory.Exists(plan.Folder))
            {
                if (plan.UploadedCorpus) File.Delete(Path.Combine(plan.Folder, ModelFolder.UploadedCorpusFile));
                if (Directory.EnumerateFileSystemEntries(plan.Folder).Any()) return; // something not the job's: left as it is
                Directory.Delete(plan.Folder, recursive: false);
            }
            database.ForgetModel(plan.ModelName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Data.Common.DbException)
        {
            logger.LogWarning("Job {JobId} saved no checkpoint, but its model folder could not be removed: {Reason}", jobId, e.Message);
        }
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
                : plan.InitFromCheckpoint is { } source ? Trainer.InitFrom(source, plan.InitFromModel!, plan.Options!, plan.Corpus, device, plan.Folder)
                : Trainer.Create(plan.Architecture!, plan.HyperParameters!, plan.Options!, plan.Corpus, device, plan.Folder);
        }
        catch (CheckpointException e) when (plan.InitFromCheckpoint == e.Path)
        {
            ReleaseFolder(job); // the source went (or broke) while the job waited in the queue: say which model, and what to do
            throw InitFromSourceException.Of(e, plan.InitFromModel!);
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
        job.Epoch = ReportedEpoch.Of(trainer.Position.Epoch, trainer.Options.Epochs);
        if (double.IsFinite(trainer.Position.BestValidLoss)) job.BestValidLoss = trainer.Position.BestValidLoss;
        var lastWrite = 0L; // a Stopwatch timestamp: intervals on the wall clock would stop with it set back
        trainer.Progress += p =>
        {
            p = p with { Epoch = ReportedEpoch.Of(p.Epoch, trainer.Options.Epochs) };
            job.Step = p.Step;
            job.Epoch = p.Epoch;
            job.LastLoss = p.Loss;
            job.CharsPerSecond = p.CharsPerSecond;
            job.TotalSteps = p.TotalSteps;
            job.Events.Append(new JobProgressed(p), p.Step);
        };
        var stepsOfKey = ServerMetrics.TrainingSteps.WithLabels(job.Owner); // WithLabels allocates per call: once per job, not per step
        trainer.BatchEnded += step =>
        {
            stepsOfKey.Inc();
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
            trainer.Vocabulary.Size, plan.Corpus.Length, plan.InitFromModel, plan.Corpus.CodePoints), job.Step);
        if (trainer.Position.Step > 0) // after a restart, or a resume of a saved model: where it picks up
            logger.LogInformation("Job {JobId} started: {Architecture} on {Device}, {Steps} steps, resumed from step {Step}", job.Id, job.Architecture, deviceDescription, job.TotalSteps, trainer.Position.Step);
        else
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
            TrainingOutcomeKind.Finished => (JobState.Finished, (JobEventPayload)new JobFinished(outcome.Reason, job.BestValidLoss, final, outcome.StoppedEarly)),
            // Stopped with the stop request's reason: on request (a time budget reached as it came has its own).
            TrainingOutcomeKind.Stopped => (JobState.Stopped, new JobStopped(outcome.Reason, outcome.CheckpointPath != null, final, OnRequest: outcome.Reason == job.StopRequest,
                At: job.Trainer is { } stopped ? StoppedAt.Of(stopped) : null)),
            _ => (JobState.Failed, new JobFailed(outcome.Reason)),
        };
        End(job, state, outcome.Reason, payload, disposeTrainer: true);
    }

    private void End(TrainingJob job, JobState state, string reason, JobEventPayload payload, bool disposeTrainer)
    {
        if (disposeTrainer) DisposeTrainer(job);
        ReleaseFolder(job);
        RemoveIfNeverSaved(job.Id, job.Plan); // while the job still holds the name: no new job for it can write there meanwhile
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
        if (!job.Events.Ended) job.Events.Append(payload is JobEnd end ? end with { Epoch = job.Epoch } : payload, job.Step);
        try
        {
            database.UpdateJob(job.Id, state.ToString().ToLowerInvariant(), reason, job.Step, job.TotalSteps, job.BestValidLoss, job.Started, job.Ended, job.RunTime,
                stoppedOnRequest: payload is JobStopped { OnRequest: true });
        }
        catch (Exception e) // a full disk, say: this runs on the device thread, and an escape would end the server
        {
            logger.LogError(e, "Job {JobId} ended ({State}) but its end could not be stored; after a restart it is recovered as unfinished", job.Id, state);
        }
        logger.LogInformation("Job {JobId} {End}", job.Id, EndOf(state, reason));
    }

    /// <summary>
    /// How a job's end reads after "Job N": its state said once. Most reasons name it already ("finished 2 epoch(s)",
    /// "stopped by key 'bob'", "stopped: key 'x' was removed"), and "Stopped: stopped by …" said it twice.
    /// </summary>
    internal static string EndOf(JobState state, string reason)
    {
        var said = state.ToString().ToLowerInvariant();
        return reason.StartsWith(said, StringComparison.OrdinalIgnoreCase) ? reason : $"{said}: {reason}";
    }

    private int _progressWriting; // 1 while a progress write is under way: the next waits for none, it is skipped

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

    private static JobRecord Record(TrainingJob job, string state)
    {
        var plan = job.RunnablePlan;
        var recordPlan = new JobRecordPlan(plan.Architecture?.Name ?? (job.Architecture is "" ? null : job.Architecture), plan.HyperParameters?.Values.ToDictionary(kv => kv.Key, kv => kv.Value),
            plan.Options ?? plan.ResumeOptions!, plan.CorpusName, plan.UploadedCorpus, plan.ResumeCheckpoint != null)
        {
            InitFromModel = plan.InitFromModel, InitFromCheckpoint = plan.InitFromCheckpoint, Warnings = [.. plan.Warnings.Select(w => w.Say(TrainingSettingNames.Api))], WarningParts = [.. plan.Warnings],
        };
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
}
