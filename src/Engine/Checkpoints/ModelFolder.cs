using CharRnn.Engine.Storage;

namespace CharRnn.Engine.Checkpoints;

/// <summary>
/// One model folder found under a models root, with its metadata or why it cannot be read; <paramref name="Warning"/>
/// says what is wrong with a model that can still be used (a damaged last.ckpt beside an intact best.ckpt, or the reverse);
/// <paramref name="Damaged"/>, that its <paramref name="Error"/> is a checkpoint damaged on disk (truncated, corrupted), not a file that is no checkpoint.
/// <paramref name="CheckpointPath"/> is the file generation uses: null when there is an <paramref name="Error"/>, as none can be used.
/// </summary>
public sealed record ModelListing(string Name, string Folder, string? CheckpointPath, CheckpointMetadata? Metadata, string? Error, long Bytes, string? Warning = null,
    bool Damaged = false);

/// <summary>
/// A trained model is a folder: last.ckpt (the full state, for resuming) and best.ckpt (the
/// state at the best validation loss). Generation uses best.ckpt when it exists.
/// </summary>
public static class ModelFolder
{
    /// <summary>The text a server job was given as an upload, kept beside its checkpoints for resuming.</summary>
    public const string UploadedCorpusFile = "corpus.txt";

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
            Directory.Exists(path) ? "the model folder holds no last.ckpt to resume from" + ResumeFromBestHint(path) : "no such model folder or checkpoint file");
    }

    /// <summary>
    /// "; its best.ckpt is intact: …" when the folder's best.ckpt reads, for a last.ckpt that is missing or
    /// damaged: training can go on from the best weights, with their optimizer state, once copied into place.
    /// </summary>
    public static string ResumeFromBestHint(string folder)
    {
        var best = Path.Combine(folder, Training.Trainer.BestCheckpoint);
        if (!File.Exists(best)) return "";
        try { CheckpointFile.ReadMetadata(best); }
        catch (CheckpointException) { return ""; }
        return $"; its best.ckpt is intact: to resume from it, copy it to last.ckpt (cp '{best}' '{Path.Combine(folder, Training.Trainer.LastCheckpoint)}')";
    }

    /// <summary>Held in a model folder by the run training into it (charrnn train or resume).</summary>
    public const string TrainingLockFile = ".train.lock";

    /// <summary>
    /// Held while a run trains into <paramref name="folder"/> (made if missing): a second run into it
    /// (two `charrnn train` into the default folder, a resume beside a train) is refused here, before
    /// it overwrites the first's checkpoints. Releasing it removes the lock file.
    /// </summary>
    public static IDisposable HoldForTraining(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, TrainingLockFile);
        return FileLock.TryHoldRemovable(path)
            ?? throw new ArgumentException($"Another charrnn train or resume is writing to '{folder}' (it holds {path}); wait for it to end or stop it, or train into another folder.");
    }

    /// <summary>
    /// Moves the model folder <paramref name="folder"/> to <paramref name="target"/> (a rename within one models folder:
    /// the model is at one name or the other, never half of each), holding its training lock meanwhile, so that no
    /// run (charrnn train or resume, a server's job) is writing into it: ArgumentException, as <see cref="HoldForTraining"/>
    /// says, while one is; IOException when <paramref name="target"/> exists. With <paramref name="via"/> it moves there first,
    /// then on: a name that differs only in case is the folder itself on a case-insensitive file system, so one move cannot
    /// rename it there; a failed second move moves it back.
    /// </summary>
    public static void MoveHeld(string folder, string target, string? via = null)
    {
        using var writing = HoldForTraining(folder); // released at the folder's new place: the lock file goes with it
        if (via == null)
        {
            Directory.Move(folder, target);
            return;
        }
        Directory.Move(folder, via);
        try { Directory.Move(via, target); }
        catch
        {
            Directory.Move(via, folder);
            throw;
        }
    }

    private const string WriteCheckPrefix = ".write-check-";

    /// <summary>
    /// The empty file `charrnn train` writes into its folder, and deletes, to find out before it trains that it can
    /// write there; named by the process that writes it.
    /// </summary>
    public static string WriteCheckFile(int processId) => WriteCheckPrefix + processId;

    /// <summary>
    /// Deletes the write checks (<see cref="WriteCheckFile"/>) that a run killed between writing and deleting one
    /// (kill -9) left in <paramref name="folder"/>: only empty ones whose process is gone. One that cannot be
    /// deleted stays, as a leftover never stops a run.
    /// </summary>
    public static void DeleteStaleWriteChecks(string folder)
    {
        if (!Directory.Exists(folder)) return;
        foreach (var file in Directory.EnumerateFiles(folder, WriteCheckPrefix + "*"))
        {
            if (!int.TryParse(Path.GetFileName(file)[WriteCheckPrefix.Length..], System.Globalization.NumberStyles.None, null, out var processId)
                || IsRunning(processId)) continue;
            try
            {
                if (new FileInfo(file).Length == 0) File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    private static bool IsRunning(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return false; } // no such process
    }

    public static bool HoldsModel(string folder) =>
        File.Exists(Path.Combine(folder, Training.Trainer.LastCheckpoint)) || File.Exists(Path.Combine(folder, Training.Trainer.BestCheckpoint));

    /// <summary>Every model folder directly under <paramref name="root"/>; unreadable ones are listed with their error, not skipped silently.</summary>
    public static IReadOnlyList<ModelListing> List(string root)
    {
        if (!Directory.Exists(root)) return [];
        // Dot-folders are not models: a delete in progress (or cut short) moves the folder to .deleting-NAME-….
        return Directory.GetDirectories(root).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal)
            .Where(HoldsModel).Select(DescribeUnlessGone).OfType<ModelListing>().ToList();
    }

    /// <summary>
    /// A folder deleted while the listing runs (a delete renames it away) is left out, not an error for the lister;
    /// one that cannot be read (its permissions, a disk error) is listed with why, not the end of the listing.
    /// </summary>
    private static ModelListing? DescribeUnlessGone(string folder)
    {
        try { return Describe(folder); }
        catch (Exception e) when (e is DirectoryNotFoundException or CheckpointException && !HoldsModel(folder)) { return null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ModelListing(Path.GetFileName(folder), folder, null, null, e.Message, 0);
        }
    }

    /// <summary>
    /// A model folder as listed: where training stands (last.ckpt's metadata: its epochs, history and
    /// options are what a resume continues, while best.ckpt may be epochs older), the checkpoint
    /// generation uses (last.ckpt when best.ckpt is damaged), or why the folder cannot be read.
    /// </summary>
    public static ModelListing Describe(string folder)
    {
        var name = Path.GetFileName(folder);
        var path = CheckpointForGeneration(folder);
        var last = Path.Combine(folder, Training.Trainer.LastCheckpoint);
        var bytes = Bytes(folder);
        CheckpointMetadata metadata;
        try
        {
            metadata = CheckpointMetadataCache.Read(File.Exists(last) ? last : path);
        }
        catch (CheckpointException e) when (path != last && File.Exists(last))
        {
            // A damaged last.ckpt still leaves a model to generate from; the listing says so before a resume finds out.
            try
            {
                // Without the file's path (a server shows this to callers who must not learn its folders, and redacts
                // any path an IO error put in the problem).
                return new ModelListing(name, folder, path, CheckpointMetadataCache.Read(path), null, bytes,
                    $"last.ckpt cannot be loaded ({e.Problem}), so it cannot be resumed; generation uses best.ckpt, which is intact: " +
                    "to resume from it, copy it to last.ckpt");
            }
            catch (CheckpointException best)
            {
                // Neither file can be used: no checkpoint for generation (a script reading generation_checkpoint would
                // load a file that fails), and the error names both, as the plain listing prints it.
                return new ModelListing(name, folder, null, null,
                    $"{e.Message.TrimEnd('.')}; and best.ckpt cannot be loaded either ({best.Problem}): no checkpoint of this model can be used.",
                    bytes, Damaged: e.Damaged); // as before: the exit code follows last.ckpt's fault, the one named first
            }
        }
        catch (CheckpointException e)
        {
            return new ModelListing(name, folder, null, null, e.Message, bytes, Damaged: e.Damaged);
        }
        if (path == last || !File.Exists(last)) return new ModelListing(name, folder, path, metadata, null, bytes);
        try
        {
            CheckpointMetadataCache.Read(path);
            return new ModelListing(name, folder, path, metadata, null, bytes);
        }
        catch (CheckpointException e)
        {
            // A damaged best.ckpt beside an intact last.ckpt: generation falls back to last.ckpt (as a server's loading
            // does), so the listing names that file and says why, rather than promising the best epoch's weights.
            return new ModelListing(name, folder, last, metadata, null, bytes,
                $"best.ckpt cannot be loaded ({e.Problem}); generation uses last.ckpt, which is intact, until an epoch beats the best " +
                "validation loss and writes best.ckpt again (or copy last.ckpt to best.ckpt)");
        }
    }

    /// <summary>The folder's files, without the temporary ones a checkpoint being written leaves for a moment.</summary>
    private static long Bytes(string folder)
    {
        long total = 0;
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles())
        {
            if (file.Name.StartsWith('.')) continue;
            try { total += file.Length; }
            catch (FileNotFoundException) { } // renamed away since it was listed
        }
        return total;
    }
}
