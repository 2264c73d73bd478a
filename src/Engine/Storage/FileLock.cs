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

    /// <summary>
    /// Holds a lock file of its own at <paramref name="path"/> (made if missing), removed as it is
    /// released; null when another holder has it.
    /// </summary>
    public static IDisposable? TryHoldRemovable(string path) => TryHold(path) is { } held ? new RemovableHold(held, path) : null;

    private sealed class RemovableHold(FileStream held, string path) : IDisposable
    {
        private bool _released;

        public void Dispose()
        {
            if (_released) return;
            _released = true;
            try { File.Delete(path); } // while still held: no other holder can have taken it in between
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            held.Dispose();
        }
    }

    /// <summary>How .NET reports a file held locked: a sharing violation on Windows, flock's EWOULDBLOCK (11 on Linux, 35 on macOS) elsewhere.</summary>
    public static bool IsHeldElsewhere(IOException e) =>
        e.HResult == unchecked((int)0x80070020) || (!OperatingSystem.IsWindows() && e.HResult == (OperatingSystem.IsMacOS() ? 35 : 11));
}
