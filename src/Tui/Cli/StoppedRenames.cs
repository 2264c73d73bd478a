using CharRnn.ModelServer.TrainedModels;

namespace CharRnn.Tui.Cli;

/// <summary>
/// Finishes the case-only renames (`charrnn rename tiny2 TINY2`) that a crash cut short between their two moves in a models
/// folder no server keeps, leaving the model at a hidden .renaming-… folder that no verb lists: its note names where it goes,
/// and `rename` and `models` move it on before they look. A folder a server keeps is left to that server's start, which
/// carries the owner's rows as well.
/// </summary>
public static class StoppedRenames
{
    public static void Finish(string root)
    {
        if (File.Exists(Path.Combine(root, "charrnn.lock"))) return;
        foreach (var note in RenameNote.In(root))
        {
            try
            {
                var names = RenameNote.Names(note);
                var stopped = note + RenameNote.StopSuffix;
                var wasCut = Directory.Exists(stopped);
                if (!RenameNote.FinishMove(root, note, names))
                {
                    Console.Error.WriteLine($"charrnn: warning: a rename of model {string.Join(" to ", names)} in {root} was cut short, and the model is in {stopped}: " +
                                            (names.Count == 2 ? $"'{names[1]}' is taken now; " : "") + "move that folder to a free name in the folder to have the model listed again.");
                    continue;
                }
                if (wasCut) Console.Error.WriteLine($"Finished renaming model {names[0]} to {names[1]} in {root}: a rename cut short had left it in {stopped}.");
                File.Delete(note);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) // held: a rename moving it now
            {
                Console.Error.WriteLine($"charrnn: warning: could not finish the rename noted in {note}: {e.Message}");
            }
        }
    }
}
