namespace CharRnn.Engine.Storage;

/// <summary>
/// A lock between processes on a file, held by an open FileStream with FileShare.None (.NET takes
/// an flock for it on Unix): it goes with the process, even after kill -9.
/// </summary>
public static class FileLock
{
    /// <summary>Holds <paramref name="path"/>; null when another process (or another holder in this one) has it.</summary>
    public static FileStream? TryHold(string path, FileMode mode = FileMode.OpenOrCreate)
    {
        try { return new FileStream(path, mode, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException e) when (IsHeldElsewhere(e)) { return null; } // not a full disk, a read-only folder...
    }

    /// <summary>How .NET reports a file held locked: a sharing violation on Windows, flock's EWOULDBLOCK (11 on Linux, 35 on macOS) elsewhere.</summary>
    public static bool IsHeldElsewhere(IOException e) =>
        e.HResult == unchecked((int)0x80070020) || (!OperatingSystem.IsWindows() && e.HResult == (OperatingSystem.IsMacOS() ? 35 : 11));
}
