using System.Runtime.InteropServices;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// Runs the process with glibc malloc settings that keep freed memory for reuse: one arena, no
/// chunk of its own mmap per large block, no trimming below 1 GiB.
/// </summary>
/// <remarks>
/// libtorch allocates and frees large blocks every training step (for a bs 64 × bptt 64 LSTM:
/// oneDNN's ~70 MB workspace, 32 MB activations). glibc serves each block over 32 MB, and any
/// block of a thread's own arena that its 64 MB heap cannot hold, from a fresh mmap and unmaps it
/// on free, so every step faults its pages in again. On this project's machine (a Firecracker
/// microVM) a fault costs ~9 µs per 4 KB page: a 32 MB tensor took 74 ms to allocate and zero
/// instead of 0.5 ms, and the product trained the LSTM at bptt 64 at 4,480 chars/s instead of
/// 11,525 (bench/README.md). Memory is then held at its peak instead of being returned, which is
/// what a training or serving process wants.
/// glibc reads these settings only as a process starts (GLIBC_TUNABLES), and mallopt() at run
/// time cannot move threads that already own an arena, so <see cref="ReexecuteIfNeeded"/>
/// replaces the process with itself once, the settings in its environment (same pid, arguments
/// and descriptors; child processes inherit them). A GLIBC_TUNABLES the user set is left as it is;
/// CHARRNN_MALLOC=keep leaves malloc as shipped.
/// </remarks>
public static class MallocSettings
{
    public const string EnvironmentVariable = "CHARRNN_MALLOC";
    public const string TunablesVariable = "GLIBC_TUNABLES";
    public const string Tunables = "glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=1073741824";

    /// <summary>What applies to this process: the server's device line and the bench's header show it.</summary>
    public static string Status
    {
        get
        {
            var tunables = Environment.GetEnvironmentVariable(TunablesVariable);
            if (tunables == Tunables) return "keeps freed memory (GLIBC_TUNABLES)";
            if (tunables != null) return $"as GLIBC_TUNABLES sets it ({tunables})";
            if (IsKeep(Environment.GetEnvironmentVariable(EnvironmentVariable))) return $"as shipped ({EnvironmentVariable}=keep)";
            return OperatingSystem.IsLinux() ? "as shipped (not re-executed)" : "not applicable (glibc only)";
        }
    }

    /// <summary>
    /// Call first thing in Main: where <see cref="Decide"/> says so, the process is replaced by
    /// itself with the settings, and this call does not return. It never throws: a bad
    /// CHARRNN_MALLOC is reported by <see cref="ThrowIfInvalid"/> when libtorch starts.
    /// </summary>
    public static void ReexecuteIfNeeded()
    {
        if (!OperatingSystem.IsLinux() || !IsGlibc()) return;
        MallocAction action;
        try { action = Decide(Environment.GetEnvironmentVariable(EnvironmentVariable), Environment.GetEnvironmentVariable(TunablesVariable)); }
        catch (ArgumentException) { return; }
        if (action != MallocAction.Reexecute) return;

        var arguments = File.ReadAllText("/proc/self/cmdline").Split('\0');
        var argv = arguments.Take(arguments.Length - 1).Append(null).ToArray(); // the file ends with a NUL
        var environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k != TunablesVariable)
            .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}")
            .Append($"{TunablesVariable}={Tunables}")
            .Append(null)
            .ToArray();
        execve("/proc/self/exe", argv, environment);
        // Only a failed execve returns: go on with malloc as shipped.
    }

    /// <summary>Called as libtorch starts, so a mistyped CHARRNN_MALLOC is one clear error (exit 2), not silence.</summary>
    public static void ThrowIfInvalid() => Decide(Environment.GetEnvironmentVariable(EnvironmentVariable), null);

    /// <summary>
    /// Re-execute unless CHARRNN_MALLOC (<paramref name="setting"/>) says keep or GLIBC_TUNABLES
    /// (<paramref name="tunables"/>) is already set, by us or by the user. Values other than tune
    /// and keep are refused.
    /// </summary>
    public static MallocAction Decide(string? setting, string? tunables)
    {
        var value = setting?.Trim().ToLowerInvariant();
        if (!string.IsNullOrEmpty(value) && value != "tune" && !IsKeep(value))
            throw new ArgumentException(
                $"{EnvironmentVariable}='{setting}' is not known; use tune (the default: glibc malloc keeps freed memory for reuse) or keep (malloc as shipped).");
        if (IsKeep(value)) return MallocAction.Keep;
        return tunables == null ? MallocAction.Reexecute : MallocAction.AlreadySet;
    }

    private static bool IsKeep(string? value) => string.Equals(value?.Trim(), "keep", StringComparison.OrdinalIgnoreCase);

    private static bool IsGlibc() =>
        NativeLibrary.TryLoad("libc.so.6", out var libc) && NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out _);

    [DllImport("libc", SetLastError = true)]
    private static extern int execve(string path, string?[] argv, string?[] envp);
}

public enum MallocAction { Reexecute, AlreadySet, Keep }
