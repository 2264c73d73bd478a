using System.Globalization;
using CharRnn.Engine.Text;
using CharRnn.Protos.V1;
using CharRnn.Tui.Cli;
using CharRnn.Tui.Client;
using Grpc.Core;

namespace CharRnn.Tui.Repl;

/// <summary>The REPL's training commands: train, resume, jobs, attach, detach, stop, and the watch that follows a job's events.</summary>
public sealed partial class CommandRunner
{
    private async Task Train(Command c, CancellationToken ct)
    {
        var request = await TrainRequest(c, ct);
        var job = await StartJob(request, nameGiven: c.Option("name") != null, ct);
        output.Line($"job {job.Id} queued: {(request.InitFrom != "" ? $"{job.Architecture} from {request.InitFrom}'s weights" : request.Architecture)} → model {job.ModelName}{(job.QueuePosition > 1 ? $" (queue position {job.QueuePosition})" : "")}");
        ShowWarnings(job);
        await WatchStartedJobAsync(job, ct);
    }

    /// <summary>
    /// When this is cancelled, a headless line's end leaves the job it started training, as detach
    /// does, rather than stopping it: set for a remote server, on the output's reader leaving
    /// (`charrnn --server … --exec "train …" | head`), which asks to see the start, not to end the job.
    /// </summary>
    public CancellationToken DetachOn { get; init; }

    /// <summary>
    /// Cancelled by a signal (Ctrl+C, SIGTERM, SIGHUP), which stops the job even when <see cref="DetachOn"/>
    /// fired too: the shell signals a pipeline's reader with the writer, so its leaving may come first.
    /// </summary>
    public CancellationToken InterruptedBy { get; init; }

    /// <summary>How long a reader's leaving waits for a signal that came with it, before it counts as a walk-away.</summary>
    private static readonly TimeSpan SignalWithReaderWithin = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// Headless, the line waits on the job it started: interrupted, it stops the job (which saves a
    /// checkpoint), as charrnn train's Ctrl+C does, instead of leaving it to train on unwatched (or,
    /// on the embedded server, to resume at the next start), unless <see cref="DetachOn"/> says to
    /// leave it. Interactive, a job outlives its watch; so does it headless when the line's next
    /// command is detach.
    /// </summary>
    private async Task WatchStartedJobAsync(Job job, CancellationToken ct)
    {
        await WatchAsync(job, 0, ct);
        if (interactive || !ct.IsCancellationRequested) return;
        if (DetachOn.IsCancellationRequested && !await SignalledWithin(SignalWithReaderWithin)) return;
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

    private async Task<bool> SignalledWithin(TimeSpan wait)
    {
        try { await Task.Delay(wait, InterruptedBy); }
        catch (OperationCanceledException) { }
        return InterruptedBy.IsCancellationRequested;
    }

    /// <summary>A train command's request, every key and value checked against the server's specs.</summary>
    internal async Task<StartJobRequest> TrainRequest(Command c, CancellationToken ct)
    {
        var recipe = RecipeOf(c);
        var source = c.Option("init_from");
        if (source != null && recipe != null)
            throw new CommandException($"recipe= sets an architecture and its settings, and init_from= takes them from '{source}'; drop recipe= and give the training keys (epochs=, lr=, schedule=, ...).");
        // Starting from a model's weights: its architecture, unless one is given (the server refuses one that differs, naming both).
        var arch = c.Arg(0) ?? (source != null ? (await client.Catalog.GetModelAsync(new GetModelRequest { Name = source }, cancellationToken: ct)).Summary.Architecture : null)
            ?? recipe?.Architecture ?? throw new CommandException("Usage: " + CommandCatalog.Find("train")!.Usage);
        // A recipe's settings are tuned to its architecture: another one given with it is refused, as charrnn train --recipe refuses it.
        if (recipe != null && arch != recipe.Architecture)
            throw new CommandException($"recipe={recipe.Name} is for {recipe.Architecture}, not {arch}; drop the architecture, or drop recipe= and give {arch} the settings as keys: {recipe.Keys}.");
        var list = await ArchitectureList(ct);
        var spec = list.Architectures.FirstOrDefault(a => a.Name == arch)
            ?? throw new CommandException(LessonClassText.Unknown(arch, list.Architectures));
        var request = new StartJobRequest
        {
            ModelName = c.Option("name") ?? await DefaultModelName(DefaultNameBase(source, arch), ct),
            Architecture = source != null ? c.Arg(0) ?? "" : arch,
            InitFrom = source ?? "",
            CorpusName = c.Option("corpus") ?? "nietzsche",
            Options = new TrainingOptions(),
        };
        CheckRanges(c, spec.Hyperparameters.Concat(list.TrainingOptions)); // first: an out-of-range number gets the spec's range, not a parser's
        if (recipe != null) // first: the keys given beside it override it
            (request.Options.Lowercase, request.Options.Epochs, request.Options.Schedule, request.Options.MinFreq) = (recipe.Lowercase, recipe.Epochs, recipe.Schedule, recipe.MinFrequency);
        foreach (var (key, value) in c.Options)
        {
            if (key.ToLowerInvariant() is "name" or "corpus" or "recipe" or "init_from") continue;
            if (spec.Hyperparameters.FirstOrDefault(h => string.Equals(h.Name, key, StringComparison.OrdinalIgnoreCase)) is { } hyper)
                request.Hyperparameters[hyper.Name] = hyper.Type == HyperParameterSpec.Types.Type.Bool ? OptionValues.Bool(key, value) : OptionValues.Number(key, value, SpecText.Range(hyper));
            else ApplyTrainingOption(request.Options, key, value, spec);
        }
        if (c.Positional.Count > 1) throw new CommandException($"Unexpected '{c.Positional[1]}': options are key=value, e.g. epochs=2.");
        return request;
    }

    /// <summary>The recipe that recipe= names (as charrnn train --recipe takes it), or null when none is given.</summary>
    private static TrainingRecipe? RecipeOf(Command c)
    {
        if (c.Option("recipe") is not { } name) return null;
        return TrainingRecipe.Named(name)
            ?? throw new CommandException($"recipe={name} is not a recipe; known: {TrainingRecipe.KnownAs(r => r.Keys)}.{ClosestName.Suggestion(name, TrainingRecipe.All.Select(r => r.Name))}");
    }

    /// <summary>
    /// As the Models form names a new model: ARCH-N for the first N that no model on the server, nor a job's
    /// model (a queued one has no folder yet), has.
    /// </summary>
    /// <summary>What a model's default name is made of: SOURCE-tuned for a fine-tune, else the architecture's name.</summary>
    private static string DefaultNameBase(string? initFrom, string architecture) => initFrom != null ? $"{initFrom}-tuned" : architecture;

    private async Task<string> DefaultModelName(string arch, CancellationToken ct) => ModelNames.Free(arch, await TakenModelNames(ct));

    private async Task<IEnumerable<string>> TakenModelNames(CancellationToken ct)
    {
        var models = (await client.Catalog.ListModelsAsync(new ListModelsRequest(), cancellationToken: ct)).Models.Select(m => m.Name);
        var jobs = (await client.Training.ListJobsAsync(new ListJobsRequest(), cancellationToken: ct)).Jobs.Select(j => j.ModelName);
        return models.Concat(jobs).ToList();
    }

    /// <summary>
    /// A name the REPL chose may be taken where this key cannot look (another key's private model) or
    /// by a train started a moment before: the next free ARCH-N is tried, a few times, then a name with
    /// the time in it. A name the user gave is theirs to change.
    /// </summary>
    private async Task<Job> StartJob(StartJobRequest request, bool nameGiven, CancellationToken ct)
    {
        var refused = new List<string>();
        while (true)
        {
            try { return await client.Training.StartJobAsync(request, cancellationToken: ct); }
            catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists && !nameGiven && refused.Count < MaxDefaultNameTries)
            {
                refused.Add(request.ModelName);
                // A fine-tune's request leaves its architecture empty (the source's): its names are SOURCE-tuned-N.
                var baseName = DefaultNameBase(request.InitFrom != "" ? request.InitFrom : null, request.Architecture);
                request.ModelName = refused.Count < MaxDefaultNameTries
                    ? ModelNames.Free(baseName, (await TakenModelNames(ct)).Concat(refused))
                    : ModelNames.Stamped(baseName, DateTime.Now);
            }
        }
    }

    private const int MaxDefaultNameTries = 8;

    private async Task Resume(Command c, CancellationToken ct)
    {
        var request = await ResumeRequest(c, ct);
        var job = await client.Training.StartJobAsync(request, cancellationToken: ct);
        output.Line($"job {job.Id} queued: resuming {request.ModelName}");
        ShowWarnings(job);
        await WatchStartedJobAsync(job, ct);
    }

    /// <summary>
    /// The server's warnings of a job it took (Job.warnings: an SGDR cycle cut short, every rate 0, ...), worked out from
    /// the options it resolved, a resume's stored ones included, with the settings named as the REPL's keys
    /// (<see cref="JobWarningText"/>); a server older than the field sends none.
    /// </summary>
    private void ShowWarnings(Job job)
    {
        foreach (var warning in JobWarningText.Of(job)) output.Line("warning: " + warning);
        _warnedJobs.Add(job.Id);
    }

    /// <summary>
    /// The jobs whose warnings this session has said (by train, resume or attach): attach says a job's warnings only the
    /// first time, however many jobs were warned of since, as a job's warnings never change.
    /// </summary>
    private readonly HashSet<string> _warnedJobs = new(StringComparer.Ordinal);

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
            async Task<HashSet<string>> Corpora() => corpora ??= (await client.Catalog.ListCorporaAsync(new ListCorporaRequest(), cancellationToken: ct)).Corpora
                .Select(k => k.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
            async Task<HashSet<string>> Models() => models ??= (await client.Catalog.ListModelsAsync(new ListModelsRequest(), cancellationToken: ct)).Models
                .Select(m => m.Name).ToHashSet(StringComparer.OrdinalIgnoreCase); // names may not differ only in case
            // Models an earlier command of the line trains, resumes, deletes or renames: the server cannot say now how a job on them will be taken.
            var touched = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            // Corpora an earlier command of the line uploads: the server cannot check a job on one before it is there.
            var uploaded = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var canCheckJobs = true;
            async Task CheckJob(StartJobRequest request)
            {
                if (!canCheckJobs || !touched.Add(request.ModelName)) return;
                try { await client.Training.CheckJobAsync(request, cancellationToken: ct); }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented) { canCheckJobs = false; } // a server older than CheckJob
                catch (RpcException e) when (ErrorText.CallerCanAct(e.StatusCode)) { throw new CommandException(ErrorText.Describe(e)); }
            }
            foreach (var c in commands)
            {
                if (c.Verb == "train")
                {
                    var request = await TrainRequest(c, ct);
                    if (!(await Corpora()).Contains(request.CorpusName))
                        throw new CommandException($"No corpus '{request.CorpusName}' on this server; corpora lists the ones there are.{ClosestName.Suggestion(request.CorpusName, corpora!)}");
                    if ((await Models()).TryGetValue(request.ModelName, out var taken))
                        throw new CommandException(taken == request.ModelName
                            ? $"A model named '{taken}' exists; choose another name=, or resume {taken} to continue it."
                            : $"A model named '{taken}' exists, and names may not differ only in case; choose another name=.");
                    // A model an earlier command makes or changes is not there to start from yet, nor is an upload.
                    if (!uploaded.Contains(request.CorpusName) && !(request.InitFrom.Length > 0 && touched.Contains(request.InitFrom)))
                        await CheckJob(request); // the rest of what StartJob checks: schedule, sizes against memory, quotas
                    models!.Add(request.ModelName);
                    touched.Add(request.ModelName);
                }
                else if (c.Verb == "resume")
                {
                    var request = await ResumeRequest(c, ct);
                    if (!(await Models()).Contains(request.ModelName))
                        throw new CommandException($"No model '{request.ModelName}' on this server; models lists them.{ClosestName.Suggestion(request.ModelName, models!)}");
                    await CheckJob(request);
                }
                else if (c.Verb == "upload") // a train after it on the line names what it stores
                {
                    var name = UploadOf(c).Name;
                    (await Corpora()).Add(name);
                    uploaded.Add(name);
                }
                else if (c.Verb == "delete-corpus" && c.Arg(0) is { } deletedCorpus)
                {
                    (await Corpora()).Remove(deletedCorpus);
                    uploaded.Remove(deletedCorpus);
                }
                else if (c.Verb == "delete" && c.Arg(0) is { } deleted)
                {
                    (await Models()).Remove(deleted);
                    touched.Add(deleted);
                }
                else if (c.Verb == "rename" && c.Arg(0) is { } renamed && c.Arg(1) is { } newName)
                {
                    (await Models()).Remove(renamed);
                    models!.Add(newName);
                    touched.Add(renamed);
                    touched.Add(newName);
                }
                else if (GenerationCount(c) is { } words && CountAndPrime(c, words.First, await MostChars(ct)) is var (count, prime)) await CheckWithinServerLimits(c.Verb, count, prime, ct, primeInPieces: CommandCatalog.Find(c.Verb)?.Verb == "gen");
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
    /// (the server's names the proto field: lr=20 would come back as options.learning_rate), and
    /// a value that is no number, or no whole one, gets the server's range too (epochs=two was
    /// told "use 1 to 2147483647", the parser's, where the server takes 1 to 10000).
    /// </summary>
    private static void CheckRanges(Command c, IEnumerable<HyperParameterSpec> specs)
    {
        var byName = specs.Where(s => s.Type != HyperParameterSpec.Types.Type.Bool).GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First());
        foreach (var (key, value) in c.Options)
        {
            if (!byName.TryGetValue(CommandCatalog.TrainingAliases.GetValueOrDefault(key, key).ToLowerInvariant(), out var spec)) continue;
            var whole = spec.Type == HyperParameterSpec.Types.Type.Int;
            foreach (var part in value.Split(','))
            {
                if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || (whole && v != Math.Floor(v)))
                    throw new CommandException(whole ? Cli.NumberRefusal.NotAWholeNumber($"{key}={part}", RangeOf(spec)) : Cli.NumberRefusal.NotANumber($"{key}={part}", part, RangeOf(spec)));
                if (v < spec.Min || v > spec.Max)
                    throw new CommandException(Cli.NumberRefusal.NotAllowed($"{key}={part}", RangeOf(spec)));
            }
        }
    }

    /// <summary>
    /// The spec's range as the refusal says it: patience and min_delta in the words of charrnn train and the server
    /// (TrainingOptions.Validate), whose 0 is off (any drop counts), not a patience (a delta) of none.
    /// </summary>
    private static string RangeOf(HyperParameterSpec spec) => spec.Name switch
    {
        "patience" => $"0 (off) or 1 to {SpecText.Format(spec, spec.Max)} epochs",
        "min_delta" => $"0 (any drop counts) to {SpecText.Format(spec, spec.Max)} nats/char",
        _ => SpecText.Range(spec),
    };

    private static void ApplyTrainingOption(TrainingOptions o, string key, string value, Architecture? spec)
    {
        switch (CommandCatalog.TrainingAliases.GetValueOrDefault(key, key).ToLowerInvariant()) // keys are case-insensitive, as CheckKeys takes them
        {
            case "epochs": o.Epochs = OptionValues.IntegerIn(key, value, 1, int.MaxValue); break;
            case "max_steps": o.MaxSteps = OptionValues.Integer(key, value); break;
            case "time_budget":
                try { o.TimeBudgetSeconds = Durations.Parse(value).TotalSeconds; }
                catch (ArgumentException e) { throw new CommandException($"{key}: {e.Message}"); }
                break;
            case "lr": o.LearningRate.AddRange(value.Split(',').Select(v => OptionValues.Number(key, v))); break;
            case "wd": o.WeightDecay.AddRange(value.Split(',').Select(v => OptionValues.Number(key, v))); break;
            case "schedule": o.Schedule = value; break;
            case "clip": o.Clip = OptionValues.Number(key, value); break;
            case "lower": o.Lowercase = OptionValues.Bool(key, value) != 0; break;
            case "keep_cycles": o.KeepCycleCheckpoints = OptionValues.Bool(key, value) != 0; break;
            case "seed": o.Seed = OptionValues.IntegerIn(key, value, 0, int.MaxValue); break;
            case "sample_chars": o.SampleChars = OptionValues.IntegerIn(key, value, 0, int.MaxValue); break;
            case "patience": o.Patience = OptionValues.IntegerIn(key, value, 0, int.MaxValue); break; // the range: the server's spec (CheckRanges)
            case "min_delta": o.MinDelta = OptionValues.Number(key, value); break; // as patience
            case "optimizer": o.Optimizer = value; break;
            case "min_freq": o.MinFreq = OptionValues.IntegerIn(key, value, 1, int.MaxValue); break;
            case "val_fraction": o.ValidFraction = OptionValues.Number(key, value); break;
            default:
                var hyper = spec == null ? "" : $"; {spec.Name} takes {string.Join(", ", spec.Hyperparameters.Select(h => h.Name))}";
                var keys = CommandCatalog.TrainingKeys.Concat(spec?.Hyperparameters.Select(h => h.Name) ?? []);
                var hint = LessonNames.HyperParameterNote(key, k => k) is { Length: > 0 } note ? note : MistypedKey.Suggestion(key, keys);
                throw new CommandException($"'{key}' is not an option here{hyper}; training options: {string.Join(", ", CommandCatalog.TrainingKeys)}.{hint}");
        }
    }

    private async Task Jobs(CancellationToken ct)
    {
        var jobs = (await client.Training.ListJobsAsync(new ListJobsRequest(), cancellationToken: ct)).Jobs;
        if (jobs.Count == 0) { output.Line("No jobs."); return; }
        foreach (var line in JobsTable(jobs)) output.Line(line);
        if (jobs.Any(j => j.State == Job.Types.State.Queued)
            && UnlistedAhead(jobs, (await client.Catalog.GetServerInfoAsync(new GetServerInfoRequest(), cancellationToken: ct)).RunningJobs) is { } ahead)
            output.Line(ahead);
    }

    /// <summary>
    /// What the key's first queued job waits for that its list does not show (other keys' jobs, which only an admin
    /// sees), so that "queued (1st)" behind another key's long job is not read as "starts next"; null when nothing is.
    /// </summary>
    internal static string? UnlistedAhead(IReadOnlyList<Job> jobs, int runningJobs)
    {
        if (jobs.Where(j => j.State == Job.Types.State.Queued && j.QueuePosition > 0).MinBy(j => j.QueuePosition) is not { } first) return null;
        var waits = new List<string>();
        if (runningJobs > 0 && !jobs.Any(j => j.State == Job.Types.State.Running)) waits.Add("another key's running job to end");
        var queuedAhead = first.QueuePosition - 1; // the first of the key's own: every job ahead of it is another key's
        if (queuedAhead > 0) waits.Add($"{queuedAhead} queued job{(queuedAhead == 1 ? "" : "s")} of other keys to start");
        return waits.Count == 0 ? null : $"{first.Id} waits for {string.Join(" and ", waits)}: a running job is not interrupted for a queued one.";
    }

    /// <summary>
    /// The jobs under a header row (as models and sessions have), a row each, each column as wide as its widest value and
    /// two spaces between columns (a long architecture ran into the step). Jobs of several keys (an admin's list) have an
    /// OWNER column after the model; a fine-tune says the model it starts from after its architecture. The loss is the
    /// job's best_valid_loss, best.ckpt's (a resume's earlier epochs included), not its final one: "best val".
    /// </summary>
    internal static IEnumerable<string> JobsTable(IReadOnlyList<Job> jobs)
    {
        var owners = jobs.Select(j => j.Owner).Distinct().Count() > 1;
        var rows = jobs.Select(j => (string[])
        [
            j.Id, StateCell(j), j.ModelName, .. (owners ? [j.Owner] : Array.Empty<string>()), j.InitFrom != "" ? $"{j.Architecture} from {j.InitFrom}" : j.Architecture,
            StepCell(j) + (j.HasBestValidLoss ? string.Create(CultureInfo.InvariantCulture, $" best val {j.BestValidLoss:F4}") : ""),
            JobReasonText.Of(j.Reason),
        ]).Prepend(["ID", "STATE", "MODEL", .. (owners ? ["OWNER"] : Array.Empty<string>()), "ARCH", "PROGRESS", jobs.Any(j => j.Reason != "") ? "REASON" : ""]).ToList();
        var padded = rows[0].Length - 1; // the reason, last, is not padded
        var widths = Enumerable.Range(0, padded).Select(c => rows.Max(r => r[c].Length)).ToList();
        return rows.Select(r => string.Join("  ", r.Select((cell, c) => c < padded ? cell.PadRight(widths[c]) : cell)).TrimEnd());
    }

    /// <summary>
    /// How far the job has trained; nothing for a queued one, whose Job.step is 0 until it starts, a resume's too (a model
    /// 3,233 steps in listed 'step 0'): its state cell says it has not started.
    /// </summary>
    private static string StepCell(Job j) =>
        j.State == Job.Types.State.Queued ? "" : j.TotalSteps > 0 ? $"step {j.Step}/{j.TotalSteps}" : $"step {j.Step}";

    /// <summary>The job's state; a queued one with its place in the queue, "queued (2nd)" (0 from a server too old to say: none).</summary>
    private static string StateCell(Job job) =>
        job.State == Job.Types.State.Queued && job.QueuePosition > 0 ? $"queued ({Ordinal(job.QueuePosition)})" : job.State.ToString().ToLowerInvariant();

    /// <summary>1st, 2nd, 3rd, 4th, … 11th, 12th, 13th, … 21st.</summary>
    internal static string Ordinal(int n) => n + (n % 100 is 11 or 12 or 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" });

    private async Task Attach(Command c, CancellationToken ct)
    {
        var target = c.Arg(0) ?? WatchedJob ?? throw new CommandException("Usage: attach JOB|MODEL [from=STEP] (jobs lists them).");
        var from = c.Option("from") is { } f ? StepToReplayFrom(f) : 0;
        var jobs = (await client.Training.ListJobsAsync(new ListJobsRequest(), cancellationToken: ct)).Jobs;
        var job = jobs.FirstOrDefault(j => j.Id == target) ?? jobs.FirstOrDefault(j => j.ModelName == target && j.State is Job.Types.State.Running or Job.Types.State.Queued)
            ?? jobs.FirstOrDefault(j => j.ModelName == target)
            ?? JobStartingWith(jobs, target)
            ?? throw new CommandException($"No job '{target}' (by id or model name). jobs lists them.");
        if (!_warnedJobs.Contains(job.Id)) ShowWarnings(job); // a job another client started, or this REPL before it said them: its warnings once
        await WatchAsync(job, from, ct);
    }

    /// <summary>
    /// The one listed job whose id starts with <paramref name="typed"/> (as git takes the start of a hash), so that an id
    /// copied short, j-b78f, is taken; null when none does; refused naming them when several do.
    /// </summary>
    internal static Job? JobStartingWith(IReadOnlyList<Job> jobs, string typed)
    {
        if (!typed.StartsWith("j-", StringComparison.Ordinal) || typed.Length <= 2) return null;
        var starting = jobs.Where(j => j.Id.StartsWith(typed, StringComparison.Ordinal)).ToList();
        return starting.Count <= 1 ? starting.FirstOrDefault()
            : throw new CommandException($"'{typed}' starts {starting.Count} jobs' ids: {string.Join(", ", starting.Select(j => $"{j.Id} ({j.ModelName}, {StateCell(j)})"))}; type more of it.");
    }

    /// <summary>attach's from=: a step in digits, 0 or more (WatchJob's from_step; a sign is no step).</summary>
    private static long StepToReplayFrom(string value) =>
        (long)OptionValues.IntegerIn("from", value, new AllowedNumbers("0 (the job's first event, the default) or a later step", v => v >= 0));

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
                    ?? jobs.FirstOrDefault(j => j.ModelName == arg && j.State is Job.Types.State.Running or Job.Types.State.Queued)
                    ?? JobStartingWith(jobs, arg);
        if (known == null && !arg.StartsWith("j-", StringComparison.Ordinal))
            throw new CommandException($"No running or queued job for '{arg}'; stop takes a job's id, or the name of a model a job is training or waiting to train (jobs lists them).");
        if (known is { State: Job.Types.State.Stopped or Job.Types.State.Finished or Job.Types.State.Failed })
        {
            output.Line($"job {known.Id} had already ended ({known.State.ToString().ToLowerInvariant()}): nothing to stop");
            return;
        }
        var id = known?.Id ?? arg; // an id the list no longer holds: the server says what it knows of it
        var said = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (id == WatchedJob) _stopSaid = said;
        try
        {
            var job = await client.Training.StopJobAsync(new StopJobRequest { JobId = id }, cancellationToken: ct);
            output.Line(job.State switch
            {
                Job.Types.State.Stopped => $"job {id} stopped",
                Job.Types.State.Finished or Job.Types.State.Failed => $"job {id} had already ended ({job.State.ToString().ToLowerInvariant()}): nothing to stop",
                _ => $"job {id} is stopping: it saves a checkpoint first",
            });
        }
        finally
        {
            said.TrySetResult();
            Interlocked.CompareExchange(ref _stopSaid, null, said);
        }
    }

    // The watched job's end, held back while a stop of it waits for its answer: a job that stops at once
    // (a queued one, a small model) sent its end down the watch before the answer came, and
    // "job …: stopped: stopped on request" was logged above "job … is stopping".
    private TaskCompletionSource? _stopSaid;

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
                        if (lostSince != null) { output.Line($"watching job {job.Id} again"); output.JobWatchLost(false); lostSince = null; }
                        await foreach (var e in call.ResponseStream.ReadAllAsync(watch.Token))
                        {
                            if (e.Sequence <= seen) continue;
                            seen = e.Sequence;
                            if (e.EventCase is JobEvent.EventOneofCase.Finished or JobEvent.EventOneofCase.Stopped or JobEvent.EventOneofCase.Failed
                                && Volatile.Read(ref _stopSaid) is { } stopping)
                                await stopping.Task.WaitAsync(watch.Token);
                            output.JobEvent(e);
                            if (e.EventCase == JobEvent.EventOneofCase.Failed) failed = true;
                            // Headless, a job someone else stopped (an admin's StopJob) did not do what the line asked: not a success.
                            if (!interactive && e.EventCase == JobEvent.EventOneofCase.Stopped && e.Stopped.OnRequest && Volatile.Read(ref _stopSaid) == null)
                            {
                                output.Error($"job {job.Id} was stopped on request before its end, not by this client ({JobReasonText.Of(e.Stopped.Reason)})"
                                             + (e.Stopped.CheckpointSaved ? $"; resume {job.ModelName} continues it" : ""));
                                failed = true;
                            }
                        }
                        return;
                    }
                    // CANCELLED that this client did not ask for is a stream a proxy or the server reset: as lost as UNAVAILABLE.
                    catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Cancelled && !watch.IsCancellationRequested
                                                 && (lostSince == null || DateTime.UtcNow - lostSince < WatchReconnectFor))
                    {
                        if (lostSince == null) { output.Line($"watching job {job.Id}: {ErrorText.Clause(e)}; reconnecting"); output.JobWatchLost(true); }
                        lostSince ??= DateTime.UtcNow;
                        await Task.Delay(WatchRetryDelay, watch.Token);
                    }
                }
            }
            // Once this client has ended the watch (detach, another attach), however the stream's end surfaces is that end: a
            // cancelled in-flight read can come back as UNAVAILABLE ("Error reading next message") before it reads as CANCELLED.
            catch (Exception e) when (e is OperationCanceledException || (e is RpcException && watch.IsCancellationRequested))
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
        if (!interactive && !_detachFollows)
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
}
