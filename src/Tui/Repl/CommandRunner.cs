using System.Globalization;
using CharRnn.Protos.V1;
using CharRnn.Tui.Cli;
using CharRnn.Tui.Client;
using Grpc.Core;

namespace CharRnn.Tui.Repl;

/// <summary>Where the REPL's results go: the TUI's panes, or stdout for `charrnn --exec`.</summary>
public interface IReplOutput
{
    void Line(string text);
    void Error(string text);
    /// <summary>A stream of generated text begins in a pane (0: main, 1: the comparison).</summary>
    void GenerationStarted(int pane, string label, string prime, int count);
    void Generated(int pane, string text, float probability);
    void GenerationEnded(int pane);
    void JobAttached(Job job);
    void JobEvent(JobEvent e);
    /// <summary>The REPL stopped watching the job (it keeps training).</summary>
    void JobDetached();
    void SessionChanged(Session? session);
    void QuitRequested();
}

/// <summary>
/// Executes REPL commands against the server through <see cref="CharRnnClient"/>, keeping the
/// REPL's state: the session in use, its sampling settings, and the job being watched.
/// Interactive use returns as soon as a training job is watched (events keep flowing to the
/// output); scripted use (--exec) waits for it to end.
/// </summary>
public sealed class CommandRunner(CharRnnClient client, IReplOutput output, bool interactive) : IAsyncDisposable
{
    private readonly Stack<Session> _forks = new();
    private SamplingSettings _sampling = new() { Temperature = 0.8 };
    private CancellationTokenSource? _watch;
    private Task _watching = Task.CompletedTask;
    private ListArchitecturesResponse? _architectures;
    private Limits? _limits;
    private bool _seedChosen; // the user asked for a seed (seed=): new sessions keep it
    private readonly CancellationTokenSource _lifetime = new();
    private Task _lineInFlight = Task.CompletedTask;
    // Cancelled (and replaced) by Esc and by each newly typed line: it stops the generations of the
    // lines typed before, streaming or not yet started, and the rest of their commands.
    private CancellationTokenSource _stopRequests = new();
    private CancellationToken _lineStop; // the running typed line's view of _stopRequests
    // Cancelled (and replaced) by Esc only: it also ends a command waiting on the server (a `use` behind a slow
    // load, any call to a server that stopped answering), which a newly typed line must not do to the lines before it.
    private CancellationTokenSource _interrupts = new();

    public Session? Session { get; private set; }
    public string? WatchedJob { get; private set; }
    public SamplingSettings Sampling => _sampling;

    /// <summary>
    /// Typed input (TUI): lines run one at a time, in the order typed. A new line first stops a
    /// generation that is still streaming, as Esc does, so `use OTHER` never races a `gen` on the
    /// session it closes.
    /// </summary>
    public Task SubmitAsync(string line)
    {
        StopGeneration();
        var previous = _lineInFlight;
        _lineInFlight = RunAfter(previous, line, _stopRequests.Token, _interrupts.Token);
        return _lineInFlight;
    }

    private async Task RunAfter(Task previous, string line, CancellationToken stop, CancellationToken interrupt)
    {
        await previous; // RunLineAsync reports its errors; it does not throw
        if (_lifetime.IsCancellationRequested) return;
        if (interrupt.IsCancellationRequested) { output.Line($"stopped before it began: {line}"); return; }
        _lineStop = stop;
        using var lineCancellation = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token, interrupt);
        try
        {
            await RunLineAsync(line, lineCancellation.Token);
            if (interrupt.IsCancellationRequested && !_lifetime.IsCancellationRequested) output.Line("stopped");
        }
        finally { _lineStop = CancellationToken.None; }
    }

    /// <summary>Esc: stops the generation, and any command of the typed lines waiting on the server, and the rest of those lines.</summary>
    public void Interrupt()
    {
        StopGeneration();
        Interlocked.Exchange(ref _interrupts, new CancellationTokenSource()).Cancel();
    }

    /// <summary>
    /// Stops the streaming gen or compare (Esc), or one a line typed earlier has yet to start, and the
    /// rest of that line; it ends with "stopped", not an error.
    /// </summary>
    public void StopGeneration() => Interlocked.Exchange(ref _stopRequests, new CancellationTokenSource()).Cancel();

    /// <summary>Runs every command of a line (separated by ';') in order; errors are reported, not thrown.</summary>
    public async Task RunLineAsync(string line, CancellationToken cancellation = default)
    {
        IReadOnlyList<Command> commands;
        try { commands = CommandParser.ParseMany(line); }
        catch (CommandException e) { output.Error(e.Message); return; }
        foreach (var command in commands)
            if (!await RunAsync(command, cancellation)) break;
    }

    /// <summary>False when the command failed (the rest of the line is skipped).</summary>
    public async Task<bool> RunAsync(Command command, CancellationToken cancellation = default)
    {
        try
        {
            CheckKeys(command);
            await ExecuteAsync(command, cancellation);
            return true;
        }
        // Once cancelled (quitting, Ctrl+C, Esc), how a call ends is cancellation's doing: usually CANCELLED, but one
        // that races a stream's reads can surface as another status, as Stoppable knows.
        catch (Exception e) when (cancellation.IsCancellationRequested && e is OperationCanceledException or RpcException or IOException)
        {
            return false; // charrnn is closing, or Ctrl+C interrupted --exec
        }
        catch (LineStopped)
        {
            return false;
        }
        catch (Exception e) when (e is CommandException or RpcException or ArgumentException)
        {
            // "Reconnects" only for a link that failed here (a debug exception): an UNAVAILABLE the server sent (its keys file broken) says its own remedy.
            output.Error(e is RpcException ? ErrorText.Describe(e) + (e is RpcException { StatusCode: StatusCode.Unavailable, Status.DebugException: not null } && interactive
                ? "; the next command reconnects once the server is back" : "") : e.Message);
            return false;
        }
        catch (Exception e)
        {
            output.Error($"{command.Verb} failed unexpectedly: {e.GetType().Name}: {e.Message}");
            return false;
        }
    }

    private Task ExecuteAsync(Command c, CancellationToken ct) => c.Verb switch
    {
        "help" or "?" => Help(c),
        "archs" => Architectures(ct),
        "arch" => Architecture(c, ct),
        "models" => Models(ct),
        "corpora" => Corpora(ct),
        "train" => Train(c, ct),
        "resume" => Resume(c, ct),
        "jobs" => Jobs(ct),
        "attach" => Attach(c, ct),
        "detach" => Detach(),
        "stop" => Stop(c, ct),
        "use" => Use(c, ct),
        "gen" or "generate" => Generate(c, ct),
        "feed" => Feed(c, ct),
        "fork" => Fork(ct),
        "back" => Back(ct),
        "reset" => Reset(ct),
        "set" => Set(c, ct),
        "compare" => Compare(c, ct),
        "delete" => Delete(c, ct),
        "share" => Share(c, ct),
        "status" => Status(ct),
        "quit" or "exit" => Quit(),
        _ => throw UnknownCommand(c.Verb),
    };

    private static CommandException UnknownCommand(string verb) =>
        new($"Unknown command '{verb}'. Commands: {string.Join(", ", CommandCatalog.All.Select(s => s.Verb))}. Try: help");

    /// <summary>
    /// What can be checked without a server: a known command with the options it takes. --exec
    /// checks every command so before it starts one: a typo at the end of a line must not wait out
    /// the hours of a `train` before it.
    /// </summary>
    public static void Check(Command c)
    {
        if (CommandCatalog.Find(c.Verb) == null) throw UnknownCommand(c.Verb);
        CheckKeys(c);
        if (GenerationCount(c) is { } words) CountAndPrime(c, words.First); // "gen 1,000" is refused before the train ahead of it
    }

    /// <summary>For gen and compare: where their [N] ["PRIME"] words start (compare's may follow a model's name).</summary>
    private static (int First, bool Named)? GenerationCount(Command c) => CommandCatalog.Find(c.Verb)?.Verb switch
    {
        "gen" => (0, false),
        "compare" when c.Positional.Count > 0 && !c.IsQuoted(0) && !c.Positional[0].All(char.IsAsciiDigit) => (1, true),
        "compare" => (0, false),
        _ => null,
    };

    // ---- catalogue -----------------------------------------------------------------------

    private Task Help(Command c)
    {
        if (c.Arg(0) is { } verb)
        {
            var spec = CommandCatalog.Find(verb.ToLowerInvariant()) ?? throw new CommandException($"No command '{verb}'. Try: help");
            output.Line($"{spec.Usage}\n  {spec.Summary}");
            return Task.CompletedTask;
        }
        foreach (var spec in CommandCatalog.All) output.Line($"{spec.Verb,-9} {spec.Summary}");
        output.Line("Commands run one after another when separated by ';'. Text with spaces goes in quotes. Tab completes.");
        return Task.CompletedTask;
    }

    private async Task<ListArchitecturesResponse> ArchitectureList(CancellationToken ct) =>
        _architectures ??= await client.Catalog.ListArchitecturesAsync(new ListArchitecturesRequest(), cancellationToken: ct);

    private async Task Architectures(CancellationToken ct)
    {
        foreach (var a in (await ArchitectureList(ct)).Architectures)
            output.Line($"{a.Name,-18} {a.Summary}");
    }

    private async Task Architecture(Command c, CancellationToken ct)
    {
        var name = c.Arg(0) ?? throw new CommandException("Usage: arch NAME (archs lists them).");
        var list = await ArchitectureList(ct);
        var a = list.Architectures.FirstOrDefault(x => x.Name == name)
            ?? throw new CommandException($"No architecture '{name}'. Known: {string.Join(", ", list.Architectures.Select(x => x.Name))}.");
        output.Line($"{a.Name}: {a.Summary}");
        foreach (var p in a.Hyperparameters.Concat(list.TrainingOptions))
            output.Line($"  {p.Name,-14} default {SpecText.Format(p, p.DefaultValue),-8} {SpecText.Range(p),-22} {p.Doc}");
        output.Line($"  {"lr",-14} default {a.DefaultLearningRate.ToString("G3", CultureInfo.InvariantCulture)}; schedule: {list.ScheduleHelp}");
    }

    private async Task Models(CancellationToken ct)
    {
        var models = (await client.Catalog.ListModelsAsync(new ListModelsRequest(), cancellationToken: ct)).Models;
        if (models.Count == 0) { output.Line("No models yet. Train one: train stateful-lstm epochs=1 lower=true"); return; }
        // On a server with keys, whose each model is and whether it is shared (share MODEL).
        var owners = models.Any(m => m.Owner.Length > 0);
        output.Line($"{"NAME",-22} {"ARCH",-18} {"PARAMS",10} {"EPOCHS",6} {"VAL LOSS",9} {"CORPUS",-10}{(owners ? " OWNER" : "")}");
        foreach (var m in models)
        {
            if (m.Error.Length > 0) { output.Line($"{m.Name,-22} unreadable: {m.Error}"); continue; }
            var loss = ModelLoss.Of(m)?.ToString("F4", CultureInfo.InvariantCulture) ?? "-";
            var owner = owners ? $" {(m.Owner.Length > 0 ? m.Owner : "-")}{(m.Shared ? " (shared)" : "")}" : "";
            output.Line($"{m.Name,-22} {m.Architecture,-18} {m.ParameterCount,10:N0} {m.EpochsTrained,6} {loss,9} {m.CorpusName,-10}{owner}{(m.Training ? " (training)" : "")}");
        }
    }

    private async Task Corpora(CancellationToken ct)
    {
        foreach (var corpus in (await client.Catalog.ListCorporaAsync(new ListCorporaRequest(), cancellationToken: ct)).Corpora)
            output.Line($"{corpus.Name,-14} {(corpus.Characters > 0 ? $"{corpus.Characters,12:N0} chars  " : corpus.Available || corpus.Sha256 == "" ? "" : "(downloaded on first use) ")}{corpus.Description}");
    }

    private async Task Status(CancellationToken ct)
    {
        var info = await client.Catalog.GetServerInfoAsync(new GetServerInfoRequest(), cancellationToken: ct);
        output.Line($"server {client.Address} · {info.Device} · {info.ActiveSessions} session(s) · {info.RunningJobs} running, {info.QueuedJobs} queued job(s)");
        if (info.Limits is { } l) // what a key may hold here: the quotas a refusal names
            output.Line($"limits per key: {l.MaxSessionsPerKey:N0} sessions · {l.MaxJobsPerKey:N0} running or queued jobs · {l.MaxModelsPerKey:N0} models · " +
                        $"{l.MaxCharsPerMinutePerKey:N0} generated chars a minute; a job may need up to {Engine.Training.TrainingFootprint.Format(l.MaxJobMemoryBytes)} of memory");
        if (Session != null) output.Line($"session {Session.Id} on {Session.ModelName} · {Describe(_sampling)}");
        if (WatchedJob != null) output.Line($"watching job {WatchedJob}");
    }

    // ---- training --------------------------------------------------------------------------

    private async Task Train(Command c, CancellationToken ct)
    {
        var request = await TrainRequest(c, ct);
        var job = await client.Training.StartJobAsync(request, cancellationToken: ct);
        output.Line($"job {job.Id} queued: {request.Architecture} → model {job.ModelName}{(job.QueuePosition > 1 ? $" (queue position {job.QueuePosition})" : "")}");
        await WatchStartedJobAsync(job, ct);
    }

    /// <summary>
    /// Headless, the line waits on the job it started: interrupted, it stops the job (which saves a
    /// checkpoint), as charrnn train's Ctrl+C does, instead of leaving it to train on unwatched (or,
    /// on the embedded server, to resume at the next start). Interactive, a job outlives its watch.
    /// </summary>
    private async Task WatchStartedJobAsync(Job job, CancellationToken ct)
    {
        await WatchAsync(job, 0, ct);
        if (interactive || !ct.IsCancellationRequested) return;
        try
        {
            await client.Training.StopJobAsync(new StopJobRequest { JobId = job.Id }, cancellationToken: CancellationToken.None);
            output.Line($"job {job.Id} stopped; it saves a checkpoint, and resume {job.ModelName} continues it");
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.FailedPrecondition) // that one: it had ended already
        {
            output.Error($"job {job.Id} could not be stopped ({ErrorText.Describe(e)}); it trains on: stop {job.Id} stops it");
        }
    }

    /// <summary>A train command's request, every key and value checked against the server's specs.</summary>
    private async Task<StartJobRequest> TrainRequest(Command c, CancellationToken ct)
    {
        var arch = c.Arg(0) ?? throw new CommandException("Usage: " + CommandCatalog.Find("train")!.Usage);
        var list = await ArchitectureList(ct);
        var spec = list.Architectures.FirstOrDefault(a => a.Name == arch)
            ?? throw new CommandException($"No architecture '{arch}'. Known: {string.Join(", ", list.Architectures.Select(a => a.Name))}.");
        var request = new StartJobRequest
        {
            ModelName = c.Option("name") ?? $"{arch}-{DateTime.Now:MMdd-HHmmss}",
            Architecture = arch,
            CorpusName = c.Option("corpus") ?? "nietzsche",
            Options = new TrainingOptions(),
        };
        CheckRanges(c, spec.Hyperparameters.Concat(list.TrainingOptions)); // first: an out-of-range number gets the spec's range, not a parser's
        foreach (var (key, value) in c.Options)
        {
            if (key.ToLowerInvariant() is "name" or "corpus") continue;
            if (spec.Hyperparameters.FirstOrDefault(h => string.Equals(h.Name, key, StringComparison.OrdinalIgnoreCase)) is { } hyper)
                request.Hyperparameters[hyper.Name] = hyper.Type == HyperParameterSpec.Types.Type.Bool ? Bool(key, value) : Number(key, value, SpecText.Range(hyper));
            else ApplyTrainingOption(request.Options, key, value, spec);
        }
        if (c.Positional.Count > 1) throw new CommandException($"Unexpected '{c.Positional[1]}': options are key=value, e.g. epochs=2.");
        return request;
    }

    private async Task Resume(Command c, CancellationToken ct)
    {
        var request = await ResumeRequest(c, ct);
        var job = await client.Training.StartJobAsync(request, cancellationToken: ct);
        output.Line($"job {job.Id} queued: resuming {request.ModelName}");
        await WatchStartedJobAsync(job, ct);
    }

    private async Task<StartJobRequest> ResumeRequest(Command c, CancellationToken ct)
    {
        var model = c.Arg(0) ?? throw new CommandException("Usage: " + CommandCatalog.Find("resume")!.Usage);
        var request = new StartJobRequest { ModelName = model, Resume = true, Options = new TrainingOptions() };
        CheckRanges(c, (await ArchitectureList(ct)).TrainingOptions);
        foreach (var (key, value) in c.Options) ApplyTrainingOption(request.Options, key, value, null);
        return request;
    }

    /// <summary>
    /// What --exec can check once connected, before it runs anything: a train's or a resume's keys and
    /// values against the server's specs, their corpus and model names against its lists (as the
    /// line's own trains and deletes leave them), and sampling values against its limits. A typo
    /// after a long `train` must not wait out its hours.
    /// </summary>
    /// <returns>False when a command would be refused (the error is reported); a server that cannot be asked leaves it to the run.</returns>
    public async Task<bool> CheckWithServerAsync(IEnumerable<Command> commands, CancellationToken ct)
    {
        try
        {
            HashSet<string>? models = null, corpora = null;
            async Task<HashSet<string>> Models() => models ??= (await client.Catalog.ListModelsAsync(new ListModelsRequest(), cancellationToken: ct)).Models
                .Select(m => m.Name).ToHashSet(StringComparer.OrdinalIgnoreCase); // names may not differ only in case
            foreach (var c in commands)
            {
                if (c.Verb == "train")
                {
                    var request = await TrainRequest(c, ct);
                    corpora ??= (await client.Catalog.ListCorporaAsync(new ListCorporaRequest(), cancellationToken: ct)).Corpora.Select(k => k.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
                    if (!corpora.Contains(request.CorpusName))
                        throw new CommandException($"No corpus '{request.CorpusName}' on this server; corpora lists the ones there are.");
                    if ((await Models()).TryGetValue(request.ModelName, out var taken))
                        throw new CommandException(taken == request.ModelName
                            ? $"A model named '{taken}' exists; choose another name=, or resume {taken} to continue it."
                            : $"A model named '{taken}' exists, and names may not differ only in case; choose another name=.");
                    models!.Add(request.ModelName);
                }
                else if (c.Verb == "resume")
                {
                    var request = await ResumeRequest(c, ct);
                    if (!(await Models()).Contains(request.ModelName))
                        throw new CommandException($"No model '{request.ModelName}' on this server; models lists them.");
                }
                else if (c.Verb == "delete" && c.Arg(0) is { } deleted) (await Models()).Remove(deleted);
                else if (GenerationCount(c) is { } words && CountAndPrime(c, words.First) is var (count, prime)) await CheckWithinServerLimits(count, prime, ct);
                if (HasSampling(c)) await SamplingFrom(c, new SamplingSettings(), ct);
            }
            return true;
        }
        catch (Exception e) when (e is CommandException or ArgumentException)
        {
            output.Error(e.Message);
            return false;
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            return true; // the first command that needs the server says what is wrong with it
        }
    }

    /// <summary>
    /// Checks values against the server's ranges here, so that the error names the key as typed
    /// (the server's names the proto field: lr=20 would come back as options.learning_rate).
    /// </summary>
    private static void CheckRanges(Command c, IEnumerable<HyperParameterSpec> specs)
    {
        var byName = specs.Where(s => s.Type != HyperParameterSpec.Types.Type.Bool).GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First());
        foreach (var (key, value) in c.Options)
        {
            if (!byName.TryGetValue(CommandCatalog.TrainingAliases.GetValueOrDefault(key, key).ToLowerInvariant(), out var spec)) continue;
            foreach (var part in value.Split(','))
                if (double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && (v < spec.Min || v > spec.Max))
                    throw new CommandException($"{key}={part} is not allowed; use {SpecText.Range(spec)}.");
        }
    }

    private static void ApplyTrainingOption(TrainingOptions o, string key, string value, Architecture? spec)
    {
        switch (CommandCatalog.TrainingAliases.GetValueOrDefault(key, key).ToLowerInvariant()) // keys are case-insensitive, as CheckKeys takes them
        {
            case "epochs": o.Epochs = IntegerIn(key, value, 1, int.MaxValue); break;
            case "max_steps": o.MaxSteps = Integer(key, value); break;
            case "time_budget":
                try { o.TimeBudgetSeconds = Durations.Parse(value).TotalSeconds; }
                catch (ArgumentException e) { throw new CommandException($"{key}: {e.Message}"); }
                break;
            case "lr": o.LearningRate.AddRange(value.Split(',').Select(v => Number(key, v))); break;
            case "wd": o.WeightDecay.AddRange(value.Split(',').Select(v => Number(key, v))); break;
            case "schedule": o.Schedule = value; break;
            case "clip": o.Clip = Number(key, value); break;
            case "lower": o.Lowercase = Bool(key, value) != 0; break;
            case "keep_cycles": o.KeepCycleCheckpoints = Bool(key, value) != 0; break;
            case "seed": o.Seed = IntegerIn(key, value, 0, int.MaxValue); break;
            case "sample_chars": o.SampleChars = IntegerIn(key, value, 0, int.MaxValue); break;
            case "optimizer": o.Optimizer = value; break;
            case "min_freq": o.MinFreq = IntegerIn(key, value, 1, int.MaxValue); break;
            case "val_fraction": o.ValidFraction = Number(key, value); break;
            default:
                var hyper = spec == null ? "" : $"; {spec.Name} takes {string.Join(", ", spec.Hyperparameters.Select(h => h.Name))}";
                throw new CommandException($"'{key}' is not an option here{hyper}; training options: {string.Join(", ", CommandCatalog.TrainingKeys)}.");
        }
    }

    private async Task Jobs(CancellationToken ct)
    {
        var jobs = (await client.Training.ListJobsAsync(new ListJobsRequest(), cancellationToken: ct)).Jobs;
        if (jobs.Count == 0) { output.Line("No jobs."); return; }
        foreach (var j in jobs)
        {
            var progress = j.TotalSteps > 0 ? $"step {j.Step}/{j.TotalSteps}" : $"step {j.Step}";
            var loss = j.HasBestValidLoss ? $" val {j.BestValidLoss:F4}" : "";
            output.Line($"{j.Id,-16} {j.State.ToString().ToLowerInvariant(),-9} {j.ModelName,-22} {j.Architecture,-16} {progress}{loss} {j.Reason}");
        }
    }

    private async Task Attach(Command c, CancellationToken ct)
    {
        var target = c.Arg(0) ?? WatchedJob ?? throw new CommandException("Usage: attach JOB|MODEL [from=STEP] (jobs lists them).");
        var from = c.Option("from") is { } f ? Integer("from", f) : 0;
        var jobs = (await client.Training.ListJobsAsync(new ListJobsRequest(), cancellationToken: ct)).Jobs;
        var job = jobs.FirstOrDefault(j => j.Id == target) ?? jobs.FirstOrDefault(j => j.ModelName == target && j.State is Job.Types.State.Running or Job.Types.State.Queued)
            ?? jobs.FirstOrDefault(j => j.ModelName == target)
            ?? throw new CommandException($"No job '{target}' (by id or model name). jobs lists them.");
        await WatchAsync(job, from, ct);
    }

    private async Task Detach()
    {
        var job = WatchedJob;
        if (_watch == null || job == null) { output.Line("Not watching a job."); return; }
        WatchedJob = null;
        await StopWatching();
        output.JobDetached();
        output.Line($"Detached from job {job}; it keeps training (attach {job} to watch again).");
    }

    private async Task Stop(Command c, CancellationToken ct)
    {
        var arg = c.Arg(0) ?? WatchedJob ?? throw new CommandException("No job is being watched to stop: name one, stop JOB|MODEL (jobs lists them).");
        // A job id, else a model's running or queued job (a model may be named like a job id).
        var jobs = (await client.Training.ListJobsAsync(new ListJobsRequest(), cancellationToken: ct)).Jobs;
        var known = jobs.FirstOrDefault(j => j.Id == arg)
                    ?? jobs.FirstOrDefault(j => j.ModelName == arg && j.State is Job.Types.State.Running or Job.Types.State.Queued);
        if (known == null && !arg.StartsWith("j-", StringComparison.Ordinal))
            throw new CommandException($"No running or queued job for '{arg}'.");
        if (known is { State: Job.Types.State.Stopped or Job.Types.State.Finished or Job.Types.State.Failed })
        {
            output.Line($"job {known.Id} had already ended ({known.State.ToString().ToLowerInvariant()}): nothing to stop");
            return;
        }
        var id = known?.Id ?? arg; // an id the list no longer holds: the server says what it knows of it
        var job = await client.Training.StopJobAsync(new StopJobRequest { JobId = id }, cancellationToken: ct);
        output.Line(job.State switch
        {
            Job.Types.State.Stopped => $"job {id} stopped",
            Job.Types.State.Finished or Job.Types.State.Failed => $"job {id} had already ended ({job.State.ToString().ToLowerInvariant()}): nothing to stop",
            _ => $"job {id} is stopping: it saves a checkpoint first",
        });
    }

    private static readonly TimeSpan WatchRetryDelay = TimeSpan.FromSeconds(1);
    /// <summary>How long a watch waits for a server that went away (a restart takes seconds) before it gives up.</summary>
    private static readonly TimeSpan WatchReconnectFor = TimeSpan.FromMinutes(2);

    /// <summary>Follows a job's events into the output: in the background (TUI), or to its end (--exec).</summary>
    private async Task WatchAsync(Job job, long fromStep, CancellationToken ct)
    {
        var failed = false;
        await StopWatching();
        // Interactive, the watch outlives its line (detach ends it, not Esc); headless, the line waits on it.
        var watch = CancellationTokenSource.CreateLinkedTokenSource(interactive ? _lifetime.Token : ct);
        _watch = watch;
        WatchedJob = job.Id;
        output.JobAttached(job);
        _watching = Task.Run(async () =>
        {
            // A server restart ends the stream with UNAVAILABLE; the job resumes there, so the watch
            // reconnects and asks for what came after the last event it got (by sequence: a resumed
            // run repeats steps).
            long seen = -1;
            DateTime? lostSince = null;
            try
            {
                while (true)
                {
                    try
                    {
                        var request = new WatchJobRequest { JobId = job.Id, FromStep = fromStep };
                        if (seen >= 0) request.AfterSequence = seen;
                        using var call = client.Training.WatchJob(request, cancellationToken: watch.Token);
                        // Back once the server answers, events or not (a queued job sends none for long): a later outage gets its own window.
                        await call.ResponseHeadersAsync;
                        if (lostSince != null) { output.Line($"watching job {job.Id} again"); lostSince = null; }
                        await foreach (var e in call.ResponseStream.ReadAllAsync(watch.Token))
                        {
                            if (e.Sequence <= seen) continue;
                            seen = e.Sequence;
                            output.JobEvent(e);
                            if (e.EventCase == JobEvent.EventOneofCase.Failed) failed = true;
                        }
                        return;
                    }
                    // CANCELLED that this client did not ask for is a stream a proxy or the server reset: as lost as UNAVAILABLE.
                    catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Cancelled && !watch.IsCancellationRequested
                                                 && (lostSince == null || DateTime.UtcNow - lostSince < WatchReconnectFor))
                    {
                        if (lostSince == null) output.Line($"watching job {job.Id}: {ErrorText.Describe(e)}; reconnecting");
                        lostSince ??= DateTime.UtcNow;
                        await Task.Delay(WatchRetryDelay, watch.Token);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException || (e is RpcException { StatusCode: StatusCode.Cancelled } && watch.IsCancellationRequested))
            {
            }
            catch (RpcException e)
            {
                output.Error($"watching job {job.Id}: {ErrorText.Describe(e)}");
                failed = true;
            }
            finally
            {
                if (WatchedJob == job.Id && _watch == watch) WatchedJob = null;
            }
        }, CancellationToken.None);
        if (!interactive)
        {
            await _watching;
            // Headless, what comes after a job in the line counted on it: a failed one stops the line (its error is out already).
            if (failed) throw new LineStopped();
        }
    }

    /// <summary>Ends the watch (if any) and frees its token source, which stays linked to the caller's token until disposed.</summary>
    private async Task StopWatching()
    {
        var watch = _watch;
        if (watch == null) return;
        _watch = null;
        await watch.CancelAsync();
        try { await _watching; } catch (OperationCanceledException) { }
        watch.Dispose();
    }

    // ---- generation ------------------------------------------------------------------------

    private async Task Use(Command c, CancellationToken ct)
    {
        var model = c.Arg(0) ?? throw new CommandException("Which model? use MODEL [t=0.8] [k=N] [p=X] [seed=N] (models lists them).");
        // The settings carry over, but not a seed the server drew: each new session gets fresh text unless seed= was asked for.
        var start = _sampling.Clone();
        if (!_seedChosen) start.ClearSeed();
        // Opened before the old sessions close: a typo in the name or a refused setting leaves the session in use as it was.
        var opened = await client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = model, Sampling = await SamplingFrom(c, start, ct) }, cancellationToken: ct);
        NoteSeed(c);
        await CloseAll(CancellationToken.None);
        Session = opened;
        _sampling = Session.Sampling.Clone();
        output.SessionChanged(Session);
        output.Line($"using {model} ({Session.Architecture}) · {Describe(_sampling)}");
    }

    private async Task Generate(Command c, CancellationToken ct)
    {
        if (Session == null) throw new CommandException("No model in use: use MODEL first (models lists them).");
        var (count, prime) = CountAndPrime(c, 0);
        await CheckWithinServerLimits(count, prime, ct);
        if (HasSampling(c)) await Configure(SeedOnlyIfGiven(c, await SamplingFrom(c, _sampling, ct)), ct);
        NoteSeed(c);
        var session = Session; // after Configure, which reopens a lost session
        var request = new GenerateRequest { SessionId = session.Id, MaxChars = count, Prime = prime, Stop = c.Option("stop") ?? "", IncludeProbabilities = true };
        await Stoppable(ct, stop => Stream(0, session.ModelName, request, stop));
    }

    /// <summary>
    /// [N] ["PRIME"] from the positional words from <paramref name="first"/> on, or ["PRIME"] N: an unquoted number
    /// first, or last after a prime, is the count; a quoted word is always the prime.
    /// </summary>
    private static (int Count, string Prime) CountAndPrime(Command c, int first)
    {
        var words = c.Positional.Skip(first).ToList();
        bool IsCount(int word) => !c.IsQuoted(first + word) && words[word].All(char.IsAsciiDigit);
        // "1,000", "1e3", "500." or "-5" in a count's place meant a count: refused, not quietly made the prime.
        bool LooksLikeCount(int word) => !c.IsQuoted(first + word) && words[word].Any(char.IsAsciiDigit) && words[word].All(ch => char.IsAsciiDigit(ch) || ch is ',' or '.' or '_' or 'e' or 'E' or '+' or '-');
        foreach (var place in words.Count > 1 ? [0, words.Count - 1] : words.Count == 1 ? new[] { 0 } : [])
            if (LooksLikeCount(place) && !IsCount(place))
                throw new CommandException($"'{words[place]}' is not a count: write digits only, like 1000 (put a prime that is a number in quotes: \"1,000\").");
        if (words.Count > 1 && IsCount(0) && IsCount(words.Count - 1))
            throw new CommandException($"Two counts given, {words[0]} and {words[^1]}; give one (put a prime that is a number in quotes: \"{words[^1]}\").");
        int? count = null;
        if (words.Count > 0 && IsCount(0))
        {
            count = Count(words[0]);
            words.RemoveAt(0);
        }
        else if (words.Count > 1 && IsCount(words.Count - 1))
        {
            count = Count(words[^1]);
            words.RemoveAt(words.Count - 1);
        }
        return (count ?? 200, string.Join(" ", words));
    }

    private static int Count(string word) =>
        int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxChars
            ? n
            : throw new CommandException($"{word} characters is not allowed; ask for 1 to {MaxChars:N0} (put a prime that is a number in quotes: \"1984\").");

    private const int MaxChars = 1_000_000;

    /// <summary>
    /// Runs a generation that Esc, or the next command typed, stops; stopping it is not an error, but
    /// the rest of the line is skipped (<see cref="LineStopped"/>).
    /// </summary>
    private async Task Stoppable(CancellationToken ct, Func<CancellationToken, Task> generate)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, _lineStop);
        try
        {
            await generate(stop.Token);
        }
        // Once asked to stop, how the call ends is cancellation's doing: usually CANCELLED, but a cancel that
        // races the stream's own reads can surface as another status (a rare CI run ended without "stopped").
        catch (Exception e) when (stop.IsCancellationRequested && !ct.IsCancellationRequested
                                  && e is OperationCanceledException or RpcException or IOException)
        {
            output.Line("stopped");
            throw new LineStopped();
        }
    }

    /// <summary>A generation was stopped by the user: the rest of its line does not run.</summary>
    private sealed class LineStopped : Exception;

    /// <summary>Streams a Generate call into a pane; a session lost to a server restart is reopened once.</summary>
    private async Task Stream(int pane, string label, GenerateRequest request, CancellationToken ct)
    {
        var started = false;
        // The label and prime wait for the server's first answer: a refused prime (or count) leaves only its error behind.
        void Start()
        {
            if (started) return;
            started = true;
            output.GenerationStarted(pane, label, request.Prime, request.MaxChars);
        }
        async Task Read()
        {
            using var call = client.Generation.Generate(request, cancellationToken: ct);
            await foreach (var piece in call.ResponseStream.ReadAllAsync(ct))
            {
                Start();
                output.Generated(pane, piece.Text, piece.Probability);
            }
            Start();
        }
        try
        {
            try { await Read(); }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && pane == 0 && Session != null && request.SessionId == Session.Id)
            {
                if (started) output.GenerationEnded(pane); // the notice on a line of its own (--exec's stdout), the text started again under it
                started = false;
                await ReopenSession(null, ct);
                request.SessionId = Session!.Id;
                await Read();
            }
        }
        finally
        {
            if (started) output.GenerationEnded(pane);
        }
    }

    private async Task Feed(Command c, CancellationToken ct)
    {
        var session = Session ?? throw new CommandException("No model in use: use MODEL first.");
        var text = string.Join(" ", c.Positional);
        if (text.Length == 0) throw new CommandException("Usage: " + CommandCatalog.Find("feed")!.Usage);
        FeedResponse response;
        try { response = await client.Generation.FeedAsync(new FeedRequest { SessionId = session.Id, Text = text, TopAlternatives = 3 }, cancellationToken: ct); }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            await ReopenSession(null, ct); // as gen does, after a restart or an expiry
            response = await client.Generation.FeedAsync(new FeedRequest { SessionId = Session!.Id, Text = text, TopAlternatives = 3 }, cancellationToken: ct);
        }
        var next = string.Join("  ", response.Next.Select(a => $"{Visible(a.Text)} {a.Probability:P0}"));
        output.Line($"fed {text.EnumerateRunes().Count()} chars ({response.CharactersSeen} in the session); next: {next}");
    }

    private async Task Fork(CancellationToken ct)
    {
        if (Session == null) throw new CommandException("No model in use: use MODEL first.");
        Session fork;
        try { fork = await client.Generation.ForkAsync(new ForkRequest { SessionId = Session.Id }, cancellationToken: ct); }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            await ReopenSession(null, ct); // the Generate tab's Fork keeps working after a restart or an expiry
            fork = await client.Generation.ForkAsync(new ForkRequest { SessionId = Session.Id }, cancellationToken: ct);
        }
        var session = Session;
        _forks.Push(session);
        Session = fork;
        output.SessionChanged(fork);
        output.Line($"forked: generating in a copy ({_forks.Count} level(s)); back returns to the original");
    }

    private async Task Back(CancellationToken ct)
    {
        if (_forks.Count == 0) throw new CommandException("Not in a fork: nothing to go back to.");
        await CloseQuietly(Session, ct);
        Session = _forks.Pop();
        if (Session.Sampling is { } kept) _sampling = kept.Clone(); // the original's settings, not the fork's
        output.SessionChanged(Session);
        output.Line("back to the session before the fork");
    }

    private async Task Reset(CancellationToken ct)
    {
        var session = Session ?? throw new CommandException("No model in use: use MODEL first.");
        try
        {
            Session = await client.Generation.ResetAsync(new ResetRequest { SessionId = session.Id }, cancellationToken: ct);
            output.SessionChanged(Session);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            await ReopenSession(_sampling, ct); // a new session is a reset one: with the lost one's seed, as a reset restarts its sequence
        }
        output.Line("session reset");
    }

    private async Task Set(Command c, CancellationToken ct)
    {
        if (!HasSampling(c)) { output.Line(Describe(_sampling)); return; }
        var settings = await SamplingFrom(c, _sampling, ct);
        if (Session != null) await Configure(SeedOnlyIfGiven(c, settings), ct);
        else _sampling = settings;
        NoteSeed(c);
        output.Line(Describe(_sampling));
    }

    private async Task Configure(SamplingSettings settings, CancellationToken ct)
    {
        try
        {
            Session = await client.Generation.ConfigureAsync(new ConfigureRequest { SessionId = Session!.Id, Sampling = settings }, cancellationToken: ct);
            output.SessionChanged(Session);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && Session != null)
        {
            await ReopenSession(settings, ct); // the Generate tab's buttons set, then gen: both go on
        }
        _sampling = Session.Sampling.Clone();
    }

    /// <summary>
    /// Opens a new session on the current model when the server has lost the one in use (a restart, or it
    /// expired): with <paramref name="settings"/>, or the lost one's, less a seed the server drew, which
    /// would give the new session the old one's text again.
    /// </summary>
    private async Task ReopenSession(SamplingSettings? settings, CancellationToken ct)
    {
        output.Line("The session was lost (server restarted or it expired); opening a new one on the same model.");
        if (settings == null)
        {
            settings = _sampling.Clone();
            if (!_seedChosen) settings.ClearSeed();
        }
        Session = await client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = Session!.ModelName, Sampling = settings }, cancellationToken: ct);
        _sampling = Session.Sampling.Clone();
        output.SessionChanged(Session);
    }

    /// <summary>The current model and settings against another model or temperature, on the same prime and seed.</summary>
    private async Task Compare(Command c, CancellationToken ct)
    {
        var session = Session ?? throw new CommandException("No model in use: use MODEL first, then compare OTHER_MODEL or compare t=1.2.");
        // compare [MODEL] [N] ["PRIME"] [t=X]: the model is an unquoted first word that is not a count.
        var named = GenerationCount(c)!.Value.Named;
        if (!named && !HasSampling(c)) throw new CommandException("Usage: " + CommandCatalog.Find("compare")!.Usage + " (another model, or other sampling such as t=1.2).");
        var otherModel = named ? c.Positional[0] : session.ModelName;
        var (count, prime) = CountAndPrime(c, named ? 1 : 0);
        await CheckWithinServerLimits(count, prime, ct);
        var otherSampling = await SamplingFrom(c, _sampling, ct);
        Session? left = null, right = null;
        try
        {
            left = await client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = session.ModelName, Sampling = _sampling }, cancellationToken: ct);
            right = await client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = otherModel, Sampling = otherSampling }, cancellationToken: ct);
            var (l, r) = (left, right);
            await Stoppable(ct, stop => Task.WhenAll(
                Stream(0, $"{session.ModelName} {Describe(_sampling)}", new GenerateRequest { SessionId = l.Id, MaxChars = count, Prime = prime, IncludeProbabilities = true }, stop),
                Stream(1, $"{otherModel} {Describe(otherSampling)}", new GenerateRequest { SessionId = r.Id, MaxChars = count, Prime = prime, IncludeProbabilities = true }, stop)));
        }
        finally
        {
            await CloseQuietly(left, CancellationToken.None);
            await CloseQuietly(right, CancellationToken.None);
        }
    }

    private async Task Delete(Command c, CancellationToken ct)
    {
        var model = c.Arg(0) ?? throw new CommandException("Usage: delete MODEL");
        await client.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = model }, cancellationToken: ct);
        if (Session?.ModelName == model) // its sessions (forks are of the same model) would generate on from a model no longer listed
        {
            await CloseAll(CancellationToken.None);
            output.SessionChanged(null);
            output.Line($"deleted {model}, and closed the session on it: use MODEL to pick another");
            return;
        }
        output.Line($"deleted {model}");
    }

    private async Task Share(Command c, CancellationToken ct)
    {
        var model = c.Arg(0) ?? throw new CommandException("Usage: share MODEL [off]");
        var shared = c.Arg(1) switch
        {
            null => true,
            "off" => false,
            var word => throw new CommandException($"'{word}' is not understood: share {model} shares it, share {model} off takes the share back."),
        };
        var summary = await client.Catalog.ShareModelAsync(new ShareModelRequest { Name = model, Shared = shared }, cancellationToken: ct);
        output.Line(summary.Shared
            ? $"{model} is shared: every key may list it and generate from it, read-only (share {model} off takes it back)"
            : $"{model} is no longer shared: only its owner ('{summary.Owner}') and admin keys can use it");
    }

    private Task Quit()
    {
        output.QuitRequested();
        return Task.CompletedTask;
    }

    // ---- helpers ---------------------------------------------------------------------------

    private static readonly string[] SamplingAliases = ["temperature", "top_k", "top_p"];

    private static bool HasSampling(Command c) => CommandCatalog.SamplingKeys.Concat(SamplingAliases).Any(c.Options.ContainsKey);

    /// <summary>
    /// A key=value or a plain word the command does not take is an error, not ignored (train checks
    /// its keys against the architecture).
    /// </summary>
    private static void CheckKeys(Command c)
    {
        if (CommandCatalog.Find(c.Verb) is not { } spec) return;
        if (spec.Words is { } words && c.Positional.Count > words)
            throw new CommandException($"{c.Verb} takes {words switch { 0 => "no words", 1 => "1 word", _ => $"at most {words} words" }} before its options; '{c.Positional[words]}' is one too many (usage: {spec.Usage}).");
        if (c.Verb == "train" || c.Options.Count == 0) return;
        var allowed = (spec.Keys ?? []).ToList();
        if (allowed.Contains("t")) allowed.AddRange(SamplingAliases);
        allowed.AddRange(CommandCatalog.TrainingAliases.Where(a => allowed.Contains(a.Value)).Select(a => a.Key));
        var unknown = c.Options.Keys.Where(k => !allowed.Contains(k, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count == 0) return;
        throw new CommandException(spec.Keys is { Length: > 0 }
            ? $"{c.Verb} does not take {string.Join(", ", unknown.Select(k => k + "="))}; it takes {string.Join(", ", spec.Keys.Select(k => k + "="))}."
            : $"{c.Verb} takes no key=value options (usage: {spec.Usage}).");
    }

    private async Task<SamplingSettings> SamplingFrom(Command c, SamplingSettings start, CancellationToken ct)
    {
        var s = start.Clone();
        // The server's ranges, checked here too: `set` with no session in use keeps them for the next `use`.
        if (c.NamedOption("t", "temperature") is { } t)
        {
            var max = await MaxTemperature(ct);
            s.Temperature = max > 0 ? NumberIn(t.Name, t.Value, 0, max, $"0 (greedy) up to {max.ToString(CultureInfo.InvariantCulture)}") : Number(t.Name, t.Value);
        }
        if (c.NamedOption("k", "top_k") is { } k) s.TopK = IntegerIn(k.Name, k.Value, 0, 1_000_000);
        if (c.NamedOption("p", "top_p") is { } p) s.TopP = NumberIn(p.Name, p.Value, double.Epsilon, 1, "a number greater than 0 and at most 1 (1: off)");
        if (c.Option("seed") is { } seed)
        {
            if (IsRandomSeed(seed)) s.ClearSeed(); // the server draws one
            else s.Seed = ulong.TryParse(seed, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new CommandException($"seed={seed} is not allowed; use a whole number ≥ 0, or seed=random.");
        }
        return s;
    }

    /// <summary>
    /// Settings for a session in use: with its seed only where the command gave one. The session's
    /// own seed, sent back, would restart its random sequence (the server's replay), so each `set
    /// t=…` or Generate-tab press would draw the same numbers again.
    /// </summary>
    private static SamplingSettings SeedOnlyIfGiven(Command c, SamplingSettings settings)
    {
        var given = settings.Clone();
        if (c.Option("seed") is not { } seed) given.ClearSeed();
        // A session in use keeps its seed when none is sent: seed=random draws a new one here, as the server draws them.
        else if (IsRandomSeed(seed)) given.Seed = (ulong)Random.Shared.NextInt64(1_000_000_000);
        return given;
    }

    /// <summary>seed=N pins the seed for the sessions that follow (use); seed=random lets each draw its own again.</summary>
    private void NoteSeed(Command c)
    {
        if (c.Option("seed") is { } seed) _seedChosen = !IsRandomSeed(seed);
    }

    private static bool IsRandomSeed(string value) => value.Equals("random", StringComparison.OrdinalIgnoreCase);

    /// <summary>The server's highest temperature (0 from a server too old to say: it checks alone).</summary>
    private async Task<double> MaxTemperature(CancellationToken ct) => (await ServerLimits(ct)).MaxTemperature;

    /// <summary>The server's limits, asked once; a limit the server does not send is 0, and the server then checks it alone.</summary>
    private async Task<Limits> ServerLimits(CancellationToken ct) =>
        _limits ??= (await client.Catalog.GetServerInfoAsync(new GetServerInfoRequest(), cancellationToken: ct)).Limits ?? new Limits();

    /// <summary>A count or a prime the server would refuse, refused here in the terms the user typed.</summary>
    private async Task CheckWithinServerLimits(int count, string prime, CancellationToken ct)
    {
        var limits = await ServerLimits(ct);
        if (limits.MaxCharsPerCall > 0 && count > limits.MaxCharsPerCall)
            throw new CommandException($"{count} characters is not allowed; this server gives 1 to {limits.MaxCharsPerCall:N0} per gen (its max_chars_per_call).");
        if (limits.MaxPrimeChars > 0 && prime.EnumerateRunes().Count() is var length && length > limits.MaxPrimeChars)
            throw new CommandException($"The prime has {length:N0} characters; this server takes at most {limits.MaxPrimeChars:N0} (its max_prime_chars).");
    }

    public static string Describe(SamplingSettings s) => string.Create(CultureInfo.InvariantCulture,
        $"t={s.Temperature:0.##}{(s.TopK > 0 ? $" k={s.TopK}" : "")}{(s.TopP is > 0 and < 1 ? $" p={s.TopP:0.##}" : "")} seed={(s.HasSeed ? s.Seed.ToString(CultureInfo.InvariantCulture) : "random")}");

    private static double Number(string key, string value, string? allowed = null) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new CommandException($"{key}={value} is not a number{(allowed == null ? "" : $"; use {allowed}")}.");

    /// <summary>A yes/no value, in the words the engine's hyperparameters take.</summary>
    private static double Bool(string key, string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => 1,
        "false" or "no" or "off" or "0" => 0,
        _ => throw new CommandException($"{key}={value} is not allowed; use true or false (yes/no, on/off and 1/0 too)."),
    };

    private static double NumberIn(string key, string value, double min, double max, string allowed)
    {
        var v = Number(key, value);
        return v >= min && v <= max ? v : throw new CommandException($"{key}={value} is not allowed; use {allowed}.");
    }

    private static long Integer(string key, string value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : throw new CommandException($"{key}={value} is not a whole number.");

    private static int IntegerIn(string key, string value, int min, int max)
    {
        var v = Integer(key, value);
        return v >= min && v <= max ? (int)v : throw new CommandException($"{key}={value} is not allowed; use {min} to {max:N0}.");
    }

    public static string Visible(string text) => text switch { "\n" => "⏎", " " => "␠", "\t" => "⇥", _ => text };

    private async Task CloseAll(CancellationToken ct)
    {
        await CloseQuietly(Session, ct);
        while (_forks.Count > 0) await CloseQuietly(_forks.Pop(), ct);
        Session = null;
    }

    private async Task CloseQuietly(Session? session, CancellationToken ct)
    {
        if (session == null) return;
        try { await client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id }, cancellationToken: ct); }
        catch (RpcException) { } // already gone (expired, server restarted)
    }

    public async ValueTask DisposeAsync()
    {
        await _lifetime.CancelAsync();
        StopGeneration();
        await _lineInFlight;
        await StopWatching();
        try { await CloseAll(CancellationToken.None); } catch (RpcException) { }
    }
}
