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
    /// <remarks>
    /// One that opened the file just before its last holder removed it gets the lock on the removed
    /// file, while a third takes a new one at the path: both would hold "the" lock. So a holder that
    /// finds its file gone lets go and tries again (at the new file, which the third holds).
    /// </remarks>
    public static IDisposable? TryHoldRemovable(string path)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (TryHold(path) is not { } held) return null;
            if (!IsRemoved(held)) return new RemovableHold(held, path);
            held.Dispose();
        }
        return null;
    }

    /// <summary>The open file is no longer at any path (Linux: its /proc link ends in " (deleted)"; elsewhere not known, so false).</summary>
    public static bool IsRemoved(FileStream stream)
    {
        if (!OperatingSystem.IsLinux()) return false;
        var link = LinkOf(stream);
        return link != null && link.EndsWith(" (deleted)", StringComparison.Ordinal);
    }

    private static string? LinkOf(FileStream stream) => new FileInfo($"/proc/self/fd/{stream.SafeFileHandle.DangerousGetHandle()}").LinkTarget;

    /// <summary>
    /// Where the open file is now (Linux: its /proc link; a folder renamed since takes it along), or
    /// null when it is at no path; elsewhere, <paramref name="openedAt"/>.
    /// </summary>
    private static string? PathNow(FileStream stream, string openedAt)
    {
        if (!OperatingSystem.IsLinux()) return openedAt;
        var link = LinkOf(stream);
        return link == null ? openedAt : link.EndsWith(" (deleted)", StringComparison.Ordinal) ? null : link;
    }

    private sealed class RemovableHold(FileStream held, string path) : IDisposable
    {
        private bool _released;

        public void Dispose()
        {
            if (_released) return;
            _released = true;
            // Its own file, while still held: no other holder can have taken it in between. Where it is now: after
            // its folder was renamed away (a model deleted), the old path may be another holder's new lock file.
            try { if (PathNow(held, path) is { } own) File.Delete(own); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            held.Dispose();
        }
    }

    /// <summary>How .NET reports a file held locked: a sharing violation on Windows, flock's EWOULDBLOCK (11 on Linux, 35 on macOS) elsewhere.</summary>
    public static bool IsHeldElsewhere(IOException e) =>
        e.HResult == unchecked((int)0x80070020) || (!OperatingSystem.IsWindows() && e.HResult == (OperatingSystem.IsMacOS() ? 35 : 11));
}
