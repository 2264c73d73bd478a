using System.Globalization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// Shows a training run on the console: a live progress bar on a terminal (one line,
/// redrawn), plain lines when output is redirected, and a summary line per epoch.
/// Ctrl+C (or SIGTERM) asks the trainer to stop after the current batch and save.
/// </summary>
public sealed class TrainingConsole : IDisposable
{
    private readonly TextWriter _out, _errors;
    private readonly bool _live;
    private readonly CancellationTokenSource _stop = new();
    private readonly StopSignal _signal = new();
    private readonly System.Runtime.InteropServices.PosixSignalRegistration? _sigterm, _sighup;
    private int _lineLength;
    private DateTime _lastPlainLine = DateTime.MinValue;
    private double _lastValidLoss = double.NaN;
    /// <summary>The step of the run's first report: it measures that one step alone, libtorch's warm-up included.</summary>
    private long? _warmUpStep;

    private readonly bool _saves;

    private readonly string? _stoppingNote;

    /// <param name="saves">The trainer writes checkpoints (a demo trains without a folder).</param>
    /// <param name="errors">Where a failure is reported (default: stderr).</param>
    /// <param name="stoppingNote">What a stop request is answered with, where neither of the two usual lines fits (lr-find's search); how to quit at once follows it.</param>
    public TrainingConsole(TextWriter output, bool live, bool saves = true, TextWriter? errors = null, string? stoppingNote = null)
    {
        _stoppingNote = stoppingNote;
        _out = output;
        _errors = errors ?? Console.Error;
        _live = live;
        _saves = saves;
        Console.CancelKeyPress += OnCancel;
        if (!OperatingSystem.IsWindows())
        {
            // A closed terminal or a dropped ssh (SIGHUP) saves like Ctrl+C; a second signal ends the process as usual.
            _sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, OnSignal);
            _sighup = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGHUP, OnSignal);
        }
    }

    private void OnSignal(System.Runtime.InteropServices.PosixSignalContext context)
    {
        if (!_signal.Record(context.Signal)) return;
        context.Cancel = true;
        RequestStop(context.Signal);
    }

    public CancellationToken Stopping => _stop.Token;

    /// <summary>The exit code for a run a signal stopped (130 for Ctrl+C, 143 for SIGTERM, 129 for a hang-up); null if none did.</summary>
    public int? SignalExitCode => _signal.ExitCode;

    public void Attach(Trainer trainer)
    {
        trainer.Progress += p => Safely(() => OnProgress(p));
        trainer.EpochEnded += e => Safely(() => OnEpoch(e));
        trainer.CheckpointSaved += c => Safely(() => OnCheckpoint(c));
    }

    /// <summary>
    /// A console that went away (a hung-up terminal) must not fail the run it reports on: training
    /// goes on to its stop and checkpoint without the lines.
    /// </summary>
    private static void Safely(Action write)
    {
        try { write(); }
        catch (IOException) { }
    }

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (!_signal.Record(System.Runtime.InteropServices.PosixSignal.SIGINT)) return; // a second Ctrl+C ends the process at once
        e.Cancel = true;
        RequestStop(System.Runtime.InteropServices.PosixSignal.SIGINT);
    }

    private void RequestStop(System.Runtime.InteropServices.PosixSignal signal)
    {
        _stop.Cancel();
        Safely(() =>
        {
            ClearLine();
            _out.WriteLine((_stoppingNote ?? (_saves
                ? "Stopping after this batch and saving a checkpoint"
                : "Stopping training after this batch, then showing what the model learned")) + $" ({QuitAtOnce(signal)})...");
        });
    }

    /// <summary>How the stop just asked for is cut short, in the terms of the signal that asked: any second signal ends the process.</summary>
    private static string QuitAtOnce(System.Runtime.InteropServices.PosixSignal signal) => signal switch
    {
        System.Runtime.InteropServices.PosixSignal.SIGTERM => "SIGTERM received; a second SIGTERM quits at once",
        System.Runtime.InteropServices.PosixSignal.SIGHUP => "the terminal hung up (SIGHUP); a second signal quits at once",
        _ => "Ctrl+C again to quit at once",
    };

    private void OnProgress(TrainingProgress p)
    {
        var eta = p.Remaining is { } r ? Durations.Format(r) : "?";
        var val = double.IsNaN(_lastValidLoss) ? "" : $"  val {_lastValidLoss:F3}";
        // A rate over the warm-up step alone is several times too slow (640 c/s, ETA 2m29s, for a 7 s epoch): none until
        // a report measures the steps after it (over the progress interval, 0.5 s and more).
        _warmUpStep ??= p.Step;
        var speed = p.Step == _warmUpStep
            ? "speed: measuring"
            : string.Create(CultureInfo.InvariantCulture, $"{p.CharsPerSecond:N0} c/s  ETA {eta}");
        var stats = string.Create(CultureInfo.InvariantCulture,
            $"step {p.Step}  loss {p.Loss:F3}{val}  lr {p.LearningRate:0.0e+0}  {speed}");
        if (_live)
        {
            var fraction = p.TotalSteps > 0 ? Math.Clamp((double)p.Step / p.TotalSteps, 0, 1) : 0;
            const int width = 24;
            var filled = (int)Math.Round(fraction * width);
            var line = $"epoch {Math.Min(p.Epoch + 1, int.MaxValue)} [{new string('#', filled)}{new string('-', width - filled)}] {fraction,4:P0}  {stats}";
            // One terminal row, or "\r" returns only to the wrapped line's last row and every update scrolls.
            if (line.Length > TerminalWidth - 1) line = line[..Math.Max(0, TerminalWidth - 1)];
            var padded = line.PadRight(_lineLength);
            _lineLength = line.Length;
            _out.Write("\r" + padded);
            _out.Flush();
        }
        else if (DateTime.UtcNow - _lastPlainLine >= TimeSpan.FromSeconds(5))
        {
            _lastPlainLine = DateTime.UtcNow;
            _out.WriteLine($"epoch {p.Epoch + 1} {stats}");
        }
    }

    private void OnEpoch(EpochRecord e)
    {
        _lastValidLoss = e.ValidLoss;
        ClearLine();
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {e.Epoch,3}  train {e.TrainLoss:F4}  val {e.ValidLoss:F4} nats/char  acc {e.ValidAccuracy:P1}  lr {e.LearningRate:0.0e+0}  {Durations.Format(TimeSpan.FromSeconds(e.ElapsedSeconds))}"));
        if (!string.IsNullOrEmpty(e.Sample))
            _out.WriteLine("  sample: " + e.Sample.Replace("\n", " ", StringComparison.Ordinal));
    }

    private void OnCheckpoint(CheckpointSaved c)
    {
        if (c.Reason is "epoch end" or "best validation loss") return; // routine; the epoch line says enough
        ClearLine();
        _out.WriteLine($"saved {c.Path} ({c.Reason}, step {c.Step})");
    }

    /// <summary>How the run ended, on stdout; a failure on stderr (`charrnn: failed: …`), where scripts look for why. Settings in its reason are named as the flags.</summary>
    public void Report(TrainingOutcome outcome) => Safely(() =>
    {
        ClearLine();
        _out.Flush();
        var where = outcome.CheckpointPath is { } path ? $"; checkpoint {path}" : "";
        var reason = Client.JobReasonText.Of(outcome.Reason, Client.JobReasonText.CommandLine); // `--max-steps 3`, as the flag is typed, not the engine's `max_steps = 3`
        var line = (outcome.Kind == TrainingOutcomeKind.Finished ? Client.JobEndText.Said("finished", reason) : $"{outcome.Kind.ToString().ToLowerInvariant()}: {reason}") + where;
        // A failure is one of the CLI's errors: `charrnn: ` as every other, so a log grepped for them finds it.
        if (outcome.Kind == TrainingOutcomeKind.Failed) _errors.WriteLine("charrnn: " + line);
        else _out.WriteLine(line);
    });

    private static int TerminalWidth
    {
        get
        {
            try { return Console.WindowWidth > 0 ? Console.WindowWidth : 80; }
            catch (Exception e) when (e is IOException or PlatformNotSupportedException) { return 80; }
        }
    }

    private void ClearLine()
    {
        if (!_live || _lineLength == 0) return;
        _out.Write("\r" + new string(' ', _lineLength) + "\r");
        _lineLength = 0;
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _sigterm?.Dispose();
        _sighup?.Dispose();
        _stop.Dispose();
    }
}
