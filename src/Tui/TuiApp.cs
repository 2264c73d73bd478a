using CharRnn.ModelServer.Hosting;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;
using CharRnn.Tui.ViewModels;
using CharRnn.Tui.Views;
using Terminal.Gui.App;

namespace CharRnn.Tui;

/// <summary>Where charrnn's client connects: a remote server, or one it starts in-process.</summary>
/// <param name="TlsCa">--tls-ca: the CAs a TLS server's certificate may chain to, beside the system's.</param>
public sealed record ClientOptions(string? Server, string? Token, ServerOptions Embedded, TrustedCas? TlsCa = null);

/// <summary>
/// Starts the interactive client or runs --exec commands: connects to --server, or starts the
/// model server in this process on a free loopback port and talks to it over gRPC exactly as
/// a remote client would.
/// </summary>
public static class TuiApp
{
    /// <summary>
    /// The log's first line. "F1 help" is joined by a no-break space: at 110 columns the line broke between the two. So is
    /// "train stateful-lstm": at 80 columns the line broke after "train", and the embedded server's line leaves the log's
    /// two rows room for the welcome's second only, which read "stateful-lstm epochs=1 lower=true", a command without its verb.
    /// </summary>
    internal const string Welcome = "Welcome to charrnn: models · use NAME · gen 300 \"for thos\" · train\u00a0stateful-lstm epochs=1 lower=true · F1\u00a0help";

    public static async Task<(CharRnnClient Client, EmbeddedServer? Server, string Label)> ConnectAsync(ClientOptions options)
    {
        if (options.Server is { } address)
        {
            var uri = CharRnnClient.ParseAddress(address);
            return (new CharRnnClient(uri, options.Token, trustedCas: options.TlsCa), null, uri.Authority);
        }
        var server = await EmbeddedServer.StartAsync(options.Embedded);
        return (new CharRnnClient(server.Address, server.Token ?? options.Token), server, $"embedded {server.Address.Authority}");
    }

    /// <summary>The full-screen client, drawing in <paramref name="colors"/> (<see cref="TerminalColors"/>).</summary>
    public static int Run(ClientOptions options, ColorDepth colors)
    {
        var (client, server, label) = ConnectAsync(options).GetAwaiter().GetResult();
        var completion = new CompletionSource();
        var status = new ServerStatus(client, completion, label);
        try
        {
            var app = Application.Create();
            try
            {
                app.Init();
                // After Init, which sets Terminal.Gui's own choice (16 for TERM=linux, else 24-bit).
                app.Driver!.Force16Colors = colors != ColorDepth.TrueColor;
                if (colors == ColorDepth.Sixteen) SixteenColorFields.Apply();
                Monochrome.On = colors == ColorDepth.None;
                if (Monochrome.On) Monochrome.Apply();
                using var window = new MainWindow(client, status, completion, label, new CommandHistory(file: CommandHistory.DefaultFile));
                status.Start(TimeSpan.FromSeconds(2));
                var frame = app.AddTimeout(MainWindow.FrameInterval, window.RenderFrame);
                window.Repl.Log.AppendLine(Welcome);
                if (server != null)
                {
                    window.Repl.Log.AppendLine($"The server runs inside this process; its log: {server.LogPath}");
                    // (A models folder this start made shows in the log's path above: no line of its own, which would push the welcome out of a short pane.)
                    // A job the last run stopped at its quit resumes now: say so, or it trains unseen.
                    _ = ActiveJobs(client).ContinueWith(t =>
                    {
                        foreach (var job in t.Result)
                            window.Repl.Log.AppendLine($"job {job.Id} for model {job.ModelName}, stopped when charrnn last quit, trains on ({job.State.ToString().ToLowerInvariant()}): attach {job.ModelName} watches it, stop {job.ModelName} stops it");
                    }, TaskContinuationOptions.OnlyOnRanToCompletion);
                }
                else
                {
                    // On a shared server, the jobs this key has running or queued there (an earlier session's): where to find them.
                    _ = ActiveJobs(client).ContinueWith(t =>
                    {
                        foreach (var job in t.Result)
                            window.Repl.Log.AppendLine($"job {job.Id} for model {job.ModelName} is {job.State.ToString().ToLowerInvariant()} on this server: attach {job.ModelName} watches it, stop {job.ModelName} stops it");
                    }, TaskContinuationOptions.OnlyOnRanToCompletion);
                }
                window.Repl.Input.SetFocus();
                // SIGTERM, SIGHUP (terminal closed) and SIGINT (a `kill -INT`: the terminal's Ctrl+C comes as a key) quit as Ctrl+Q does, so the embedded server still
                // stops the running job with a checkpoint.
                using var signals = new SignalsThatQuit(() => app.Invoke(window.Quit)); // app, not window.App: a signal may come before Run
                // Ctrl+C interrupts what runs, and quits only when pressed twice at an idle prompt (CtrlCKey).
                window.TakeCtrlC(app);
                window.TakePastes(app);
                app.Run(window);
                if (frame != null) app.RemoveTimeout(frame);
                // Done by the quit that stopped the loop (what it left undone waits on the stopped loop: no use waiting again);
                // else, the loop having ended another way, bounded.
                if (!window.Closing) Quietly(() => window.CloseAsync().Wait(MainWindow.CloseTimeout));
            }
            finally
            {
                // Terminal.Gui restores the terminal as it is disposed; on one that has hung up (a closed window, a
                // dropped ssh) 2.5 spins there for good, and the server below would never stop: seen here at 60-100% CPU.
                if (!TerminalHangup.HasHappened()) app.Dispose();
            }
        }
        finally
        {
            // Each step on its own: whatever fails, the embedded server is still stopped (checkpointing the running job).
            Quietly(() => status.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5)));
            List<Protos.V1.Job> stopping = [];
            if (server != null) Quietly(() => stopping = ActiveJobs(client).GetAwaiter().GetResult());
            Quietly(client.Dispose);
            Quietly(() => server?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(30)));
            // On the terminal once it is restored: where the job the quit stopped went.
            foreach (var job in stopping)
                Quietly(() => Console.WriteLine($"charrnn: job {job.Id} for model {job.ModelName} was stopped with a checkpoint; it trains on when charrnn next starts on {options.Embedded.ModelsDirectory}."));
        }
        return 0;
    }

    /// <summary>The embedded server will make its models folder: said, since a mistyped --models otherwise looks like a folder with no models.</summary>
    private static bool MakesModelsFolder(ClientOptions options) => options.Server == null && !Directory.Exists(options.Embedded.ModelsDirectory);

    /// <summary>The default folder is made on a first run; another one may be a typo.</summary>
    private static string MadeWhy(ClientOptions options, string typo) => options.Embedded.ModelsDirectory == "models" ? " (a first run here)" : typo;

    /// <summary>The embedded server's running and queued jobs, or none when it does not answer in a few seconds.</summary>
    private static async Task<List<Protos.V1.Job>> ActiveJobs(CharRnnClient client)
    {
        try
        {
            var jobs = await client.Training.ListJobsAsync(new Protos.V1.ListJobsRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
            return [.. jobs.Jobs.Where(j => j.State is Protos.V1.Job.Types.State.Running or Protos.V1.Job.Types.State.Queued)];
        }
        catch (Grpc.Core.RpcException)
        {
            return [];
        }
    }

    private static void Quietly(Action close)
    {
        try { close(); }
        catch (Exception e) { Console.Error.WriteLine($"charrnn: while closing: {e.GetBaseException().Message}"); }
    }

    /// <summary>SIGTERM, SIGHUP and SIGINT run <c>quit</c> the first time; a second signal ends the process at once, as by default.</summary>
    private sealed class SignalsThatQuit : IDisposable
    {
        private readonly System.Runtime.InteropServices.PosixSignalRegistration[] _registrations;

        /// <summary>The first signal, for the exit code.</summary>
        public Cli.StopSignal Signal { get; } = new();

        public SignalsThatQuit(Action quit)
        {
            _registrations = [.. Cli.StopSignal.Caught
                .Select(signal => System.Runtime.InteropServices.PosixSignalRegistration.Create(signal, context =>
                {
                    if (!Signal.Record(context.Signal)) return; // a quit that hangs can still be ended
                    context.Cancel = true; // not the default (exit at once): quit through the program's own path
                    quit();
                }))];
        }

        public void Dispose()
        {
            foreach (var r in _registrations) r.Dispose();
        }
    }

    /// <summary>`charrnn --exec "cmd; cmd"`: runs commands headless, printing to stdout; exit 1 if any failed, 2 for a line with none.</summary>
    public static int Exec(ClientOptions options, string commands)
    {
        // A reader that leaves (`| head`) ends the run as Ctrl+C would, but quietly and with exit 0.
        using var readerGone = new CancellationTokenSource();
        using var stdout = new Cli.ClosedPipeWriter(Cli.Standard.Output(), readerGone.Cancel);
        var output = new ConsoleReplOutput(stdout, Console.Error);
        IReadOnlyList<Repl.Command> parsed;
        try
        {
            // A typo costs no server start, and nothing runs before it is found.
            parsed = CommandParser.ParseMany(commands);
            // Nothing to run is a mistake in the arguments (an empty variable, a quoting slip), not a run that did nothing: exit 2.
            if (parsed.Count == 0)
                throw new ArgumentException("--exec needs at least one REPL command, and was given none; give them separated by ';', " +
                                            "e.g. --exec \"models; use NAME; gen 200\" (--exec help lists the commands).");
            CommandRunner.CheckLine(parsed);
        }
        catch (CommandException e)
        {
            output.Error(e.Message);
            return 1;
        }
        // Ctrl+C stops the command that runs and skips the rest; the embedded server is then stopped
        // as at any end (a job it trains is checkpointed), not while a command still uses it.
        using var interrupt = new CancellationTokenSource();
        using var signals = new SignalsThatQuit(interrupt.Cancel);
        CharRnnClient client;
        EmbeddedServer? server;
        var madeFolder = MakesModelsFolder(options);
        try { (client, server, _) = ConnectAsync(options).GetAwaiter().GetResult(); }
        catch (Exception e) when (Cli.CharRnnCommandLine.IsUserError(e) || Cli.CharRnnCommandLine.IsMachineError(e))
        {
            // No server to run them on: a bad --models (a file, a folder that cannot be made, one a `charrnn train` holds)
            // exits 2, as the other options' mistakes do; a failed start (a full disk) 1.
            output.Error(e.Message);
            return Cli.CharRnnCommandLine.IsUserError(e) ? 2 : 1;
        }
        if (interrupt.IsCancellationRequested) parsed = []; // interrupted while the server started
        if (madeFolder) output.Note($"the models folder {Path.GetFullPath(options.Embedded.ModelsDirectory)} did not exist: it was made{MadeWhy(options, " (a typo in --models?)")}");
        // A job the last run left resumes in the embedded server now, and trains while the line runs: say so, or it trains unseen.
        if (server != null)
            foreach (var job in ActiveJobs(client).GetAwaiter().GetResult())
                output.Note($"job {job.Id} for model {job.ModelName}, stopped when charrnn last stopped, trains on while this runs ({job.State.ToString().ToLowerInvariant()}); stop {job.ModelName} stops it");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(interrupt.Token, readerGone.Token);
        try
        {
            // Against a remote server, a reader that leaves (| head) detaches from the line's job; the embedded server
            // stops with this process, so there the job is stopped with a checkpoint, as on Ctrl+C.
            var runner = new CommandRunner(client, output, interactive: false) { DetachOn = server == null ? readerGone.Token : CancellationToken.None, InterruptedBy = interrupt.Token };
            if (!runner.CheckWithServerAsync(parsed, stop.Token).GetAwaiter().GetResult()) parsed = [];
            for (var i = 0; i < parsed.Count; i++)
            {
                var next = i + 1 < parsed.Count ? parsed[i + 1] : null;
                if (!runner.RunAsync(parsed[i], stop.Token, next).GetAwaiter().GetResult() || output.Quit || stop.IsCancellationRequested) break;
            }
            runner.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (interrupt.IsCancellationRequested) output.Error("interrupted");
        }
        catch (CommandException e)
        {
            output.Error(e.Message);
        }
        finally
        {
            client.Dispose();
            // Said, not thrown: the commands' output is out already, and a stop that failed is news about the job's last checkpoint.
            try
            {
                if (server != null && !server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(30)))
                    output.Error("the embedded server did not stop within 30 s; a job it was training may not have saved its last checkpoint");
            }
            catch (Exception e) { output.Error($"the embedded server did not stop cleanly: {e.GetBaseException().Message}"); }
        }
        if (stdout.Closed && !interrupt.IsCancellationRequested) return 0; // as `generate | head` ends
        return signals.Signal.ExitCode ?? (output.Failed ? 1 : 0);
    }
}
