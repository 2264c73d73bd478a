using System.Collections.Concurrent;

namespace CharRnn.Engine.Checkpoints;

/// <summary>
/// Checkpoint metadata for listings, read once per version of a file. Reading it means reading and
/// hashing the whole file (last.ckpt holds Adam's state too: about 3× the weights, over 1 GB for a
/// large LSTM), and a server lists its models for every client every few seconds. A file is read
/// again when its length or write time changes (a checkpoint is replaced by a rename, so a new
/// version is a new file, with its own write time); a damaged one keeps its error until then.
/// </summary>
public static class CheckpointMetadataCache
{
    private const int MaxEntries = 4096; // distinct paths; a server with more models reads some again

    private static readonly ConcurrentDictionary<string, (long Length, DateTime Written, CheckpointMetadata? Metadata, CheckpointException? Error)> Entries =
        new(StringComparer.Ordinal);

    /// <summary>As <see cref="CheckpointFile.ReadMetadata"/>, from the cache while the file is unchanged.</summary>
    public static CheckpointMetadata Read(string path)
    {
        var full = Path.GetFullPath(path);
        var file = new FileInfo(full);
        if (!file.Exists) return CheckpointFile.ReadMetadata(full); // its own error
        var (length, written) = (file.Length, file.LastWriteTimeUtc);
        // A file written in the last moments is read again: on a file system whose times step by a second or
        // two, a second save of the same size in that step would look unchanged.
        var settled = DateTime.UtcNow - written > TimeSpan.FromSeconds(3);
        if (settled && Entries.TryGetValue(full, out var known) && known.Length == length && known.Written == written)
            return known.Metadata ?? throw known.Error!;
        try
        {
            var metadata = CheckpointFile.ReadMetadata(full);
            // Only once settled: an entry read within the window could be trusted later for a same-size rewrite in the same time step.
            if (settled) Remember(full, (length, written, metadata, null));
            return metadata;
        }
        catch (CheckpointException e)
        {
            if (settled) Remember(full, (length, written, null, e));
            throw;
        }
    }

    private static void Remember(string path, (long, DateTime, CheckpointMetadata?, CheckpointException?) entry)
    {
        if (Entries.Count >= MaxEntries) Entries.Clear();
        Entries[path] = entry;
    }
}
