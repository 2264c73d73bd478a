using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;

namespace CharRnn.Tui.ViewModels;

/// <summary>
/// What the training screen shows, built from a job's event stream: loss and learning-rate
/// curves, validation losses per epoch, progress, speed and the epoch samples. Fed from a
/// background stream, read by the render loop: every member is thread-safe.
/// </summary>
public sealed class TrainingMonitor
{
    public const int MaxPoints = 2000;
    private readonly object _gate = new();
    private readonly List<(double Step, double Loss)> _loss = [];
    private readonly List<(double Step, double Rate)> _learningRate = [];
    private readonly List<(double Step, double Loss)> _validLoss = [];
    private readonly List<(long Step, string Text)> _samples = [];
    private List<string> _warnings = [];
    private int _version;

    public string JobId { get; private set; } = "";
    public string ModelName { get; private set; } = "";
    public string State { get; private set; } = "no job";
    public long Step { get; private set; }
    public long TotalSteps { get; private set; }
    public int Epoch { get; private set; }
    /// <summary>
    /// Fractional epochs done at <see cref="Step"/>: the last progress (or epoch end) taken on by the steps since at
    /// its epoch's length, short of the next epoch's end. A stop (a checkpoint, a replay keeping few progress events)
    /// comes at a later step than the last progress, which showed 'epoch 5.00 · step 1426' for a step inside epoch 6.
    /// A stop event that says where its model stands (JobEvent.Stopped.epochs_completed) is taken as it says.
    /// </summary>
    public double EpochProgress => _stepsPerEpoch > 0 && Step > _epochProgressStep
        ? Math.Min(_epochProgress + (double)(Step - _epochProgressStep) / _stepsPerEpoch, Math.Floor(_epochProgress) + 0.99)
        : _epochProgress;
    private double _epochProgress;
    /// <summary>
    /// Whether <see cref="EpochProgress"/> is known: a progress, an epoch end or a stop that says it, or step 0. A queued
    /// or just started resume has only its step (the queued event's, the started event's resumed_from_step), which
    /// showed as 'epoch 0.00 · step 2414' for a model 20 epochs in.
    /// </summary>
    public bool EpochKnown => _epochGiven || Step == 0;
    private bool _epochGiven;
    /// <summary>Whether a progress event came since the attach: until one, the job has no learning rate or speed to show (not 0).</summary>
    public bool Measured { get; private set; }
    /// <summary>The step <see cref="_epochProgress"/> was taken at.</summary>
    private long _epochProgressStep;
    /// <summary>Steps in an epoch: the last progress's batches_in_epoch, else the epoch ends' mean; 0 while unknown.</summary>
    private double _stepsPerEpoch;
    /// <summary>Whether <see cref="_stepsPerEpoch"/> is the epoch ends' mean, which a progress's count replaces.</summary>
    private bool _stepsFromEpochEnds;
    public double LastLoss { get; private set; } = double.NaN;
    public double LastValidLoss { get; private set; } = double.NaN;
    public double LearningRate { get; private set; }
    public double CharsPerSecond { get; private set; }
    public double? EtaSeconds { get; private set; }
    public string Device { get; private set; } = "";
    public int Version => Volatile.Read(ref _version);
    /// <summary>Counts the times the samples list started over (another job, or a run rewound): a view showing them redraws them all.</summary>
    public int SamplesRestarted { get; private set; }

    public double Fraction => TotalSteps > 0 ? Math.Clamp((double)Step / TotalSteps, 0, 1) : 0;

    public void Attach(Job job)
    {
        lock (_gate)
        {
            _loss.Clear(); _learningRate.Clear(); _validLoss.Clear(); _samples.Clear();
            JobId = job.Id;
            ModelName = job.ModelName;
            State = job.State.ToString().ToLowerInvariant();
            Step = job.Step;
            TotalSteps = job.TotalSteps;
            LastLoss = double.NaN;
            // Not job.BestValidLoss: that is the model's best so far (a resume's can be older and lower), which the
            // Train tab's 'val' read as this job's latest; the replayed epoch ends give that.
            LastValidLoss = double.NaN;
            EtaSeconds = null;
            CharsPerSecond = 0;
            Epoch = 0;
            (_epochProgress, _epochProgressStep, _stepsPerEpoch, _stepsFromEpochEnds) = (0, 0, 0, false);
            (_epochGiven, Measured) = (false, false);
            LearningRate = 0;
            Device = "";
            SamplesRestarted++;
            _warnings = JobWarningText.Of(job).ToList();
            Disconnected = false;
            Detached = false;
            Halted = false;
        }
        Interlocked.Increment(ref _version);
    }

    /// <summary>The watch lost its server and is reconnecting: what is shown is as of then, not now.</summary>
    public bool Disconnected { get; private set; }

    public void SetDisconnected(bool lost)
    {
        lock (_gate) Disconnected = lost;
        Interlocked.Increment(ref _version);
    }

    /// <summary>No longer watched: the figures are as of then (a rate and ETA shown would read as live, and a stop after the detach never reaches them).</summary>
    public bool Detached { get; private set; }

    /// <summary>No longer watched: the chart stays, the state says the job goes on without us.</summary>
    public void Detach()
    {
        lock (_gate)
        {
            if (JobId.Length > 0) State = "detached: it keeps training (attach to watch again)";
            Detached = JobId.Length > 0;
        }
        Interlocked.Increment(ref _version);
    }

    public void Add(JobEvent e)
    {
        lock (_gate)
        {
            if (e.JobId != JobId) return; // a late event of a job we no longer watch
            Step = Math.Max(Step, e.Step);
            switch (e.EventCase)
            {
                case JobEvent.EventOneofCase.Queued:
                    State = $"queued ({e.Queued.Position})";
                    TakeWarnings(e.Queued.Warnings);
                    break;
                case JobEvent.EventOneofCase.Started:
                    State = "running";
                    TakeWarnings(e.Started.Warnings);
                    Device = e.Started.Device;
                    TotalSteps = e.Started.TotalSteps;
                    Rewind(e.Started.ResumedFromStep);
                    Step = e.Started.ResumedFromStep;
                    break;
                case JobEvent.EventOneofCase.Progress:
                    var p = e.Progress;
                    State = "running";
                    LastLoss = p.Loss;
                    LearningRate = p.LearningRate;
                    CharsPerSecond = p.CharsPerSecond;
                    EtaSeconds = p.HasEtaSeconds ? p.EtaSeconds : null;
                    TotalSteps = p.TotalSteps;
                    Epoch = p.Epoch;
                    (_epochProgress, _epochProgressStep, _epochGiven, Measured) = (p.EpochProgress, p.Step, true, true);
                    if (p.BatchesInEpoch > 0) (_stepsPerEpoch, _stepsFromEpochEnds) = (p.BatchesInEpoch, false);
                    Add(_loss, (p.Step, p.Loss));
                    Add(_learningRate, (p.Step, p.LearningRate));
                    break;
                case JobEvent.EventOneofCase.EpochEnd:
                    var r = e.EpochEnd.Record;
                    LastValidLoss = r.ValidLoss;
                    Add(_validLoss, (r.Step, r.ValidLoss));
                    // Where the progress a job kept is sparse (a server keeps at most one a second, fewer as a run goes
                    // on: what an attach after a restart replays), each epoch's end still gives a point and the epoch.
                    Epoch = Math.Max(Epoch, r.Epoch);
                    if (r.Epoch >= _epochProgress) (_epochProgress, _epochProgressStep, _epochGiven) = (r.Epoch, r.Step, true);
                    if (r.Epoch > 0 && (_stepsPerEpoch == 0 || _stepsFromEpochEnds)) (_stepsPerEpoch, _stepsFromEpochEnds) = ((double)r.Step / r.Epoch, true);
                    if (_loss.Count == 0 || _loss[^1].Step < r.Step)
                    {
                        Add(_loss, (r.Step, r.TrainLoss));
                        LastLoss = r.TrainLoss;
                    }
                    if (_learningRate.Count == 0 || _learningRate[^1].Step < r.Step) Add(_learningRate, (r.Step, r.LearningRate));
                    if (r.Sample.Length > 0) _samples.Add((r.Step, $"epoch {r.Epoch} (val {r.ValidLoss:F3}): {r.Sample}"));
                    break;
                case JobEvent.EventOneofCase.Finished or JobEvent.EventOneofCase.Stopped or JobEvent.EventOneofCase.Failed:
                    State = JobEndText.Of(e)!;
                    if (JobEndText.FinalValidLoss(e) is { } final && !_validLoss.Any(v => v.Step == e.Step))
                    {
                        // Ended between epoch ends: the last weights' loss, validated after its last step.
                        LastValidLoss = final;
                        Add(_validLoss, (e.Step, final));
                    }
                    // A stop says where its model stands (a server older than the field does not: EpochProgress then estimates from the last progress).
                    if (e.EventCase == JobEvent.EventOneofCase.Stopped && e.Stopped.HasEpochsCompleted)
                        (_epochProgress, _epochProgressStep, _epochGiven) = (e.Stopped.EpochsCompleted + (e.Stopped.BatchesInEpoch > 0 ? (double)e.Stopped.StepsIntoEpoch / e.Stopped.BatchesInEpoch : 0), e.Step, true);
                    if (e.EventCase == JobEvent.EventOneofCase.Finished) EtaSeconds = 0;
                    else Ended();
                    break;
            }
        }
        Interlocked.Increment(ref _version);
    }

    /// <summary>
    /// The job's training-settings warnings (an SGDR run stopped mid-cycle, a learning rate all zero), in the REPL's
    /// spelling from the job's parts; the Train screen showed none, and the REPL said them once in its scrolling log.
    /// </summary>
    public IReadOnlyList<string> Warnings { get { lock (_gate) return _warnings.ToList(); } }

    /// <summary>
    /// An event's warnings (each run repeats them) where the job attached to gave none: they are as the server words
    /// them, so the job's, in the REPL's spelling, are kept where it had them.
    /// </summary>
    private void TakeWarnings(IEnumerable<string> warnings)
    {
        if (_warnings.Count == 0) _warnings = warnings.ToList();
    }

    public IReadOnlyList<(double Step, double Loss)> Loss { get { lock (_gate) return _loss.ToList(); } }
    public IReadOnlyList<(double Step, double Rate)> LearningRates { get { lock (_gate) return _learningRate.ToList(); } }
    public IReadOnlyList<(double Step, double Loss)> ValidLoss { get { lock (_gate) return _validLoss.ToList(); } }
    public IReadOnlyList<string> Samples { get { lock (_gate) return _samples.Select(s => s.Text).ToList(); } }

    /// <summary>
    /// A run of a job starts at the step it resumed from (a restart resumes the last checkpoint, or
    /// step 0 without one): points past it, drawn while watching the run before, are trained again,
    /// so the curve goes on from there.
    /// </summary>
    private void Rewind(long step)
    {
        _loss.RemoveAll(p => p.Step > step);
        _learningRate.RemoveAll(p => p.Step > step);
        if (_samples.RemoveAll(s => s.Step > step) > 0) SamplesRestarted++;
        if (_validLoss.RemoveAll(p => p.Step > step) > 0) LastValidLoss = _validLoss.Count > 0 ? _validLoss[^1].Loss : double.NaN;
    }

    /// <summary>The job ended without finishing (stopped, failed, cancelled): it has no speed, not a speed of 0.</summary>
    public bool Halted { get; private set; }

    /// <summary>An ended job neither trains nor has time left: its last speed and ETA would read as live.</summary>
    private void Ended()
    {
        EtaSeconds = null;
        CharsPerSecond = 0;
        Halted = true;
    }

    /// <summary>
    /// Appends a point; past <see cref="MaxPoints"/> the curve is thinned to every other point, not
    /// cut at its start: a long job (or one attached to late, its whole history replayed) keeps its
    /// first epochs on the chart, drawn from fewer points.
    /// </summary>
    private static void Add<T>(List<T> list, T item)
    {
        list.Add(item);
        if (list.Count <= MaxPoints) return;
        var last = list[^1];
        var kept = 0;
        for (int i = 0; i < list.Count - 1; i += 2) list[kept++] = list[i];
        list[kept++] = last;
        list.RemoveRange(kept, list.Count - kept);
    }
}
