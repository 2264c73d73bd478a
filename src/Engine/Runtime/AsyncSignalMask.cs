using System.Runtime.InteropServices;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// Keeps asynchronous signals (Ctrl+C, SIGTERM, a hang-up, SIGCONT after Ctrl+Z, a child's exit,
/// a terminal resize) off the threads that run libtorch: the kernel then hands each one to
/// another thread of the process, where .NET's handler passes it on as usual.
/// </summary>
/// <remarks>
/// oneDNN's JIT-compiled f32 GEMM kernels, which libtorch 2.10's CPU LSTM runs in its forward and
/// backward passes, point the stack pointer into a heap buffer while they run (oneDNN issue 4845,
/// fixed after the oneDNN that libtorch 2.10 bundles). A signal handled on such a thread has its
/// frame written there, over the heap, and the process aborts later in free() ("corrupted size
/// vs. prev_size"): here one Ctrl+C in two killed `charrnn train stateful-lstm` before it saved.
/// A new thread starts with its creator's mask, so OpenMP's workers, started by the thread that
/// first runs a parallel region, are covered when that thread blocked first. The threads .NET
/// starts before Main keep the signals, so one is always there to take them. Faults (SIGSEGV and
/// the like) must reach the thread that caused them, and the runtime's real-time signals suspend
/// threads only while they run managed code: both are left alone.
/// </remarks>
public static class AsyncSignalMask
{
    private const int SigBlock = 0; // Linux's SIG_BLOCK
    private const int SigSetBytes = 128; // glibc's sigset_t

    /// <summary>Linux's numbers. SIGTTIN and SIGTTOU stay: blocking them changes what a background read or write does.</summary>
    public static readonly IReadOnlyList<int> Blocked =
    [
        1 /* SIGHUP */, 2 /* SIGINT */, 3 /* SIGQUIT */, 10 /* SIGUSR1 */, 12 /* SIGUSR2 */, 14 /* SIGALRM */,
        15 /* SIGTERM */, 17 /* SIGCHLD */, 18 /* SIGCONT */, 20 /* SIGTSTP */, 23 /* SIGURG */,
        26 /* SIGVTALRM */, 27 /* SIGPROF */, 28 /* SIGWINCH */, 29 /* SIGIO */, 30 /* SIGPWR */,
    ];

    /// <summary>
    /// Blocks <see cref="Blocked"/> on the calling thread and the threads it starts from now on.
    /// Call it on a thread that is about to run libtorch's passes, before its first tensor operation;
    /// on Linux only (where the numbers above hold). Only there: a mask outlives execve, so a child
    /// process started from such a thread (Terminal.Gui starts some from its UI thread) could not
    /// be stopped by SIGTERM or Ctrl+C, and before MallocSettings re-executes the process the
    /// runtime's own threads would block them too.
    /// </summary>
    /// <returns>
    /// Disposed (on the same thread), the mask as it was: a thread that goes on to other work (a test
    /// host's, which runs the command line in-process) must not start child processes with it.
    /// </returns>
    public static IDisposable BlockOnThisThread() => Change(SigBlock);

    /// <summary>
    /// Starts a process with none of <see cref="Blocked"/> blocked. A child inherits the mask of the thread
    /// that starts it, across exec, and threads a blocked thread starts (the thread pool's among them)
    /// carry the mask for good: a process started from one would ignore SIGTERM and Ctrl+C.
    /// </summary>
    public static System.Diagnostics.Process StartProcess(System.Diagnostics.ProcessStartInfo start)
    {
        using (Change(SigUnblock))
            return System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start.");
    }

    private static IDisposable Change(int how)
    {
        if (!OperatingSystem.IsLinux()) return new Restore(null);
        var set = new byte[SigSetBytes];
        sigemptyset(set);
        foreach (var signal in Blocked) sigaddset(set, signal);
        var old = new byte[SigSetBytes];
        var error = pthread_sigmask(how, set, old);
        if (error != 0) throw new InvalidOperationException($"pthread_sigmask failed with error {error}; signals could reach a thread running libtorch.");
        return new Restore(old);
    }

    private const int SigUnblock = 1; // Linux's SIG_UNBLOCK

    private sealed class Restore(byte[]? old) : IDisposable
    {
        public void Dispose()
        {
            if (old != null) pthread_sigmask(SigSetMask, old, null);
            old = null;
        }
    }

    private const int SigSetMask = 2; // Linux's SIG_SETMASK

    [DllImport("libc")]
    private static extern int sigemptyset(byte[] set);

    [DllImport("libc")]
    private static extern int sigaddset(byte[] set, int signal);

    [DllImport("libc")]
    private static extern int pthread_sigmask(int how, byte[] set, byte[]? oldSet);
}
