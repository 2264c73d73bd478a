using System.Collections.Concurrent;
using System.Diagnostics;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Sampling;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Jobs;
using CharRnn.ModelServer.Metrics;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace CharRnn.ModelServer.DeviceLoop;

/// <summary>
/// The one loop that owns the device and every Torch object on it (TorchSharp modules and
/// dispose scopes are not for concurrent use). Each tick it
///   1. runs the commands other threads queued (open, feed, fork, reset, close, ...), keys taking
///      turns, for a few milliseconds a tick (<see cref="CommandBudget"/>), and while anyone streams for
///      about as long as the streams' last step took (<see cref="StreamsOpenCommandBudget"/>, long texts fed in
///      pieces sized to it), so the keys' commands and the streams' chars take turns,
///   2. advances every active Generate call by one char: all sessions of a model in one batched
///      step (continuous batching: calls join and leave between ticks),
///   3. runs a slice of the current training job: short while anyone is generating, so streams
///      stay responsive (a step longer than the slice is trained in pieces, cut in time for stateful
///      models, in rows for windowed ones, with generation ticks between them), and only once the streams have had their share of the
///      device since the last slice (<see cref="DeviceShare"/>); longer when no one streams,
/// and sleeps when there is nothing to do.
/// </summary>
public sealed class DeviceWorker : IHostedLifecycleService
{
    /// <summary>
    /// Time commands may take in one tick while no stream is open (at least one runs): a backlog of feeds
    /// does not hold training for its whole length. While streams are open the budget is what the streams'
    /// last step took (<see cref="StreamsOpenCommandBudget"/>).
    /// </summary>
    public static readonly TimeSpan CommandBudget = TimeSpan.FromMilliseconds(5);

    /// <summary>The owner of commands no key asked for (the reaper's closes, model invalidations).</summary>
    public const string ServerOwner = "";

    private readonly ServerOptions _options;
    private readonly DeviceShare _share;
    private readonly JobQueue _jobs;
    private readonly ILogger<DeviceWorker> _logger;
    private readonly ConcurrentQueue<(string Owner, Action Command)> _commands = new();
    private readonly Dictionary<string, Queue<Action>> _pending = []; // device thread only: commands taken from _commands, by owner
    private readonly List<string> _turns = [];                       // device thread only: owners with pending commands, next first
    private readonly ConcurrentQueue<GenerationRequest> _arrivals = new();
    private readonly List<GenerationRequest> _active = []; // device thread only
    private readonly SemaphoreSlim _wake = new(0); // never disposed: Wake may come from any thread at any time
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Thread? _thread;
    private volatile bool _stopping; // set under _commandGate: no command is queued after the last drain
    private bool _trainingStopped; // device thread only: the host is stopping, the running job has checkpointed
    private readonly object _commandGate = new();
    private long _lastTickTicks;
    private long _generationSteps;
    private readonly Stopwatch _rateClock = Stopwatch.StartNew();
    private double _stepsPerSecond;
    private readonly Func<bool> _workWaiting; // one delegate, not one a tick
    private readonly Func<bool> _yieldNow;    // work waits, and the slice has run what training earned (_uncutUntil)
    private long _uncutUntil;                 // device thread: a Stopwatch timestamp
    private readonly Predicate<GenerationRequest> _dropIfCancelled;
    private readonly FeedPieceSizer _feedPieces = new(); // measured on the device thread
    private long _streamStepTicks = -1;                   // the streams' last step, all their batches (TimeSpan ticks); -1 before any

    private int _threads, _currentThreads;
    private StepThreadTuner _stepThreads = new([1]);
    private readonly Dictionary<int, Prometheus.Counter.Child> _stepsOnThreads = []; // WithLabels allocates per call: one child per count
    private readonly Dictionary<string, Prometheus.Counter.Child> _generatedForKey = new(StringComparer.Ordinal); // one per key name: the keys file bounds it

    public DeviceWorker(IOptions<ServerOptions> options, JobQueue jobs, ILogger<DeviceWorker> logger)
    {
        _options = options.Value;
        if (!(_options.TrainingSliceMilliseconds >= ServerOptions.MinTrainingSliceMilliseconds && _options.TrainingSliceMilliseconds <= ServerOptions.MaxTrainingSliceMilliseconds))
            throw new ArgumentOutOfRangeException(nameof(options), _options.TrainingSliceMilliseconds,
                $"The training slice must be from {ServerOptions.MinTrainingSliceMilliseconds} to {ServerOptions.MaxTrainingSliceMilliseconds} ms.");
        _share = new DeviceShare(_options.TrainingShare);
        _workWaiting = () => !_commands.IsEmpty || !_arrivals.IsEmpty || _pendingCount > 0; // device thread: _pendingCount is its own
        _yieldNow = () => Stopwatch.GetTimestamp() >= _uncutUntil && _workWaiting();
        _dropIfCancelled = DropIfCancelled;
        _jobs = jobs;
        _logger = logger;
        _jobs.WorkArrived += Wake;
    }

    public Device Device { get; private set; } = CPU;
    public string Description { get; private set; } = "starting";
    /// <summary>The loop's thread runs, started and not stopping (a long training step counts as alive: no tick is required).</summary>
    public bool IsAlive => _thread is { IsAlive: true } && _ready.Task.IsCompletedSuccessfully && !_stopping;
    public DateTimeOffset LastTick => new(Interlocked.Read(ref _lastTickTicks), TimeSpan.Zero);
    public double GenerationStepsPerSecond => _stepsPerSecond;
    public int ActiveGenerations => Volatile.Read(ref _activeCount);
    /// <summary>Commands queued and not yet begun (tests).</summary>
    internal int QueuedCommands => _commands.Count + _pendingCount;
    private volatile int _pendingCount;
    private int _activeCount;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Jobs queued or running when the server last stopped (even by kill -9); those of keys removed meanwhile stop before they start.
        _jobs.Recover();
        _thread = new Thread(Loop) { Name = "charrnn-device", IsBackground = true };
        _thread.Start();
        return _ready.Task; // start-up fails if the device cannot be initialised
    }

    /// <summary>
    /// The host begins to stop (SIGTERM): the running job checkpoints now, on the device thread, and no training follows. The
    /// loop itself stops only after the streams have ended (<see cref="StopAsync"/>), and a client that stopped reading holds
    /// its stream until the host's 30 s timeout: training on until then put the job's checkpoint 30 s after the signal, past
    /// what a `docker stop` (10 s) waits before its SIGKILL, which lost everything since the last checkpoint.
    /// </summary>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        try
        {
            _ = Run(() =>
            {
                _trainingStopped = true;
                _jobs.Shutdown("server shutting down");
            });
        }
        catch (ServerException) { } // the loop is stopping already: its own end checkpoints the job
        return Task.CompletedTask; // not awaited: the streams end meanwhile
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_commandGate) _stopping = true;
        Wake();
        // A training step in progress finishes, then the running job saves a checkpoint.
        if (_thread != null && !_thread.Join(TimeSpan.FromSeconds(60)))
            _logger.LogWarning("The device loop did not stop within 60 s");
        return Task.CompletedTask;
    }

    /// <summary>Runs <paramref name="work"/> on the device thread between ticks and returns its result.</summary>
    /// <remarks>
    /// Either the work runs and its result (or exception) is returned, or it never runs and the
    /// call is cancelled: a caller that gives up while its work waits stops waiting at once (not
    /// behind a long command such as a job's start), but work that has begun is seen through, so
    /// that what it made (a session, say) reaches the caller to be cleaned up. Once the loop is
    /// stopping, new work is refused with UNAVAILABLE: after its last drain nothing would run it.
    /// Work of one <paramref name="owner"/> (an API key's name) runs in the order it came; owners take turns.
    /// </remarks>
    public Task<T> Run<T>(Func<T> work, CancellationToken cancellation = default, string owner = ServerOwner)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        const int queued = 0, running = 1, cancelled = 2;
        var state = queued;
        var registration = cancellation.Register(() =>
        {
            if (Interlocked.CompareExchange(ref state, cancelled, queued) == queued) done.TrySetCanceled(cancellation);
        });
        lock (_commandGate)
        {
            if (_stopping)
            {
                registration.Dispose();
                throw ServerException.Unavailable(ServerLifetime.Reason);
            }
            _commands.Enqueue((owner, () =>
            {
                registration.Dispose();
                if (Interlocked.CompareExchange(ref state, running, queued) != queued) return; // given up before it began
                try { done.TrySetResult(work()); }
                catch (Exception e) { done.TrySetException(e); }
            }));
        }
        Wake();
        return done.Task;
    }

    public Task Run(Action work, CancellationToken cancellation = default, string owner = ServerOwner) => Run(() => { work(); return true; }, cancellation, owner);

    /// <summary>Adds a Generate call; the loop advances it from the next tick on.</summary>
    public void Start(GenerationRequest request)
    {
        lock (_commandGate)
        {
            if (_stopping) throw ServerException.Unavailable(ServerLifetime.Reason);
            _arrivals.Enqueue(request);
        }
        Wake();
    }

    /// <summary>
    /// Time commands may take in one tick while streams are open, the pause they add between a stream's chars:
    /// as long as the streams' last step took (all their batches), so commands and streams take turns at about
    /// equal times and a stream stays within a few times its quiet speed however much other keys feed; at most the training
    /// slice (--training-slice-ms), and the slice until a step has been measured. A long text's pieces are sized to
    /// it (<see cref="FeedPieceChars"/>): one key feeding from many sessions costs another key's stream about one
    /// step's time a char (at least one command still runs a tick), not a training slice's, nor a 256-char piece's.
    /// </summary>
    public TimeSpan StreamsOpenCommandBudget
    {
        get
        {
            var slice = TimeSpan.FromMilliseconds(_options.TrainingSliceMilliseconds);
            var step = Interlocked.Read(ref _streamStepTicks);
            return step < 0 ? slice : TimeSpan.FromTicks(Math.Min(slice.Ticks, step));
        }
    }

    /// <summary>Any thread: a Generate call is active or arriving (as of the last tick's step).</summary>
    private bool StreamsOpen => Volatile.Read(ref _activeCount) > 0 || !_arrivals.IsEmpty;

    /// <summary>
    /// The characters the next piece of a long text on <paramref name="model"/> feeds (1 to 256): exact on the device
    /// thread, where the piece is cut; any thread may ask, as a caller does to learn whether its text needs pieces at all.
    /// </summary>
    public int FeedPieceChars(object model) => _feedPieces.PieceChars(model, StreamsOpen ? StreamsOpenCommandBudget : null);

    /// <summary>Device thread: a piece of <paramref name="chars"/> characters on <paramref name="model"/> took <paramref name="took"/> (sizes the next).</summary>
    public void Fed(object model, int chars, TimeSpan took) => _feedPieces.Fed(model, chars, took);

    public void Wake()
    {
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    private void Loop()
    {
        try
        {
            _ = AsyncSignalMask.BlockOnThisThread(); // for the thread's life: this thread and its OpenMP workers run libtorch (see AsyncSignalMask)
            Device = TorchRuntime.Initialize(_options.Device, _options.Threads);
            Description = TorchRuntime.Describe(Device);
            if (GenerationPrecisions.WhyUnavailable(_options.GenerationPrecision, Device.type) is { } why)
                throw new ArgumentException($"--generation-precision {GenerationPrecisions.Name(_options.GenerationPrecision)} is not available on this device: {why}; use float32 (the default).");
            _threads = _currentThreads = get_num_threads();
            _stepThreads = StepThreadTuner.ForDevice(Device.type, _threads);
            MklProductThreads.Count = _threads; // generation steps multiply on every thread whatever count their elementwise work is tuned to
            // The full malloc setting, for operators, in place of the short one the description ends with.
            var shortMalloc = $" · malloc {MallocSettings.Summary}";
            _logger.LogInformation("Device loop running on {Device} · malloc {Malloc}", Description.EndsWith(shortMalloc, StringComparison.Ordinal) ? Description[..^shortMalloc.Length] : Description, MallocSettings.Status);
            if (_options.GenerationPrecision == GenerationPrecision.BFloat16)
                _logger.LogInformation("stateful-lstm models generate with bf16 products (--generation-precision bf16)");
            _ready.SetResult();
        }
        catch (Exception e)
        {
            // A refused --device or --threads is the user's input: its message says it all, no stack trace.
            if (e is ArgumentException) _logger.LogCritical("Cannot initialise device '{Device}': {Reason}", _options.Device, e.Message);
            else _logger.LogCritical(e, "Cannot initialise device '{Device}'", _options.Device);
            _ready.SetException(e);
            return;
        }

        while (!_stopping)
        {
            try { Tick(); }
            catch (Exception e)
            {
                // Whatever escapes one tick (a database error when a job ends, say) must not end the
                // process with every stream: the loop logs it and goes on.
                _logger.LogCritical(e, "The device loop's tick failed; it goes on");
                _wake.Wait(TimeSpan.FromMilliseconds(100));
            }
        }

        // Shutting down: end every stream, checkpoint the running job, release what is left.
        RunCommands(TimeSpan.MaxValue);
        foreach (var r in _active.Concat(_arrivals)) { r.Session.Generating = false; r.Fail(ServerException.Unavailable("The server is shutting down; reconnect and open a new session.")); }
        _active.Clear();
        _jobs.Shutdown("server shutting down");
        _logger.LogInformation("Device loop stopped");
    }

    private void Tick()
    {
        Interlocked.Exchange(ref _lastTickTicks, DateTimeOffset.UtcNow.UtcTicks);
        // Commands get a budget a tick even with no one streaming: run all at once, a backlog of feeds held training for its whole length.
        var commandsStarted = Stopwatch.GetTimestamp();
        bool busy = RunCommands(StreamsOpen ? StreamsOpenCommandBudget : CommandBudget);
        if (busy) _share.RanCommands(Stopwatch.GetElapsedTime(commandsStarted));
        bool generating = StepGenerations();
        bool training = false;
        if (!_trainingStopped && _share.TrainingMayRun(generating))
        {
            UseThreads(_threads);
            var started = Stopwatch.GetTimestamp();
            var streamsOpen = _active.Count > 0;
            // Work that arrives ends the slice at its next piece, once training has spent what commands earned it;
            // with streams open no slice is longer than --training-slice-ms (DeviceShare says why).
            var (slice, uncut) = _share.NextSlice(streamsOpen, TimeSpan.FromMilliseconds(_options.TrainingSliceMilliseconds));
            _uncutUntil = started + (long)(uncut.TotalSeconds * Stopwatch.Frequency);
            training = _jobs.RunSlice(slice, Device, Description, _yieldNow);
            var took = Stopwatch.GetElapsedTime(started);
            _share.Trained(took, streamsOpen);
            if (training && streamsOpen) ServerMetrics.TrainingSliceSeconds.Observe(took.TotalSeconds);
        }
        UpdateRate();
        if (!busy && !generating && !training)
            _wake.Wait(ActiveGenerations > 0 ? TimeSpan.FromMilliseconds(2) : TimeSpan.FromMilliseconds(500)); // waiting on slow readers, or idle
    }

    /// <summary>The thread counts generation steps choose from (set once the loop runs).</summary>
    public IReadOnlyList<int> GenerationThreadCandidates => _stepThreads.Candidates;

    private Prometheus.Counter.Child GeneratedFor(string owner)
    {
        if (!_generatedForKey.TryGetValue(owner, out var child))
            _generatedForKey[owner] = child = ServerMetrics.GeneratedCharacters.WithLabels(owner);
        return child;
    }

    private Prometheus.Counter.Child StepsOn(int threads)
    {
        if (!_stepsOnThreads.TryGetValue(threads, out var child))
            _stepsOnThreads[threads] = child = ServerMetrics.GenerationSteps.WithLabels(threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return child;
    }

    /// <summary>
    /// libtorch's thread count for the next Torch work: training and commands use them all;
    /// generation steps use what <see cref="_stepThreads"/> measured fastest for their model and
    /// batch (small steps run faster on fewer threads, which also leaves cores to the streams'
    /// gRPC work).
    /// </summary>
    private void UseThreads(int threads)
    {
        if (threads == _currentThreads) return;
        set_num_threads(threads);
        _currentThreads = threads;
    }

    /// <summary>
    /// Runs queued commands, one owner's then the next's in turn, for up to <paramref name="budget"/>
    /// (at least one). Only what was queued when the pass began: clients that keep queueing must not
    /// starve the streams. What the budget leaves waits for the next tick, ahead of later arrivals.
    /// </summary>
    private bool RunCommands(TimeSpan budget)
    {
        for (var count = _commands.Count; count > 0 && _commands.TryDequeue(out var queued); count--)
        {
            if (!_pending.TryGetValue(queued.Owner, out var own))
            {
                _pending[queued.Owner] = own = new Queue<Action>();
                _turns.Add(queued.Owner);
            }
            own.Enqueue(queued.Command);
            _pendingCount++;
        }
        if (_turns.Count == 0) return false;
        UseThreads(_threads);
        var started = Stopwatch.GetTimestamp();
        do
        {
            var owner = _turns[0];
            _turns.RemoveAt(0);
            var own = _pending[owner];
            var command = own.Dequeue();
            _pendingCount--;
            if (own.Count > 0) _turns.Add(owner); // to the back: the other owners go first
            else _pending.Remove(owner);
            command();
        } while (_turns.Count > 0 && Stopwatch.GetElapsedTime(started) < budget);
        return true;
    }

    /// <summary>One char for every active Generate call; sessions of one model share a batched step.</summary>
    private bool StepGenerations()
    {
        while (_arrivals.TryDequeue(out var arrived)) _active.Add(arrived);
        if (_active.Count == 0) { Volatile.Write(ref _activeCount, 0); return false; }

        _active.RemoveAll(_dropIfCancelled);
        Volatile.Write(ref _activeCount, _active.Count);

        bool stepped = false;
        long stepTicks = 0;
        var ready = _active.Where(r => r.CanAccept).ToList();
        foreach (var group in ready.GroupBy(r => r.Session.Generation.Model, ReferenceEqualityComparer.Instance))
        {
            var model = group.Key!;
            foreach (var chunk in group.Chunk(_options.Limits.MaxBatchSessions))
            {
                var alternatives = chunk.Max(r => r.Alternatives);
                IReadOnlyList<GeneratedChar> chars;
                UseThreads(_stepThreads.Choose(model, chunk.Length));
                var started = Stopwatch.GetTimestamp();
                try
                {
                    chars = GenerationStep.Advance(chunk.Select(r => r.Session.Generation).ToList(), alternatives);
                    var elapsed = Stopwatch.GetElapsedTime(started);
                    stepTicks += elapsed.Ticks;
                    if (_stepThreads.Record(model, chunk.Length, _currentThreads, elapsed) is { } chosen)
                        _logger.LogDebug("Generation steps of {Sessions} session(s) of {Model} now run on {Threads} thread(s)",
                            chunk.Length, chunk[0].Session.Generation.Model.GetName(), chosen);
                    _share.Generated(elapsed);
                    ServerMetrics.GenerationStepSeconds.Observe(elapsed.TotalSeconds);
                    ServerMetrics.GenerationBatchSize.Observe(chunk.Length);
                    StepsOn(_currentThreads).Inc();
                    foreach (var r in chunk) GeneratedFor(r.Session.Owner).Inc();
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "Generation step failed for {Count} session(s)", chunk.Length);
                    foreach (var r in chunk) Finish(r, e);
                    continue;
                }
                Interlocked.Increment(ref _generationSteps);
                stepped = true;
                for (int i = 0; i < chunk.Length; i++)
                {
                    var r = chunk[i];
                    var c = chars[i];
                    if (r.Alternatives < alternatives && c.Alternatives != null)
                        c = c.WithAlternatives(c.Alternatives.Take(r.Alternatives).ToList());
                    var seen = r.Session.Generation.CharactersSeen;
                    r.Session.CharactersSeen = seen; // GetSession mid-stream says where the session is
                    if (r.Deliver(c, seen)) Finish(r, null);
                }
            }
        }
        if (stepped) Interlocked.Exchange(ref _streamStepTicks, stepTicks); // a tick that waited on its readers keeps the last
        return stepped;
    }

    private bool DropIfCancelled(GenerationRequest r)
    {
        if (!r.Cancellation.IsCancellationRequested) return false;
        r.Session.Generating = false; // a cancelled call frees its session at once
        try
        {
            r.Session.Generation.LeaveBatch();
            r.Session.Snapshot();
        }
        catch (Exception e)
        {
            // As in Finish (out of device memory): a throw here, inside RemoveAll, would leave the list half compacted.
            _logger.LogError(e, "Could not take a cancelled call's session state out of its batch");
        }
        r.Fail(new OperationCanceledException(r.Cancellation));
        return true;
    }

    /// <summary>
    /// Device thread: drops a session's cancelled Generate call now, not at the next step, so that a
    /// call made right after the cancel finds the session free (commands run before steps).
    /// </summary>
    public void DropCancelled(Sessions.ServerSession session)
    {
        while (_arrivals.TryDequeue(out var arrived)) _active.Add(arrived);
        _active.RemoveAll(r => r.Session == session && DropIfCancelled(r));
    }

    /// <summary>Ends the Generate call of a session that is being closed (device thread).</summary>
    public void Abort(Sessions.ServerSession session, Exception reason)
    {
        while (_arrivals.TryDequeue(out var arrived)) _active.Add(arrived); // a call claimed in this same pass of commands
        foreach (var r in _active.Where(r => r.Session == session).ToList()) Finish(r, reason);
    }

    private void Finish(GenerationRequest request, Exception? error)
    {
        _active.Remove(request);
        request.Session.Generating = false;
        try
        {
            request.Session.Generation.LeaveBatch(); // an idle session must not keep the batch it stepped in alive
            request.Session.Snapshot();
        }
        catch (Exception e)
        {
            // Copying the row out can fail where the step did (out of device memory): the call still
            // ends, with that error, and the rest of its batch is still served.
            _logger.LogError(e, "Could not take a session's state out of its batch");
            error ??= e;
        }
        finally
        {
            if (error != null) request.Fail(error);
        }
    }

    private void UpdateRate()
    {
        if (_rateClock.Elapsed < TimeSpan.FromSeconds(2)) return;
        _stepsPerSecond = Interlocked.Exchange(ref _generationSteps, 0) / _rateClock.Elapsed.TotalSeconds;
        _rateClock.Restart();
    }

}
