using System.Diagnostics;
using CharRnn.Engine.Storage;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Models;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace CharRnn.ModelServer.Jobs;

/// <summary>
/// Training jobs in order: at most one runs (the device is shared), the rest wait in a FIFO
/// queue. Enqueue, Stop, Get and List are thread-safe; <see cref="RunSlice"/> is called by the
/// device loop between generation steps and runs the current job for a bounded time.
/// </summary>
public sealed class JobQueue(IOptions<ServerOptions> options, ModelStore models, ILogger<JobQueue> logger)
{
    public const string CorpusFile = "corpus.txt";
    private readonly object _gate = new();
    private readonly List<TrainingJob> _queue = [];
    private readonly List<TrainingJob> _ended = [];
    private readonly Dictionary<string, TrainingJob> _byId = new(StringComparer.Ordinal);
    private readonly ServerLimits _limits = options.Value.Limits;
    private TrainingJob? _running;

    /// <summary>Raised when there is new work for the device loop.</summary>
    public event Action? WorkArrived;

    public int Queued { get { lock (_gate) return _queue.Count; } }
    public int Running { get { lock (_gate) return _running == null ? 0 : 1; } }

    public TrainingJob Enqueue(JobPlan plan)
    {
        TrainingJob job;
        lock (_gate)
        {
            if (_queue.Count >= _limits.MaxQueuedJobs)
                throw ServerException.Exhausted($"The job queue is full ({_limits.MaxQueuedJobs} queued, limit max_queued_jobs); wait for a job to finish or stop one.");
            if (ActiveFor(plan.ModelName) is { } other)
                throw ServerException.Precondition($"Job {other.Id} is already training model '{plan.ModelName}'; watch it, stop it, or choose another model_name.");
            job = new TrainingJob(plan) { Architecture = plan.Architecture?.Name ?? "" };
            _queue.Add(job);
            _byId[job.Id] = job;
            job.Events.Append(new JobQueued(_queue.Count), 0);
        }
        logger.LogInformation("Job {JobId} queued: model {Model}", job.Id, plan.ModelName);
        WorkArrived?.Invoke();
        return job;
    }

    public TrainingJob Get(string id)
    {
        if (string.IsNullOrWhiteSpace(id)) throw ServerException.Invalid("job_id is empty; pass the id StartJob returned.");
        lock (_gate)
            return _byId.TryGetValue(id, out var job)
                ? job
                : throw ServerException.NotFound($"No job '{id}' on this server (ended jobs are kept until {_limits.MaxEndedJobs} newer ones end, and not across restarts).");
    }

    public int QueuePosition(TrainingJob job)
    {
        lock (_gate) return _queue.IndexOf(job) + 1;
    }

    /// <summary>Running first, then queued in order, then ended, newest first.</summary>
    public IReadOnlyList<TrainingJob> List()
    {
        lock (_gate)
            return (_running == null ? [] : new[] { _running }).Concat(_queue).Concat(Enumerable.Reverse(_ended)).ToList();
    }

    public bool IsTraining(string modelName)
    {
        lock (_gate) return ActiveFor(modelName) != null;
    }

    /// <summary>Stops a job: a queued one leaves the queue at once; a running one checkpoints and stops at the device loop's next turn.</summary>
    public TrainingJob Stop(string id, string reason)
    {
        var job = Get(id);
        lock (_gate)
        {
            if (_queue.Remove(job))
            {
                job.State = JobState.Stopped;
                job.Reason = reason;
                job.Ended = DateTimeOffset.UtcNow;
                job.Events.Append(new JobStopped(reason, CheckpointSaved: false), job.Step);
                RememberEnded(job);
                logger.LogInformation("Job {JobId} removed from the queue: {Reason}", job.Id, reason);
                return job;
            }
            if (job.State == JobState.Running) job.StopRequest ??= reason;
        }
        WorkArrived?.Invoke();
        return job;
    }

    /// <summary>
    /// Runs the current job for about <paramref name="budget"/> (at least one step); starts the
    /// next queued job when none runs. Device thread only. Returns false when there was nothing to do.
    /// </summary>
    public bool RunSlice(TimeSpan budget, Device device, string deviceDescription)
    {
        TrainingJob? job;
        lock (_gate)
        {
            if (_running == null && _queue.Count > 0)
            {
                _running = _queue[0];
                _queue.RemoveAt(0);
            }
            job = _running;
        }
        if (job == null) return false;
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["JobId"] = job.Id, ["Model"] = job.ModelName });
        try
        {
            if (job.Trainer == null) Start(job, device, deviceDescription);
            var trainer = job.Trainer!;
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (job.StopRequest is { } reason) { Complete(job, trainer.Stop(reason)); break; }
                if (trainer.IsComplete) { Complete(job, trainer.Finish()); break; }
                if (trainer.Options.TimeBudget is { } limit && job.RunTime + clock.Elapsed >= limit)
                {
                    Complete(job, trainer.Stop($"time budget of {limit} reached"));
                    break;
                }
                trainer.Step();
                if (clock.Elapsed >= budget) break;
            }
            job.RunTime += clock.Elapsed;
        }
        catch (Exception e)
        {
            // Divergence, a corpus too short, out of device memory...: the job fails, the server lives on.
            var reason = e is TrainingDivergedException or ArgumentException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            if (e is not TrainingDivergedException and not ArgumentException) logger.LogError(e, "Job {JobId} failed", job.Id);
            Fail(job, reason);
        }
        return true;
    }

    /// <summary>Stops the running job with a checkpoint (server shutdown). Device thread only.</summary>
    public void Shutdown(string reason)
    {
        TrainingJob? job;
        lock (_gate) job = _running;
        if (job?.Trainer is { } trainer)
        {
            try { Complete(job, trainer.Stop(reason)); }
            catch (Exception e) { Fail(job, $"could not save on shutdown: {e.Message}"); }
        }
    }

    private void Start(TrainingJob job, Device device, string deviceDescription)
    {
        var plan = job.Plan;
        Directory.CreateDirectory(plan.Folder);
        if (plan.UploadedCorpus && !File.Exists(Path.Combine(plan.Folder, CorpusFile)))
            AtomicFile.WriteAllBytes(Path.Combine(plan.Folder, CorpusFile), System.Text.Encoding.UTF8.GetBytes(plan.Corpus.Text));
        var trainer = plan.ResumeCheckpoint is { } checkpoint
            ? Trainer.Resume(checkpoint, plan.Corpus, device, plan.Folder, plan.ChangeOptions)
            : Trainer.Create(plan.Architecture!, plan.HyperParameters!, plan.Options!, plan.Corpus, device, plan.Folder);
        job.Trainer = trainer;
        job.Architecture = trainer.Architecture.Name;
        job.State = JobState.Running;
        job.Started = DateTimeOffset.UtcNow;
        job.Step = trainer.Position.Step;
        job.TotalSteps = trainer.EstimateTotalSteps();
        job.Epoch = trainer.Position.Epoch;
        if (double.IsFinite(trainer.Position.BestValidLoss)) job.BestValidLoss = trainer.Position.BestValidLoss;
        trainer.Progress += p =>
        {
            job.Step = p.Step;
            job.Epoch = p.Epoch;
            job.LastLoss = p.Loss;
            job.CharsPerSecond = p.CharsPerSecond;
            job.TotalSteps = p.TotalSteps;
            job.Events.Append(new JobProgressed(p), p.Step);
        };
        trainer.EpochEnded += r =>
        {
            job.BestValidLoss = Math.Min(job.BestValidLoss ?? double.PositiveInfinity, r.ValidLoss);
            job.Events.Append(new JobEpochEnded(r), r.Step);
        };
        trainer.CheckpointSaved += c =>
        {
            models.Invalidate(job.ModelName); // new sessions get the newest checkpoint
            job.Events.Append(new JobCheckpointSaved(Path.GetFileName(c.Path), c.Reason, c.Epoch), c.Step);
        };
        job.Events.Append(new JobStarted(deviceDescription, job.TotalSteps, trainer.Model.ParameterCount, trainer.Position.Step,
            trainer.Vocabulary.Size, plan.Corpus.Length), job.Step);
        logger.LogInformation("Job {JobId} started: {Architecture} on {Device}, {Steps} steps", job.Id, job.Architecture, deviceDescription, job.TotalSteps);
    }

    private void Complete(TrainingJob job, TrainingOutcome outcome)
    {
        job.Step = job.Trainer?.Position.Step ?? job.Step;
        var (state, payload) = outcome.Kind switch
        {
            TrainingOutcomeKind.Finished => (JobState.Finished, (JobEventPayload)new JobFinished(outcome.Reason, job.BestValidLoss)),
            TrainingOutcomeKind.Stopped => (JobState.Stopped, new JobStopped(outcome.Reason, outcome.CheckpointPath != null)),
            _ => (JobState.Failed, new JobFailed(outcome.Reason)),
        };
        End(job, state, outcome.Reason, payload);
    }

    private void Fail(TrainingJob job, string reason) => End(job, JobState.Failed, reason, new JobFailed(reason));

    private void End(TrainingJob job, JobState state, string reason, JobEventPayload payload)
    {
        job.Trainer?.Dispose();
        job.Trainer = null;
        models.Invalidate(job.ModelName);
        lock (_gate)
        {
            job.State = state;
            job.Reason = reason;
            job.Ended = DateTimeOffset.UtcNow;
            if (_running == job) _running = null;
            RememberEnded(job);
        }
        if (!job.Events.Ended) job.Events.Append(payload, job.Step);
        logger.LogInformation("Job {JobId} {State}: {Reason}", job.Id, state, reason);
    }

    private void RememberEnded(TrainingJob job)
    {
        _ended.Add(job);
        while (_ended.Count > _limits.MaxEndedJobs)
        {
            _byId.Remove(_ended[0].Id);
            _ended.RemoveAt(0);
        }
    }

    private TrainingJob? ActiveFor(string modelName) =>
        _running?.ModelName == modelName ? _running : _queue.FirstOrDefault(j => j.ModelName == modelName);
}
