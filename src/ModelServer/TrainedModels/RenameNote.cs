using System.Text;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Storage;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// The note a rename writes in a models folder while it moves a model (.renaming-GUID: the old name and the new, a line
/// each), and the folder beside it (NOTE.folder) that a rename to the model's own name in another case moves through: what
/// finishes a rename that a stop or a crash cut short between its two moves (a server's start; `charrnn rename` and
/// `charrnn models` in a folder no server keeps).
/// </summary>
public static class RenameNote
{
    public const string Prefix = ".renaming-";

    /// <summary>What the folder a case-only rename moves through is called: its note's name and this.</summary>
    public const string StopSuffix = ".folder";

    /// <summary>Writes a new note in <paramref name="root"/> naming both names (atomically: a crash leaves it whole or none); returns its path.</summary>
    public static string Write(string root, string name, string newName)
    {
        var note = Path.Combine(root, $"{Prefix}{Guid.NewGuid():N}");
        AtomicFile.WriteAllBytes(note, Encoding.UTF8.GetBytes($"{name}\n{newName}\n"));
        return note;
    }

    /// <summary>The notes in <paramref name="root"/> (none when it does not exist).</summary>
    public static string[] In(string root) => Directory.Exists(root) ? Directory.GetFiles(root, Prefix + "*") : [];

    /// <summary>The names a note holds: names, never paths, so that a damaged note reaches nothing else.</summary>
    public static List<string> Names(string note) => File.ReadAllLines(note).Where(ModelNames.IsUsable).ToList();

    /// <summary>
    /// Moves the folder of a case-only rename cut short between its two moves (NOTE.folder) on to its new name, when that
    /// is free; true when no such folder is left. Held as <see cref="ModelFolder.MoveHeld"/> holds a model: ArgumentException
    /// while a rename still moving it (or a run writing into it) holds it.
    /// </summary>
    public static bool FinishMove(string root, string note, IReadOnlyList<string> names)
    {
        var stopped = note + StopSuffix;
        if (!Directory.Exists(stopped)) return true;
        if (names.Count != 2 || Path.Exists(Path.Combine(root, names[1]))) return false;
        ModelFolder.MoveHeld(stopped, Path.Combine(root, names[1]));
        return true;
    }
}
