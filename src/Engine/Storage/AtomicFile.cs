namespace CharRnn.Engine.Storage;

/// <summary>Writes a file so that readers see the old content or the new, never a half-written one.</summary>
public static class AtomicFile
{
    private const string TempSuffix = ".tmp";

    public static void WriteAllBytes(string path, byte[] bytes)
    {
        Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Writes through a temp file in the same folder, flushes it to disk, then renames it over the target.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
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
