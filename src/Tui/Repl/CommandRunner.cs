using System.Globalization;
using CharRnn.Engine.Text;
using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using Grpc.Core;

namespace CharRnn.Tui.Repl;

/// <summary>
/// Executes REPL commands against the server through <see cref="CharRnnClient"/>, keeping the
/// REPL's state: the session in use, its sampling settings, and the job being watched.
/// Interactive use returns as soon as a training job is watched (events keep flowing to the
/// output); scripted use (--exec) waits for it to end.
/// </summary>
public sealed partial class CommandRunner(CharRnnClient client, IReplOutput output, bool interactive) : IAsyncDisposable
{
    private readonly Stack<Session> _forks = new();
    /// <summary>The REPL's temperature until set changes it (the server's own default is 1), and what t= with nothing puts back.</summary>
    internal const double DefaultTemperature = 0.8;
    private SamplingSettings _sampling = new() { Temperature = DefaultTemperature };
    private CancellationTokenSource? _watch;
    private Task _watching = Task.CompletedTask;
    private bool _detachFollows; // headless: the running command's next one in its line is detach
    private ListArchitecturesResponse? _architectures;
    private Limits? _limits;
    private bool _seedChosen; // the user asked for a seed (seed=): new sessions keep it
    private UnknownChars _unknownChars = UnknownChars.Refuse; // unknown=: the sessions this REPL opens refuse or skip what their model cannot read
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

    /// <summary>
    /// Who else in this program holds a session, by id (the TUI's games: "the Type tab's"), for `sessions` to say so:
    /// they were two more sessions of the model with nothing to say whose they were. Null: none (--exec).
    /// </summary>
    public Func<string, string?>? HeldElsewhere { get; init; }
    public string? WatchedJob { get; private set; }
    public SamplingSettings Sampling => _sampling;

    /// <summary>
    /// Typed input (TUI): lines run one at a time, in the order typed. A new line first stops a
    /// generation that is still streaming, as Esc does, so `use OTHER` never races a `gen` on the
    /// session it closes. <paramref name="started"/> runs when the line's turn comes (the TUI echoes
    /// it then: echoed when typed, it came before the output of the line still running).
    /// </summary>
    public Task SubmitAsync(string line, Action? started = null)
    {
        StopGeneration();
        var previous = _lineInFlight;
        _lineInFlight = RunAfter(previous, line, started, _stopRequests.Token, _interrupts.Token);
        return _lineInFlight;
    }

    private async Task RunAfter(Task previous, string line, Action? started, CancellationToken stop, CancellationToken interrupt)
    {
        await previous; // RunLineAsync reports its errors; it does not throw
        if (_lifetime.IsCancellationRequested) return;
        started?.Invoke();
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

    /// <summary>Whether a typed line is still running or waiting its turn (a streaming gen, a call waiting on the server).</summary>
    public bool Busy => !_lineInFlight.IsCompleted;

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
        catch (CommandException e) { output.Error(e.AtPrompt is { } more ? $"{e.Message}. {more}" : e.Message); return; }
        for (var i = 0; i < commands.Count; i++)
            if (!await RunAsync(commands[i], cancellation, i + 1 < commands.Count ? commands[i + 1] : null)) break;
    }

    /// <summary>
    /// False when the command failed (the rest of the line is skipped). <paramref name="next"/> is the
    /// line's command after this one: headless, `train …; detach` asks to start a job and leave it, so
    /// the train must not wait on its job for the detach to run.
    /// </summary>
    public async Task<bool> RunAsync(Command command, CancellationToken cancellation = default, Command? next = null)
    {
        _detachFollows = !interactive && next?.Verb == "detach";
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
            // Where, and "reconnects", only for a link that failed here (a debug exception): an UNAVAILABLE the server sent (its keys file broken) says its own remedy.
            var linkFailed = LinkFailure.Is(e);
            if (await LinkFailure.WithTlsAdviceAsync(client, e) is { } tls)
            {
                output.Error(tls);
                return false;
            }
            output.Error(e is RpcException ? ErrorText.Describe(e) + (linkFailed ? $"; is a charrnn server running at {client.Address.Authority}?" : "")
                + (linkFailed && interactive ? " The next command reconnects once the server is back." : "") : e.Message);
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
        "info" => Info(c, ct),
        "corpora" => Corpora(ct),
        "upload" => Upload(c, ct),
        "delete-corpus" => DeleteCorpus(c, ct),
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
        "rename" => Rename(c, ct),
        "share" => Share(c, ct),
        "export" => Export(c, ct),
        "import" => Import(c, ct),
        "sessions" => Sessions(c, ct),
        "status" => Status(ct),
        "quit" or "exit" => Quit(),
        _ => throw UnknownCommand(c.Verb),
    };

    private static CommandException UnknownCommand(string verb) =>
        new($"Unknown command '{verb}'. Commands: {string.Join(", ", CommandCatalog.All.Select(s => s.Verb))}. Try: help.{ClosestName.Suggestion(verb, CommandCatalog.All.Select(s => s.Verb))}");

    /// <summary>
    /// What can be checked without a server: a known command with the options it takes. --exec
    /// checks every command so before it starts one: a typo at the end of a line must not wait out
    /// the hours of a `train` before it.
    /// </summary>
    /// <summary>
    /// <see cref="Check"/> for each command of a line, in order: a file an export ahead in the line writes is one its import may read
    /// (`export lstm f.safetensors; import f.safetensors name=back`), though it is not there yet.
    /// </summary>
    public static void CheckLine(IReadOnlyList<Command> line)
    {
        var exported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in line)
        {
            Check(c, exported);
            if (CommandCatalog.Find(c.Verb)?.Verb == "export" && c.Arg(1) is { } file) exported.Add(Path.GetFullPath(file));
        }
    }

    /// <param name="exported">Full paths of the files export commands ahead of this one in its line write.</param>
    public static void Check(Command c, IReadOnlySet<string>? exported = null)
    {
        if (CommandCatalog.Find(c.Verb) == null) throw UnknownCommand(c.Verb);
        CheckKeys(c);
        if (CommandCatalog.Find(c.Verb)?.Verb == "upload") UploadOf(c); // a missing file is said before a train ahead of it runs
        if (CommandCatalog.Find(c.Verb)?.Verb == "export") ExportOf(c); // so is a file that export would not overwrite
        if (CommandCatalog.Find(c.Verb)?.Verb == "import") ImportOf(c, exported); // and a file import cannot send
        // "gen 1,000" is refused before the train ahead of it; a count too large for the server, once it is asked (CheckWithServerAsync).
        if (GenerationCount(c) is { } words) CountAndPrime(c, words.First, most: null);
        if (CommandCatalog.Find(c.Verb)?.Verb == "attach" && c.Option("from") is { } from) StepToReplayFrom(from); // "train …; attach x from=abc" too
    }

    /// <summary>For gen and compare: where their [N] ["PRIME"] words start (compare's may follow a model's name).</summary>
    private static (int First, bool Named)? GenerationCount(Command c) => CommandCatalog.Find(c.Verb)?.Verb switch
    {
        "gen" => (0, false),
        "compare" when c.Positional.Count > 0 && !c.IsQuoted(0) && !c.Positional[0].All(char.IsAsciiDigit) => (1, true),
        "compare" => (0, false),
        _ => null,
    };


    private Task Quit()
    {
        output.QuitRequested();
        return Task.CompletedTask;
    }

    // ---- checks and sampling settings ---------------------------------------------------------

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
        {
            if (spec.Keys is { Length: > 0 } && FlagAsKey(c.Positional) is { } key)
                throw new CommandException($"{c.Verb} takes keys, not flags, at the prompt: {key} (usage: {spec.Usage}).");
            throw new CommandException($"{c.Verb} takes {words switch { 0 => "no words", 1 => "1 word", _ => $"at most {words} words" }}" +
                                       // "jobs takes no words before its options" spoke of options jobs has none of.
                                       $"{(spec.Keys is { Length: > 0 } ? " before its options" : "")}; '{c.Positional[words]}' is one too many (usage: {spec.Usage}).");
        }
        if (c.Verb == "train" || c.Options.Count == 0) return;
        var allowed = (spec.Keys ?? []).ToList();
        if (allowed.Contains("t")) allowed.AddRange(SamplingAliases);
        allowed.AddRange(CommandCatalog.TrainingAliases.Where(a => allowed.Contains(a.Value)).Select(a => a.Key));
        var unknown = c.Options.Keys.Where(k => !allowed.Contains(k, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count == 0) return;
        throw new CommandException(spec.Keys is { Length: > 0 }
            ? $"{c.Verb} does not take {string.Join(", ", unknown.Select(k => k + "="))}; it takes {string.Join(", ", spec.Keys.Select(k => k + "="))}.{MistypedKey.Suggestion(unknown[0], allowed)}"
            : $"{c.Verb} takes no key=value options (usage: {spec.Usage}).");
    }

    /// <summary>
    /// "n_hidden=16 for '--n-hidden 16'" where the words hold a flag, as charrnn train takes it (docs/cli.md shows them):
    /// typed at the prompt, its words were refused as one too many, which did not say what to type instead.
    /// </summary>
    private static string? FlagAsKey(IReadOnlyList<string> words)
    {
        var at = words.ToList().FindIndex(w => w.Length > 2 && w.StartsWith("--", StringComparison.Ordinal));
        if (at < 0) return null;
        var key = words[at][2..].Replace('-', '_');
        return at + 1 < words.Count && !words[at + 1].StartsWith('-')
            ? $"{key}={words[at + 1]} for '{words[at]} {words[at + 1]}'"
            : $"{key}=VALUE for '{words[at]}'";
    }

    private async Task<SamplingSettings> SamplingFrom(Command c, SamplingSettings start, CancellationToken ct)
    {
        var s = start.Clone();
        // A key with nothing after its '=' (set t=) goes back to its default, sent as a value: Configure changes only
        // the fields set. gen's stop= with nothing is likewise its default, no stop string.
        // The server's ranges, checked here too: `set` with no session in use keeps them for the next `use`.
        if (c.NamedOption("t", "temperature") is { } t)
        {
            var max = await MaxTemperature(ct);
            s.Temperature = t.Value == "" ? DefaultTemperature
                : max > 0 ? OptionValues.NumberIn(t.Name, t.Value, Cli.SamplingRanges.Temperature(max)) : OptionValues.Number(t.Name, t.Value);
        }
        // The ranges charrnn generate's flags allow, declared once for both (Cli/SamplingRanges); the defaults are the proto's (all chars).
        if (c.NamedOption("k", "top_k") is { } k) s.TopK = k.Value == "" ? 0 : (int)OptionValues.IntegerIn(k.Name, k.Value, Cli.SamplingRanges.TopK);
        if (c.NamedOption("p", "top_p") is { } p) s.TopP = p.Value == "" ? 1 : OptionValues.NumberIn(p.Name, p.Value, Cli.SamplingRanges.TopP);
        if (c.Option("min_p") is { } minP) s.MinP = minP == "" ? 0 : OptionValues.NumberIn("min_p", minP, Cli.SamplingRanges.MinP);
        if (c.Option("seed") is { } seed)
        {
            if (IsRandomSeed(seed)) s.ClearSeed(); // the server draws one
            else
            {
                var allowed = $"{Cli.NumberOptions.Range(ulong.MinValue, ulong.MaxValue)}, or seed=random";
                s.Seed = ulong.TryParse(seed, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
                    : throw new CommandException(System.Numerics.BigInteger.TryParse(seed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
                        ? Cli.NumberRefusal.NotAllowed($"seed={seed}", allowed) : Cli.NumberRefusal.NotAWholeNumber($"seed={seed}", allowed));
            }
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

    /// <summary>seed=random, or seed= with nothing (its default: each session draws its own).</summary>
    private static bool IsRandomSeed(string value) => value == "" || value.Equals("random", StringComparison.OrdinalIgnoreCase);

    /// <summary>The server's highest temperature (0 from a server too old to say: it checks alone).</summary>
    private async Task<double> MaxTemperature(CancellationToken ct) => (await ServerLimits(ct)).MaxTemperature;

    /// <summary>The server's limits, asked once; a limit the server does not send is 0, and the server then checks it alone.</summary>
    private async Task<Limits> ServerLimits(CancellationToken ct) =>
        _limits ??= (await client.Catalog.GetServerInfoAsync(new GetServerInfoRequest(), cancellationToken: ct)).Limits ?? new Limits();

    /// <summary>A count or a prime the server would refuse, refused here in the terms the user typed.</summary>
    /// <param name="primeInPieces">gen feeds a long prime in pieces; compare, which sends it to two sessions at once, does not.</param>
    private async Task CheckWithinServerLimits(string verb, int count, string prime, CancellationToken ct, bool primeInPieces = false)
    {
        var limits = await ServerLimits(ct);
        if (limits.MaxCharsPerCall > 0 && count > limits.MaxCharsPerCall)
            throw new CommandException(CountRefusal(verb, count.ToString(CultureInfo.InvariantCulture), limits.MaxCharsPerCall) + ".");
        if (!primeInPieces && limits.MaxPrimeChars > 0 && prime.EnumerateRunes().Count() is var length && length > limits.MaxPrimeChars)
            throw new CommandException($"The prime has {length:N0} characters; this server takes at most {limits.MaxPrimeChars:N0} (its max_prime_chars).");
    }

    /// <summary>unknown=skip|refuse from a command, or null when it has none.</summary>
    private static UnknownChars? UnknownCharsFrom(Command c) => c.Option("unknown") switch
    {
        null => null,
        "" => UnknownChars.Refuse, // unknown= with nothing: its default
        var v when v.Equals("skip", StringComparison.OrdinalIgnoreCase) => UnknownChars.Skip,
        var v when v.Equals("refuse", StringComparison.OrdinalIgnoreCase) => UnknownChars.Refuse,
        var v => throw new CommandException(Cli.NumberRefusal.NotAllowed($"unknown={v}", "skip (drop the characters the model cannot read from fed text) " +
                                                                              "or refuse (refuse such text, naming them; the default)")),
    };

    /// <summary>What the settings line adds under unknown=skip (refuse, the default, goes unsaid).</summary>
    private string UnknownCharsNote => _unknownChars == UnknownChars.Skip ? " unknown=skip" : "";

    /// <summary>
    /// " · 3 unknown char(s) skipped ('é' (U+00E9) ×2, '☃' (U+2603)) from the prime", in charrnn generate's words (the first ten
    /// named), from the server's skipped_chars of each call (<see cref="SkippedOf"/>); " · 2 unknown char(s) skipped from the prime"
    /// where the server only counted them; nothing when none was.
    /// </summary>
    internal static string SkippedNote(IEnumerable<SkippedChar> skipped, string fromWhat)
    {
        var told = skipped.Where(c => c.Count > 0).ToList();
        var each = told.Where(c => c.Character.Length > 0).GroupBy(c => c.Character).Select(g => new Engine.Text.SkippedCharacter(System.Text.Rune.GetRuneAt(g.Key, 0), g.Sum(c => c.Count))).ToList();
        if (each.Count > 0) return $" · {Cli.UnknownCharsText.Skipped(new Engine.Text.KnownText("", each))} from {fromWhat}";
        var counted = told.Sum(c => c.Count);
        return counted == 0 ? "" : $" · {counted:N0} unknown char(s) skipped from {fromWhat}";
    }

    /// <summary>
    /// What one answer says was skipped: its skipped_chars, or, from a server older than them, which sends only the
    /// count, one unnamed entry of that count (so the note and the chars fed still count them).
    /// </summary>
    internal static IEnumerable<SkippedChar> SkippedOf(IReadOnlyCollection<SkippedChar> named, int count) =>
        named.Count > 0 || count == 0 ? named : [new SkippedChar { Character = "", Count = count }];

    public static string Describe(SamplingSettings s) => string.Create(CultureInfo.InvariantCulture,
        $"t={s.Temperature:0.##}{(s.TopK > 0 ? $" k={s.TopK}" : "")}{(s.TopP is > 0 and < 1 ? $" p={s.TopP:0.##}" : "")}{(s.MinP > 0 ? $" min_p={s.MinP:0.###}" : "")} seed={(s.HasSeed ? s.Seed.ToString(CultureInfo.InvariantCulture) : "random")}");

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
