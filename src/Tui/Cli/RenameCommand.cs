using System.CommandLine;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Text;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Persistence;
using CharRnn.ModelServer.TrainedModels;
using CharRnn.Tui.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn rename: a model in a models folder under a new name, its folder renamed in one move (the server's RenameModel,
/// for a folder no server is using). Refused while a train or resume writes into the model (its .train.lock); in a folder
/// a server keeps (charrnn.lock), while that server runs, and while a job it will resume trains or starts from the model;
/// there the owner's row goes with the model, as the server's own rename carries it.
/// </summary>
public static class RenameCommand
{
    public static Command Create()
    {
        var old = new Argument<string>("model") { Description = "The model's name: its folder in --models." }.RefusingFlags().NotEmpty("the model's name");
        var renamed = new Argument<string>("new-name") { Description = $"Its new name: {ModelNames.Rule}." }.RefusingFlags().NotEmpty("the model's new name");
        var models = CommonOptions.ModelsDir();
        var command = new Command("rename", "Give a model in --models a new name (its folder's): it lists, generates, resumes and exports under the new name only.")
        {
            old, renamed, models,
        };
        command.SetAction(parse =>
        {
            var (name, newName, root) = (parse.GetValue(old)!, parse.GetValue(renamed)!, parse.GetValue(models)!);
            Rename(name, newName, root);
            Console.WriteLine($"Renamed model {name} to {newName} in {root}: {Path.Combine(root, newName)}.");
            return 0;
        });
        return command;
    }

    private static void Rename(string name, string newName, string root)
    {
        if (File.Exists(root)) throw new ArgumentException($"--models '{root}' is a file; give the folder that holds model folders.");
        StoppedRenames.Finish(root); // the model asked for may be one a crash left half renamed
        // A name, not a path: the folder's own name ("my model", made by train --out, may be renamed to one the server takes).
        var folder = Path.Combine(root, name);
        if (name != Path.GetFileName(name) || name is "." or ".." || name.StartsWith('.') || !ModelFolder.HoldsModel(folder))
        {
            var names = Directory.Exists(root) ? ModelFolder.List(root).Select(m => m.Name) : [];
            throw new ArgumentException($"No model '{name}' in --models '{root}' (charrnn models --models {root} lists them).{ClosestName.Suggestion(name, names)}");
        }
        TrainCommand.CheckNewName(newName, "The new name");
        if (newName == name) throw new ArgumentException($"The new name '{newName}' is the model's name already; give the name it should have.");
        if (ModelNames.Taken(root, newName, renamed: name) is { } taken)
            throw new ArgumentException(ErrorText.NewNameInProse(ModelNames.RenameTakenMessage(newName, taken)));
        TrainCommand.CheckWritableFolder(root, "--models"); // its lock file and the move need it: said as train says it, not as the lock file
        // A folder a server keeps: its database (held while open, so no server starts meanwhile) carries the owner's row.
        using var database = File.Exists(Path.Combine(root, "charrnn.lock")) ? OpenServersDatabase(root, name, newName) : null;
        if (database?.UnfinishedJobs().FirstOrDefault(j => j.ModelName == name || j.ModelName == newName || j.Plan.InitFromModel == name) is { } job)
            throw new ArgumentException($"Job {job.Id} ({job.State}, model '{job.ModelName}') of the server that keeps {root} " +
                                        (job.ModelName == newName ? $"makes a model named '{newName}'" : job.ModelName == name ? $"trains '{name}'" : $"starts from '{name}' (init_from)") +
                                        "; it goes on at that server's next start: rename through the server once it has ended, or stop it there.");
        if (database == null || !ModelNames.IsUsable(name))
        {
            var target = Path.Combine(root, newName);
            // Its own name in another case: on a case-insensitive file system the target is the folder itself, so it moves through another.
            if (!string.Equals(name, newName, StringComparison.OrdinalIgnoreCase))
            {
                if (Directory.Exists(target) && !Directory.EnumerateFileSystemEntries(target).Any()) Directory.Delete(target); // no model: a train stopped before its first save
                else if (Path.Exists(target)) throw new ArgumentException($"--models '{root}' has '{newName}' already, with no model in it; remove it or choose another new name.");
                ModelFolder.MoveHeld(folder, target); // ArgumentException while a train or resume holds it
                return;
            }
            // Two moves: the note says where the hidden folder between them goes, for StoppedRenames (or a server's start) after a crash.
            var note = RenameNote.Write(root, name, newName);
            try { ModelFolder.MoveHeld(folder, target, via: note + RenameNote.StopSuffix); }
            finally
            {
                if (!Directory.Exists(note + RenameNote.StopSuffix)) File.Delete(note); // at one name or the other
            }
            return;
        }
        try { new ModelStore(Options.Create(new ServerOptions { ModelsDirectory = root }), database, NullLogger<ModelStore>.Instance).Rename(name, newName, "charrnn rename"); }
        catch (ServerException e) { throw new ArgumentException(ErrorText.NewNameInProse(e.Message)); }
    }

    /// <summary>The database of the server that keeps <paramref name="root"/>; refused while that server (or a train or
    /// resume into the folder) runs, naming the rename to make through the server instead.</summary>
    private static ServerDatabase OpenServersDatabase(string root, string name, string newName)
    {
        try { return new ServerDatabase(Options.Create(new ServerOptions { ModelsDirectory = root })); }
        catch (ModelsFolderInUseException e)
        {
            throw new ArgumentException($"Another charrnn process is using the models folder {e.Folder} (it holds {e.LockPath}): a server, " +
                                        $"or a charrnn train/resume into it. Rename through the server: rename {name} {newName} at its prompt, or " +
                                        $"charrnn --server HOST:PORT --exec \"rename {name} {newName}\"; or wait for the train or resume to end.");
        }
    }
}
