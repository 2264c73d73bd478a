using System.Runtime.InteropServices;

namespace CharRnn.Tui.Cli;

/// <summary>
/// The signal that asked a command to stop, kept for its exit code: a shell reports a run ended by
/// signal N as 128 + N (130 for Ctrl+C, 143 for SIGTERM, 129 for a hang-up), and scripts and
/// service managers read it to tell an interrupted run from one that failed or finished.
/// </summary>
public sealed class StopSignal
{
    private int _number; // 0 until the first signal

    /// <summary>Signals that charrnn's commands catch to stop cleanly (save, stop the embedded server).</summary>
    public static readonly PosixSignal[] Caught = [PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGINT];

    /// <summary>Keeps the first signal; returns false for any later one.</summary>
    public bool Record(PosixSignal signal) => Interlocked.CompareExchange(ref _number, NumberOf(signal), 0) == 0;

    /// <summary>128 + the signal's number, or null before any signal.</summary>
    public int? ExitCode => Volatile.Read(ref _number) is var n and > 0 ? 128 + n : null;

    // .NET's PosixSignal values are its own, not the platform's; these are the numbers on Linux and macOS.
    private static int NumberOf(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        PosixSignal.SIGTERM => 15,
        _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "only SIGHUP, SIGINT, SIGQUIT and SIGTERM stop a command"),
    };
}
