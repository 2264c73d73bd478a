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
using CharRnn.ModelServer.TrainedModels;
using CharRnn.ModelServer.Persistence;
using CharRnn.ModelServer.Security;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace CharRnn.ModelServer.Jobs;

/// <summary>
/// Training jobs in order: at most one runs (the device is shared), the rest wait their turn,
/// keys served in a fair round-robin (see <see cref="RunOrder"/>). Every job is also a row in the server database, its events too, so a restart (even
/// after kill -9) queues again what was queued, resumes what was running from its last
/// checkpoint, and still shows each job's history.
/// Enqueue, Stop, Get and List are thread-safe; <see cref="RunSlice"/> is called by the device
/// loop between generation steps and runs the current job for a bounded time.
/// </summary>
public sealed partial class JobQueue(IOptions<ServerOptions> options, ModelStore models, CorpusStore corpora, ServerDatabase database, JobEventJournal journal,
    PathRedaction paths, KeysFileRemovals removals, ILogger<JobQueue> logger)
{
    private readonly object _gate = new();
    private readonly List<TrainingJob> _queue = [];
    private readonly List<TrainingJob> _ended = [];
    // Jobs that hold their name while the disk catches up, which the device loop cannot start: accepted ones being
    // stored before they join the queue, and stopped ones whose never-saved model folder is being removed.
    private readonly List<TrainingJob> _persisting = [];
    private readonly HashSet<string> _deleting = new(StringComparer.Ordinal);
    /// <summary>
    /// Models whose job could not be recovered at the start and whose failure could not be stored either (a full disk):
    /// the job's row is still queued, so the next start recovers it; a new job on the model meanwhile would be a second.
    /// </summary>
    private readonly Dictionary<string, string> _unstoredFailures = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, TrainingJob> _byId = new(StringComparer.Ordinal);
    private readonly ServerLimits _limits = options.Value.Limits;
    private readonly TimeSpan _checkpointEvery = TimeSpan.FromMinutes(Math.Max(0.01, options.Value.CheckpointMinutes));
    private TrainingJob? _running;

    /// <summary>Raised when there is new work for the device loop.</summary>
    public event Action? WorkArrived;

    public int Queued { get { lock (_gate) return _queue.Count; } }
    public int Running { get { lock (_gate) return _running == null ? 0 : 1; } }
    /// <summary>The owners of the queued jobs and of the running one (none or one), as <see cref="Queued"/> and <see cref="Running"/> count them.</summary>
    public (List<string> Queued, List<string> Running) Owners { get { lock (_gate) return ([.. _queue.Select(j => j.Owner)], _running == null ? [] : [_running.Owner]); } }
    public double RunningCharsPerSecond { get { lock (_gate) return _running?.CharsPerSecond ?? 0; } }

    public TrainingJob Enqueue(JobPlan plan, Caller caller) => Enqueue(plan, caller.Name, id: null, checkQuota: true, keyHash: caller.KeyHash);

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
            try
            {
                if (plan.ResumeCheckpoint == null) models.RecordUnrecorded(job.ModelName); // a row a rename or delete left unrecorded is not the new model's
                database.InsertJob(Record(job, "queued"), newModelOwner: plan.ResumeCheckpoint == null ? owner : null);
            }
            catch
            {
                if (plan.UploadedCorpus && plan.ResumeCheckpoint == null) RemoveUnqueuedUpload(plan);
                throw;
            }
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
            // At the step it will start from, a resume's checkpoint's: where the model stands while it waits.
            job.Events.Append(new JobQueued(Position(job)), plan.ResumesFromStep);
        }
        WorkArrived?.Invoke();
        return job;
    }

    /// <summary>
    /// A new model's upload, written into its folder before the job's row that the disk then refused: removed, with the folder
    /// where that leaves it empty, while the name is still held (_persisting), so that the name is as free as before the call
    /// (a folder with files but no model would refuse a rename or import to the name until the operator removed it).
    /// </summary>
    private void RemoveUnqueuedUpload(JobPlan plan)
    {
        try
        {
            File.Delete(Path.Combine(plan.Folder, ModelFolder.UploadedCorpusFile));
            if (Directory.Exists(plan.Folder) && !Directory.EnumerateFileSystemEntries(plan.Folder).Any()) Directory.Delete(plan.Folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("The corpus uploaded for model {Model} could not be removed after its job's row was refused: {Reason}", plan.ModelName, e.Message);
        }
    }

    /// <summary>NOT_FOUND both for unknown jobs and for jobs of other keys (existence is not revealed).</summary>
    public TrainingJob Get(string id, Caller caller)
    {
        if (string.IsNullOrWhiteSpace(id)) throw ServerException.Invalid("job_id is empty; pass the id StartJob returned.");
        TrainingJob? found;
        lock (_gate) found = _byId.GetValueOrDefault(id);
        return found != null && Sees(caller, found)
            ? found
            : throw ServerException.NotFound(NotFoundMessage(id, caller), ErrorReasons.JobNotFound, ("job_id", id));
    }

    /// <summary>
    /// Depends on the caller only, never on whether the id exists, so another key's job id does not leak;
    /// a non-admin is told both reasons, as either may be why (an admin sees every job, so only the keeping applies).
    /// </summary>
    private string NotFoundMessage(string id, Caller caller)
    {
        var kept = _limits.MaxEndedJobs;
        if (caller == Caller.Local) return $"No job '{Echo.Of(id)}' (ended jobs are kept until {kept} newer ones end).";
        return caller.Admin
            ? $"No job '{Echo.Of(id)}' for key '{caller.Name}' (a key's ended jobs are kept until {kept} newer ones of its own end)."
            : $"No job '{Echo.Of(id)}' for key '{caller.Name}': another key's job is not shown to it (save one queued or running on a model it owns), " +
              $"and a key's ended jobs are kept until {kept} newer ones of its own end.";
    }

    /// <summary>
    /// A key sees its own jobs (an admin, all), and the running or queued jobs on the models it owns: an
    /// admin's resume of someone's model is theirs to watch and stop (read outside the lock: it asks the database).
    /// </summary>
    private bool Sees(Caller caller, TrainingJob job) =>
        caller.Owns(job.Owner) || (job.State is JobState.Queued or JobState.Running && models.Ownership(job.ModelName)?.Owner == caller.Name);

    /// <summary>
    /// The job's state and 1-based queue position (0 unless queued), read together under the lock: the device
    /// thread takes a job off the queue before it marks it running, and a job between the two (being started)
    /// is still queued, first in line, not queued at position 0.
    /// </summary>
    public (JobState State, int QueuePosition) StateOf(TrainingJob job)
    {
        lock (_gate)
        {
            var state = job.State;
            return (state, state == JobState.Queued ? Position(job) : 0);
        }
    }

    /// <summary>A queued job's 1-based place (under the lock): a job being started, off the queue but not yet running, is first.</summary>
    private int Position(TrainingJob job)
    {
        var starting = _running is { State: JobState.Queued };
        return job == _running ? 1 : RunOrder().IndexOf(job) + 1 + (starting ? 1 : 0);
    }

    /// <summary>
    /// When each key's job last started, as a count of starts (under the lock): the round-robin serves the key
    /// served least recently. Not stored: after a restart every key starts even, and the queue's own order decides.
    /// </summary>
    private readonly Dictionary<string, long> _lastStarted = new(StringComparer.Ordinal);
    private long _starts;

    /// <summary>A job leaves the queue to run (under the lock): its key becomes the one served most recently.</summary>
    private void MarkStarted(TrainingJob job) => _lastStarted[job.Owner] = ++_starts;

    /// <summary>
    /// Queued jobs in the order they will start (under the lock): a fair round-robin across keys. Each next
    /// job is the oldest of the key served least recently (a key never served first, the one queued earliest
    /// among those), so with alice×2, bob×2 and carol×1 queued, carol's job runs before either key's second,
    /// and one key's queue of long jobs does not hold everyone else's. Among one key's jobs, first come first served.
    /// </summary>
    private List<TrainingJob> RunOrder()
    {
        var waiting = _queue.ToList();
        var order = new List<TrainingJob>(waiting.Count);
        var served = new Dictionary<string, long>(_lastStarted, StringComparer.Ordinal);
        var turn = _starts;
        while (waiting.Count > 0)
        {
            // MinBy keeps the first of equals: the queue's order breaks ties, and a key's first job in it is its oldest.
            var next = waiting.MinBy(j => served.GetValueOrDefault(j.Owner, -1))!;
            waiting.Remove(next);
            order.Add(next);
            served[next.Owner] = ++turn;
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

    /// <summary>
    /// Whether a job is writing the model (running, or saving as it ends), or one for it is queued: waiting, or being
    /// started (off the queue, not yet running), as its Job.state says (QUEUED, at 1); a model listed training while
    /// GetJob said its job was queued read as if it had begun. Listed as queued, not training, until the job runs.
    /// </summary>
    public (bool Training, bool Queued) ActivityOf(string modelName)
    {
        lock (_gate) return ActiveFor(modelName) is { } job ? (job.State != JobState.Queued, job.State == JobState.Queued) : (false, false);
    }

    /// <summary>
    /// The new models a running or queued job of <paramref name="caller"/>'s (any, for an admin) is making and has
    /// not saved yet: listed as training (or queued), though their folders hold no checkpoint before an epoch's end or a periodic save.
    /// </summary>
    /// <remarks>
    /// Each with its plan as read under the lock: a job that ends after this forgets its plan, and a listing that
    /// reads the model folders in between still maps the job it read here.
    /// </remarks>
    public IReadOnlyList<(TrainingJob Job, JobPlan Plan)> Unsaved(Caller caller)
    {
        List<(TrainingJob Job, JobPlan Plan)> making;
        lock (_gate)
            making = [.. Active().Where(j => caller.Admin || j.Owner == caller.Name)
                .Select(j => (Job: j, Plan: j.Plan)).Where(m => m.Plan is { ResumeCheckpoint: null }).Select(m => (m.Job, m.Plan!))];
        return [.. making.Where(m => !models.Exists(m.Job.ModelName))]; // the folder is read outside the lock the device loop takes
    }

    /// <summary>FAILED_PRECONDITION for a model a job is making and has not saved yet: NOT_FOUND would say there is none, yet its name is taken.</summary>
    public void ThrowIfUnsaved(string modelName, Caller caller)
    {
        if (Unsaved(caller).FirstOrDefault(m => m.Job.ModelName == modelName).Job is not { } job) return;
        // A queued job has not begun: "making it, saves it at its first epoch's end" would say it had.
        if (StateOf(job) is (JobState.Queued, var position))
            throw ServerException.Precondition($"Model '{modelName}' has no checkpoint yet: job {job.Id}, which will make it, is queued (position {position}) " +
                                               "and has not started; WatchJob follows it, StopJob takes it off the queue.", ("model", modelName), ("job_id", job.Id));
        throw ServerException.Precondition($"Model '{modelName}' has no checkpoint yet: job {job.Id} is making it, and saves it at its first epoch's end " +
                                           "(or at the server's periodic save); WatchJob follows it, StopJob stops it with a checkpoint.", ("model", modelName), ("job_id", job.Id));
    }

    /// <summary>Stops a job: a queued one leaves the queue at once; a running one checkpoints and stops at the device loop's next turn.</summary>
    public TrainingJob Stop(string id, Caller caller, string reason)
    {
        var job = Get(id, caller);
        List<string>? forgotten = null;
        JobPlan? plan = null;
        lock (_gate)
        {
            if (_queue.Remove(job))
            {
                plan = job.Plan; // MarkEnded lets the plan go
                forgotten = MarkEnded(job, JobState.Stopped, reason);
                _persisting.Add(job); // stopped, but holding its name (as a job being stored does) while its folder and owner go
            }
            // Running, or taken from the queue and starting (Start can take seconds on a large corpus).
            else if (job.State == JobState.Running || _running == job) job.StopRequest ??= reason;
        }
        if (forgotten != null)
        {
            // Outside the lock (the device loop takes it every tick, and the disk may be slow), and before the name is
            // free: a new job for it may write its corpus.txt, and its owner's row, once it is.
            try { RemoveIfNeverSaved(job.Id, plan); }
            finally { lock (_gate) _persisting.Remove(job); }
            // Stored outside the lock: the device loop takes it every tick, and a write may wait on the disk.
            StoreEnd(job, JobState.Stopped, reason, new JobStopped(reason, CheckpointSaved: false, OnRequest: true), forgotten);
            logger.LogInformation("Job {JobId} removed from the queue: {Reason}", job.Id, reason);
            return job;
        }
        WorkArrived?.Invoke();
        return job;
    }

    /// <summary>Names of the new models <paramref name="owner"/>'s active jobs are making (under the lock).</summary>
    private List<string> MakingFor(string owner) =>
        Active().Where(j => j.Owner == owner && j.Plan?.ResumeCheckpoint == null).Select(j => j.ModelName).Concat(ImportingFor(owner)).ToList();

    /// <summary>The running job, the queued ones, and those holding their name while the disk catches up (under the lock).</summary>
    private IEnumerable<TrainingJob> Active() => (_running == null ? [] : new[] { _running }).Concat(_queue).Concat(_persisting);

    private TrainingJob? ActiveFor(string modelName, StringComparison comparison = StringComparison.Ordinal) =>
        string.Equals(_running?.ModelName, modelName, comparison) ? _running
            : _queue.Concat(_persisting).FirstOrDefault(j => string.Equals(j.ModelName, modelName, comparison));
}
