namespace CharRnn.Engine.Storage;

/// <summary>Writes a file so that readers see the old content or the new, never a half-written one.</summary>
public static class AtomicFile
{
    private const string TempSuffix = ".tmp";

    /// <summary>
    /// The file a write to a user-named <paramref name="path"/> is for, made absolute: where it is a symbolic link (or a chain of
    /// them), the final target, there or not, as cp and a shell's &gt; write through a link; else the path itself. Writing there
    /// keeps the link, which <see cref="Write"/>'s rename over the path would replace with a plain file. Not for the files a
    /// store keeps (checkpoints, keys): a link there is not the user's choice of file to write.
    /// </summary>
    public static string ThroughLink(string path)
    {
        var full = Path.GetFullPath(path);
        return new FileInfo(full).LinkTarget == null ? full : File.ResolveLinkTarget(full, returnFinalTarget: true)!.FullName;
    }

    public static void WriteAllBytes(string path, byte[] bytes)
    {
        Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Writes through a temp file in the same folder, flushes it to disk, then renames it over the target.</summary>
    /// <param name="createMode">
    /// The mode the temp file is created with (Unix), for a file others must not read even for a moment (the keys
    /// file): made with the default mode (0644 under umask 022), it was open to every local user until tightened.
    /// </param>
    public static void Write(string path, Action<Stream> write, UnixFileMode? createMode = null) =>
        // The delegate runs synchronously, so the task is complete when WriteAsync returns: no thread waits on another.
        WriteAsync(path, stream =>
        {
            write(stream);
            return Task.CompletedTask;
        }, createMode).GetAwaiter().GetResult();

    /// <summary>
    /// <see cref="Write"/> for content that arrives over time (an upload's stream): the target is replaced only
    /// when <paramref name="write"/> completes; when it throws (or is cancelled), the temp file is deleted and the
    /// target stays as it was.
    /// </summary>
    public static async Task WriteAsync(string path, Func<Stream, Task> write, UnixFileMode? createMode = null)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        var newDirectory = !Directory.Exists(directory);
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16 };
            if (createMode is { } mode && !OperatingSystem.IsWindows()) options.UnixCreateMode = mode;
            using (var stream = new FileStream(temp, options))
            {
                await write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
            // The rename lives in the folder's entries: flushed too, so that after a power cut the file is
            // the new one (or, just created, there at all) before anything that counts on it is stored.
            FlushDirectory(directory);
            if (newDirectory) FlushDirectory(Path.GetDirectoryName(directory));
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>fsync of a folder (Linux and macOS; Windows commits renames with the file system's journal).</summary>
    private static void FlushDirectory(string? directory)
    {
        if (directory == null || OperatingSystem.IsWindows()) return;
        var fd = Native.open(directory, Native.O_RDONLY | Native.O_CLOEXEC); // a folder opens read-only like a file
        if (fd < 0) return; // not fatal: the data itself is on disk
        try { Native.fsync(fd); }
        finally { Native.close(fd); }
    }

    private static class Native
    {
        public const int O_RDONLY = 0;
        public const int O_CLOEXEC = 0x80000; // Linux, x86-64 and arm64 alike

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        public static extern int open([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int flags);

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [System.Runtime.InteropServices.DllImport("libc")]
        public static extern int close(int fd);
    }

    /// <summary>
    /// Deletes temp files that writes to <paramref name="fileName"/> in <paramref name="directory"/> left
    /// behind when the process died mid-write (kill -9, power loss). Only for a folder no one else is
    /// writing to at the time.
    /// </summary>
    public static void DeleteLeftovers(string directory, string fileName)
    {
        if (!Directory.Exists(directory)) return;
        foreach (var leftover in Directory.EnumerateFiles(directory, $".{fileName}.*{TempSuffix}"))
            File.Delete(leftover);
    }
}
