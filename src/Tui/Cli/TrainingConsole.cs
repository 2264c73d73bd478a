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
    private readonly TextWriter _out;
    private readonly bool _live;
    private readonly CancellationTokenSource _stop = new();
    private readonly System.Runtime.InteropServices.PosixSignalRegistration? _sigterm;
    private int _lineLength;
    private DateTime _lastPlainLine = DateTime.MinValue;
    private double _lastValidLoss = double.NaN;

    private readonly bool _saves;

    /// <param name="saves">The trainer writes checkpoints (a demo trains without a folder).</param>
    public TrainingConsole(TextWriter output, bool live, bool saves = true)
    {
        _out = output;
        _live = live;
        _saves = saves;
        Console.CancelKeyPress += OnCancel;
        if (!OperatingSystem.IsWindows())
            _sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
                System.Runtime.InteropServices.PosixSignal.SIGTERM, context => { context.Cancel = true; RequestStop(); });
    }

    public CancellationToken Stopping => _stop.Token;

    public void Attach(Trainer trainer)
    {
        trainer.Progress += OnProgress;
        trainer.EpochEnded += OnEpoch;
        trainer.CheckpointSaved += OnCheckpoint;
    }

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (_stop.IsCancellationRequested) return; // a second Ctrl+C ends the process at once
        e.Cancel = true;
        RequestStop();
    }

    private void RequestStop()
    {
        ClearLine();
        _out.WriteLine(_saves
            ? "Stopping after this batch and saving a checkpoint (Ctrl+C again to quit at once)..."
            : "Stopping after this batch (Ctrl+C again to quit at once)...");
        _stop.Cancel();
    }

    private void OnProgress(TrainingProgress p)
    {
        var eta = p.Remaining is { } r ? Durations.Format(r) : "?";
        var val = double.IsNaN(_lastValidLoss) ? "" : $"  val {_lastValidLoss:F3}";
        var stats = string.Create(CultureInfo.InvariantCulture,
            $"step {p.Step}  loss {p.Loss:F3}{val}  lr {p.LearningRate:0.0e+0}  {p.CharsPerSecond:N0} c/s  ETA {eta}");
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

    public void Report(TrainingOutcome outcome)
    {
        ClearLine();
        var where = outcome.CheckpointPath is { } path ? $"; checkpoint {path}" : "";
        _out.WriteLine($"{outcome.Kind.ToString().ToLowerInvariant()}: {outcome.Reason}{where}");
    }

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
        _stop.Dispose();
    }
}
