namespace CharRnn.Engine.Runtime;

/// <summary>
/// The memory this process may use: the machine's (MemTotal), or the lowest memory limit of the
/// cgroups it runs in, from its own up to the root (a container's limit, or a systemd unit's
/// MemoryMax=). Not GC.GetGCMemoryInfo's TotalAvailableMemoryBytes: in a container that is .NET's
/// heap limit, 75% of the container's, and a training job's memory is mostly libtorch's, outside
/// the .NET heap.
/// </summary>
public static class MachineMemory
{
    private static readonly Lazy<long> Total = new(() => Read("/proc", "/sys/fs/cgroup") ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    public static long Bytes => Total.Value;

    /// <summary>From a /proc and a cgroup file system mounted at these roots; null where there is no /proc/meminfo.</summary>
    public static long? Read(string proc, string cgroupRoot)
    {
        var machine = MemTotal(Path.Combine(proc, "meminfo"));
        if (machine == null) return null;
        var limit = CgroupLimits(Path.Combine(proc, "self", "cgroup"), cgroupRoot).Where(l => l > 0).DefaultIfEmpty(long.MaxValue).Min();
        return Math.Min(machine.Value, limit);
    }

    private static long? MemTotal(string meminfo)
    {
        var line = ReadLines(meminfo).FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var parts = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts is [_, var kb, "kB"] && long.TryParse(kb, out var value) ? value * 1024 : null;
    }

    /// <summary>
    /// The limits of this process's cgroups and their parents: v2 ("0::/path", memory.max) and v1
    /// ("N:memory:/path", memory.limit_in_bytes). "max", v1's huge "unlimited" and missing files are none.
    /// </summary>
    private static IEnumerable<long> CgroupLimits(string selfCgroup, string root)
    {
        foreach (var line in ReadLines(selfCgroup))
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3) continue;
            var (folder, file) = parts[1] == "" ? (root, "memory.max")
                : parts[1].Split(',').Contains("memory") ? (Path.Combine(root, "memory"), "memory.limit_in_bytes")
                : (null, null);
            if (folder == null) continue;
            for (var path = parts[2].Trim('/'); ; path = Path.GetDirectoryName(path) ?? "")
            {
                if (ReadNumber(Path.Combine(folder, path, file!)) is { } limit) yield return limit;
                if (path == "") break;
            }
        }
    }

    private static long? ReadNumber(string path)
    {
        var text = ReadLines(path).FirstOrDefault()?.Trim();
        return long.TryParse(text, out var value) ? value : null;
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        try { return File.Exists(path) ? File.ReadAllLines(path) : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; } // not Linux, or not readable
    }
}
