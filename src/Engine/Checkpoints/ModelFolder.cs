namespace CharRnn.Engine.Checkpoints;

/// <summary>One model folder found under a models root, with its metadata or why it cannot be read.</summary>
public sealed record ModelListing(string Name, string Folder, string? CheckpointPath, CheckpointMetadata? Metadata, string? Error, long Bytes);

/// <summary>
/// A trained model is a folder: last.ckpt (the full state, for resuming) and best.ckpt (the
/// state at the best validation loss). Generation uses best.ckpt when it exists.
/// </summary>
public static class ModelFolder
{
    /// <summary>The checkpoint to generate from: a .ckpt file as given, else the folder's best, else its last.</summary>
    public static string CheckpointForGeneration(string path)
    {
        if (File.Exists(path)) return path;
        if (Directory.Exists(path))
        {
            foreach (var name in new[] { Training.Trainer.BestCheckpoint, Training.Trainer.LastCheckpoint })
                if (File.Exists(Path.Combine(path, name))) return Path.Combine(path, name);
            throw new CheckpointException(path, "the folder holds no best.ckpt or last.ckpt");
        }
        throw new CheckpointException(path, "no such model folder or checkpoint file");
    }

    /// <summary>The checkpoint to resume from: a .ckpt file as given, else the folder's last.ckpt.</summary>
    public static string CheckpointForResume(string path)
    {
        if (File.Exists(path)) return path;
        var last = Path.Combine(path, Training.Trainer.LastCheckpoint);
        if (File.Exists(last)) return last;
        throw new CheckpointException(Directory.Exists(path) ? last : path,
            Directory.Exists(path) ? "the model folder holds no last.ckpt to resume from" : "no such model folder or checkpoint file");
    }

    public static bool HoldsModel(string folder) =>
        File.Exists(Path.Combine(folder, Training.Trainer.LastCheckpoint)) || File.Exists(Path.Combine(folder, Training.Trainer.BestCheckpoint));

    /// <summary>Every model folder directly under <paramref name="root"/>; unreadable ones are listed with their error, not skipped silently.</summary>
    public static IReadOnlyList<ModelListing> List(string root)
    {
        if (!Directory.Exists(root)) return [];
        var result = new List<ModelListing>();
        foreach (var folder in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            if (!HoldsModel(folder)) continue;
            var name = Path.GetFileName(folder);
            var bytes = Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);
            var path = CheckpointForGeneration(folder);
            try
            {
                result.Add(new ModelListing(name, folder, path, CheckpointFile.ReadMetadata(path), null, bytes));
            }
            catch (CheckpointException e)
            {
                result.Add(new ModelListing(name, folder, path, null, e.Message, bytes));
            }
        }
        return result;
    }
}
