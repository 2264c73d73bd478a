using System.Globalization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// One checkpoint file in a model folder (best.ckpt, last.ckpt, cycle-N.ckpt): its size and where training stood
/// in it, or why it cannot be read (a damaged one is listed with its problem, as `models` lists a damaged model).
/// </summary>
public sealed record StoredCheckpoint(string File, long Bytes, CheckpointMetadata? Metadata, string? Error)
{
    /// <summary>The folder's checkpoints: best, last, then the cycles in their order (cycle-2 before cycle-10), then any other.</summary>
    public static IReadOnlyList<StoredCheckpoint> In(string folder) => Directory.Exists(folder)
        ? Directory.GetFiles(folder, "*" + CheckpointFile.Extension).Select(Path.GetFileName).OfType<string>()
            .Where(name => !name.StartsWith('.'))
            .OrderBy(Rank).ThenBy(CycleNumber).ThenBy(name => name, StringComparer.Ordinal)
            .Select(name => Read(Path.Combine(folder, name))).ToList()
        : [];

    private static StoredCheckpoint Read(string path)
    {
        long bytes;
        try { bytes = new FileInfo(path).Length; }
        catch (IOException) { bytes = 0; } // removed since it was listed
        try { return new StoredCheckpoint(Path.GetFileName(path), bytes, CheckpointMetadataCache.Read(path), null); }
        catch (CheckpointException e) { return new StoredCheckpoint(Path.GetFileName(path), bytes, null, e.Problem); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new StoredCheckpoint(Path.GetFileName(path), bytes, null, e.Message); }
    }

    private static int Rank(string name) => name switch
    {
        Trainer.BestCheckpoint => 0,
        Trainer.LastCheckpoint => 1,
        _ => CycleNumber(name) < int.MaxValue ? 2 : 3,
    };

    /// <summary>N of cycle-N.ckpt; int.MaxValue for any other name.</summary>
    private static int CycleNumber(string name) =>
        name.StartsWith("cycle-", StringComparison.Ordinal) && name.EndsWith(CheckpointFile.Extension, StringComparison.Ordinal)
        && int.TryParse(name["cycle-".Length..^CheckpointFile.Extension.Length], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n : int.MaxValue;
}
