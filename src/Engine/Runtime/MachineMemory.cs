namespace CharRnn.Engine.Runtime;

/// <summary>
/// The memory this process may use: the machine's (MemTotal), or its container's limit where that
/// is lower (cgroup v2 memory.max, v1 memory.limit_in_bytes). Not GC.GetGCMemoryInfo's
/// TotalAvailableMemoryBytes alone: in a container that is .NET's heap limit, 75% of the
/// container's, and a training job's memory is mostly libtorch's, outside the .NET heap.
/// </summary>
public static class MachineMemory
{
    private static readonly Lazy<long> Total = new(Read);

    public static long Bytes => Total.Value;

    private static long Read()
    {
        var machine = MemTotal() ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var container = Limit("/sys/fs/cgroup/memory.max") ?? Limit("/sys/fs/cgroup/memory/memory.limit_in_bytes");
        return container is > 0 && container < machine ? container.Value : machine;
    }

    private static long? MemTotal()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            var parts = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts is [_, var kb, "kB"] && long.TryParse(kb, out var value) ? value * 1024 : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; } // not Linux, or no /proc
    }

    /// <summary>A cgroup's limit in bytes; null for none ("max", or v1's huge "unlimited") or no such file.</summary>
    private static long? Limit(string path)
    {
        try { return File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), out var bytes) ? bytes : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
