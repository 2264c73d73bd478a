using System.Security.Cryptography;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;

namespace CharRnn.ModelServer.Jobs;

public enum JobState { Queued, Running, Finished, Failed, Stopped }

/// <summary>
/// One training job: its plan, state, a live summary of its progress (readable from any
/// thread) and its event log. The trainer itself lives on the device thread.
/// </summary>
public sealed class TrainingJob
{
    /// <summary>The key that started it (<see cref="Security.Caller.KeyHash"/>, kept in its stored row across restarts); null for a job started without keys.</summary>
    public string? KeyHash { get; init; }

    /// <param name="storeEvent">Where its events are kept beyond this process (the database journal), if anywhere.</param>
    public TrainingJob(JobPlan plan, string owner, string? id = null, Action<JobEvent>? storeEvent = null)
    {
        Id = id ?? "j-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        Plan = plan;
        Owner = owner;
        ModelName = plan.ModelName;
        InitFrom = plan.InitFromModel;
        Warnings = plan.Warnings;
        Events = new JobEventLog(Id, storeEvent);
        Created = DateTimeOffset.UtcNow;
    }

    /// <summary>A job that ended before this server started, as the database recorded it: listed and watchable, never run.</summary>
    public TrainingJob(string id, string owner, string modelName, DateTimeOffset created, Action<JobEvent>? storeEvent = null)
    {
        Id = id;
        Owner = owner;
        ModelName = modelName;
        Events = new JobEventLog(Id, storeEvent);
        Created = created;
    }

    public string Id { get; }
    /// <summary>
    /// What it trains; null once it has ended (an ended job is listed for long, and its plan holds the
    /// corpus's whole text), and for a job known from the database only (it ended before this server started).
    /// </summary>
    public JobPlan? Plan { get; private set; }

    /// <summary>Lets the plan go when the job ends (under the queue's lock).</summary>
    internal void ForgetPlan() => Plan = null;

    /// <summary>The plan of a job this server runs (only those are queued or started).</summary>
    internal JobPlan RunnablePlan => Plan ?? throw new InvalidOperationException($"Job {Id} has ended; it cannot run.");
    /// <summary>The API key that started the job.</summary>
    public string Owner { get; }
    /// <summary>The model it trains; for an ended job, the model's name now (RenameModel renames its ended jobs with it).</summary>
    public string ModelName { get => _modelName; private set => _modelName = value; }
    private volatile string _modelName = "";

    /// <summary>The model the ended job trained was renamed to <paramref name="newName"/> (under the queue's lock).</summary>
    internal void ModelRenamed(string newName) => ModelName = newName;
    /// <summary>The model a fine-tune starts from (StartJobRequest.init_from), kept past the plan for listings; null otherwise.</summary>
    public string? InitFrom { get; init; }
    /// <summary>Its plan's warnings (Job.warnings), kept past the plan for listings and, in its stored row, past a restart.</summary>
    public IReadOnlyList<TrainingWarning> Warnings { get; init; } = [];
    public string Architecture { get; set; } = "";
    public JobEventLog Events { get; }
    public DateTimeOffset Created { get; init; }
    public DateTimeOffset? Started { get; set; }
    public DateTimeOffset? Ended { get; set; }
    public volatile JobState State;

    /// <summary>
    /// Its state as GetJob and ListJobs report it, for a refusal's words: "queued" until it has started, even once the device
    /// thread has taken it from the queue to start it (a refusal saying "running" then would not match what a client sees).
    /// </summary>
    public string ReportedState => State.ToString().ToLowerInvariant();
    public string Reason { get; set; } = "";

    // Live summary, written by the device thread.
    public long Step { get; set; }
    public long TotalSteps { get; set; }
    /// <summary>The epoch being trained, 1-based (<see cref="ReportedEpoch"/>); 0 before the job starts.</summary>
    public int Epoch { get => _endedEpoch?.Value ?? _epoch; set => _epoch = value; }
    private int _epoch;
    private Lazy<int>? _endedEpoch;

    /// <summary>A job known from the database only: its epoch is read from its stored events when first asked for (not every listed job's at start-up).</summary>
    internal void RestoreEpoch(Func<int> read) => _endedEpoch = new Lazy<int>(read);
    public double LastLoss { get; set; } = double.NaN;
    public double? BestValidLoss { get; set; }
    public double CharsPerSecond { get; set; }

    /// <summary>Set by StopJob; the device loop stops the trainer (saving a checkpoint) at its next turn.</summary>
    public volatile string? StopRequest;

    /// <summary>Device thread only.</summary>
    internal Trainer? Trainer { get; set; }
    /// <summary>
    /// Set when the run is over and its last checkpoint is being written (device thread only): the job
    /// ends as the outcome says once the write is done, and the device serves others meanwhile.
    /// </summary>
    internal (TrainingOutcome Outcome, (double Loss, double Accuracy)? Validated)? Ending { get; set; }
    /// <summary>The model folder's training lock, held from the start to the end: a `charrnn train` into it is refused meanwhile, and the job if one holds it.</summary>
    internal IDisposable? FolderHold { get; set; }
    internal TimeSpan RunTime { get; set; }
    /// <summary>When the last checkpoint was saved, as a Stopwatch timestamp (periodic saves keep their pace whatever the wall clock does).</summary>
    internal long LastSaved { get; set; }
    /// <summary>Sizes the pieces of this job's steps while others generate (device thread).</summary>
    internal StepPieceSizer PieceSizer { get; } = new();
}
