namespace CharRnn.Engine.Storage;

/// <summary>
/// Tells a fault of the disk (full, over quota, failing) from a problem with the path a user gave: the same
/// folder argument that names a missing place is a usage error (exit 2), while a full disk under a good path
/// is a failed run (exit 1), whichever step first hits it.
/// </summary>
public static class DiskFault
{
    // Linux's errno values, which .NET puts in an IOException's HResult on Unix.
    private const int EIO = 5, ENOSPC = 28, EDQUOT = 122;

    public static bool Is(Exception e) =>
        e is IOException io && !OperatingSystem.IsWindows() && io.HResult is EIO or ENOSPC or EDQUOT
        || e.Message.Contains("No space left on device", StringComparison.Ordinal)
        || e.Message.Contains("Disk quota exceeded", StringComparison.Ordinal);
}
