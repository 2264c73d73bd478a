using System.Runtime.InteropServices;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// Runs the process with glibc malloc backing its memory with transparent huge pages and a fixed
/// mmap threshold (GLIBC_TUNABLES, <see cref="Tunables"/>), where the kernel gives huge pages on request.
/// </summary>
/// <remarks>
/// libtorch allocates and frees large blocks every training step (for a bs 64 × bptt 64 LSTM:
/// oneDNN's ~70 MB workspace, 32 MB activations). glibc serves each large block from a fresh
/// mmap and unmaps it on free, so every step faults its pages in again. On this project's machine
/// (a Firecracker microVM) a 4 KB page fault costs ~9 µs: a 64 MB tensor took 115–150 ms to
/// allocate and fill, and nn.LSTM's forward and backward at bptt 64 ran at 3,300–4,000 chars/s.
/// With huge pages a block faults in 2 MB at a time: 3.6 ms and 11,000–11,800 chars/s
/// (bench/README.md). Keeping freed memory instead (one arena, no mmap) was as fast but let the
/// heap grow without bound, as posix_memalign's remainders fragment it (2.3 GB after 80 LSTM
/// steps against 0.7 GB). Huge pages alone made batched generation slower (a 64-session GRU step
/// 0.73–0.76 ms against 0.37 as shipped), as if its blocks of 0.1–2 MB came from fresh mmaps,
/// faulted in anew every step (as shipped, glibc's dynamic threshold keeps such blocks on the
/// heap once one has been freed). A fixed 32 MB mmap threshold (glibc's
/// largest dynamic one) and a 128 MB trim threshold keep them on the heap from the start, while
/// blocks of 32 MB and more still come on huge pages: 0.33–0.50 ms, as with malloc as shipped
/// (both have slow spells of ~0.75 ms that come and go within a process: bench/results.md), and
/// LSTM training as fast, its peak RSS 755 against 700–734 MB.
/// glibc reads tunables only as a process starts, so <see cref="ReexecuteIfNeeded"/> replaces
/// the process with itself once, the setting in its environment (same pid, arguments and
/// descriptors; child processes inherit it). Only where the kernel's huge pages are "madvise"
/// (with "always" they apply already, with "never" they cannot); a GLIBC_TUNABLES the user set is
/// left as it is; CHARRNN_MALLOC=keep leaves malloc as shipped.
/// </remarks>
public static class MallocSettings
{
    public const string EnvironmentVariable = "CHARRNN_MALLOC";
    public const string TunablesVariable = "GLIBC_TUNABLES";
    public const string Tunables = "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728";
    private const string HugePagesFile = "/sys/kernel/mm/transparent_hugepage/enabled";
    private static int _execveError;

    /// <summary>What applies to this process in a word or two, for the device line users read at each run.</summary>
    public static string Summary
    {
        get
        {
            var tunables = Environment.GetEnvironmentVariable(TunablesVariable);
            return tunables == Tunables ? "huge pages" : tunables != null ? $"as {TunablesVariable} sets it" : "as shipped";
        }
    }

    /// <summary>What applies to this process, and why: the server's log and the bench's header show it.</summary>
    public static string Status
    {
        get
        {
            var tunables = Environment.GetEnvironmentVariable(TunablesVariable);
            if (tunables == Tunables) return $"huge pages ({TunablesVariable}={Tunables})";
            if (tunables != null) return $"as {TunablesVariable} sets it ({tunables})";
            if (IsKeep(Environment.GetEnvironmentVariable(EnvironmentVariable))) return $"as shipped ({EnvironmentVariable}=keep)";
            if (_execveError != 0) return $"as shipped (re-executing with {Tunables} failed: errno {_execveError})";
            return OperatingSystem.IsLinux() ? $"as shipped (transparent huge pages: {HugePagesMode() ?? "not available"})" : "as shipped";
        }
    }

    /// <summary>
    /// Call first thing in Main: where <see cref="Decide"/> says so, the process is replaced by
    /// itself with the setting, and this call does not return. It never throws: a bad
    /// CHARRNN_MALLOC is reported by <see cref="ThrowIfInvalid"/> when libtorch starts.
    /// </summary>
    public static void ReexecuteIfNeeded()
    {
        if (!OperatingSystem.IsLinux() || !IsGlibc()) return;
        MallocAction action;
        try { action = Decide(Environment.GetEnvironmentVariable(EnvironmentVariable), Environment.GetEnvironmentVariable(TunablesVariable), HugePagesMode()); }
        catch (ArgumentException) { return; }
        if (action != MallocAction.Reexecute) return;

        var arguments = File.ReadAllText("/proc/self/cmdline").Split('\0');
        var argv = arguments.Take(arguments.Length - 1).Append(null).ToArray(); // the file ends with a NUL
        var environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}")
            .Append($"{TunablesVariable}={Tunables}")
            .Append(null)
            .ToArray();
        execve("/proc/self/exe", argv, environment);
        _execveError = Marshal.GetLastPInvokeError(); // only a failed execve returns: go on with malloc as shipped
    }

    /// <summary>Called as libtorch starts, so a mistyped CHARRNN_MALLOC is one clear error (exit 2), not silence.</summary>
    public static void ThrowIfInvalid() => Decide(Environment.GetEnvironmentVariable(EnvironmentVariable), null, null);

    /// <summary>
    /// Re-execute where huge pages are given on request ("madvise", the bracketed word of
    /// <paramref name="hugePagesMode"/>) unless CHARRNN_MALLOC (<paramref name="setting"/>) says
    /// keep or GLIBC_TUNABLES (<paramref name="tunables"/>) is already set, by us or by the user.
    /// Values other than tune and keep are refused.
    /// </summary>
    public static MallocAction Decide(string? setting, string? tunables, string? hugePagesMode)
    {
        var value = setting?.Trim().ToLowerInvariant();
        if (!string.IsNullOrEmpty(value) && value != "tune" && !IsKeep(value))
            throw new ArgumentException(
                $"{EnvironmentVariable}='{setting}' is not known; use tune (the default: glibc malloc uses transparent huge pages) or keep (malloc as shipped).");
        if (IsKeep(value)) return MallocAction.Keep;
        if (tunables != null) return MallocAction.AlreadySet;
        return hugePagesMode == "madvise" ? MallocAction.Reexecute : MallocAction.NotNeeded;
    }

    /// <summary>The kernel's transparent huge page mode: always, madvise or never (the word in brackets).</summary>
    private static string? HugePagesMode()
    {
        try
        {
            var text = File.ReadAllText(HugePagesFile);
            int open = text.IndexOf('['), close = text.IndexOf(']');
            return open >= 0 && close > open ? text[(open + 1)..close] : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static bool IsKeep(string? value) => string.Equals(value?.Trim(), "keep", StringComparison.OrdinalIgnoreCase);

    private static bool IsGlibc() =>
        NativeLibrary.TryLoad("libc.so.6", out var libc) && NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out _);

    [DllImport("libc", SetLastError = true)]
    private static extern int execve(string path, string?[] argv, string?[] envp);
}

public enum MallocAction { Reexecute, AlreadySet, Keep, NotNeeded }
