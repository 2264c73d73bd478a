using System.Text.RegularExpressions;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Text;
using CharRnn.ModelServer.Errors;
using Trainer = CharRnn.Engine.Training.Trainer;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// Which checkpoint file of a model a request names: "best" (or nothing) for the one generation uses, "last" for where
/// training stands, "cycle-N" for the end of SGDR cycle N (keep_cycle_checkpoints). Names only, never paths: nothing
/// outside the model's folder can be reached, and a name that is not one of these is refused naming the ones there are.
/// </summary>
public static partial class CheckpointChoice
{
    public const string Best = "best";
    public const string Last = "last";

    [GeneratedRegex(@"^(best|last|cycle-[1-9][0-9]{0,5})$", RegexOptions.CultureInvariant)]
    private static partial Regex CheckpointName();

    /// <summary>The file in <paramref name="folder"/> that <paramref name="requested"/> names (".ckpt" may be given or left out).</summary>
    public static string PathIn(string folder, string model, string requested, string field)
    {
        var name = requested.EndsWith(CheckpointFile.Extension, StringComparison.Ordinal) ? requested[..^CheckpointFile.Extension.Length] : requested;
        if (name is "" or Best) return ModelFolder.CheckpointForGeneration(folder); // best.ckpt, or last.ckpt before any best
        if (!CheckpointName().IsMatch(name))
            throw ServerException.Invalid($"{field} '{Echo.Of(requested)}' is not a checkpoint name; use best (the default), last or cycle-N. Model '{model}' has {Listed(folder)}.", field);
        var path = Path.Combine(folder, name + CheckpointFile.Extension);
        if (!File.Exists(path))
            throw ServerException.NotFound($"Model '{model}' has no checkpoint '{name}'; it has {Listed(folder)}." +
                                           (name.StartsWith("cycle-", StringComparison.Ordinal) && !In(folder).Any(n => n.StartsWith("cycle-", StringComparison.Ordinal)) ? " Cycle checkpoints are kept by training with keep_cycle_checkpoints (an SGDR schedule)." : ""), what: ("model", model));
        return path;
    }

    /// <summary>The checkpoints a model folder holds, by the names a request gives them: "best, last, cycle-1".</summary>
    public static IReadOnlyList<string> In(string folder) =>
        Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*" + CheckpointFile.Extension)
                .Select(f => Path.GetFileNameWithoutExtension(f))
                .Where(n => CheckpointName().IsMatch(n))
                .OrderBy(n => n switch { Best => 0, Last => 1, _ => 2 })
                .ThenBy(n => n.Length).ThenBy(n => n, StringComparer.Ordinal) // cycle-2 before cycle-10
                .ToList()
            : [];

    private static string Listed(string folder) => In(folder) is { Count: > 0 } names ? string.Join(", ", names) : "no checkpoints";
}
