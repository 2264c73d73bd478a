using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.TrainedModels;

namespace CharRnn.ModelServer.Jobs;

/// <summary>
/// The hold a RenameModel call takes on both of its names, as DeleteModel's takes on one: no job trains or starts from the
/// model while it moves (its checkpoints would be written into, or read from, a folder that is gone), and no job, import,
/// delete or other rename takes either name meanwhile.
/// </summary>
public sealed partial class JobQueue
{
    private readonly Dictionary<string, string> _renaming = new(StringComparer.Ordinal); // old name -> new name, under the lock

    /// <summary>
    /// Holds <paramref name="name"/> and <paramref name="newName"/> for a rename: FAILED_PRECONDITION while a job trains the model
    /// or starts from it (init_from), or another call deletes or renames it (or is renaming a model to or from the new name), or
    /// either name has a job that the start could not recover and whose failure could not be stored (its row names that model);
    /// ALREADY_EXISTS when a job or an import is making a model of the new name (in any case), or another model of it exists
    /// (the model itself may take its own name in another case).
    /// </summary>
    public IDisposable HoldForRename(string name, string newName, Caller caller)
    {
        lock (_gate)
        {
            if (ActiveFor(name) != null)
                throw ServerException.Precondition($"Model '{name}' is being trained by a job; stop the job first (StopJob), then rename it.", ("model", name));
            ThrowIfStartedFrom(name, caller, "rename");
            // The job's row names the model: renamed, the next start would recover the job at a name with no model, or another's.
            ThrowIfUnstoredFailure(name, "renaming this model");
            ThrowIfUnstoredFailure(newName, $"renaming a model to '{newName}'");
            if (_deleting.Contains(name))
                throw ServerException.Precondition($"Model '{name}' is being deleted by another call; once that call has returned, ListModels says whether it is still there to rename.", ("model", name));
            ThrowIfRenaming(name, "rename it once that call has returned");
            ThrowIfRenaming(newName, "choose another new_name, or retry once that call has returned");
            if (_deleting.Contains(newName))
                throw ServerException.Precondition($"A model named '{newName}' is being deleted; rename to it once DeleteModel has returned, or choose another new_name.", ("model", newName));
            ThrowIfJobMakes(newName, "another new_name");
            if (ImportingNamed(newName) is { } importing)
                throw ServerException.Exists($"An import (ImportModel) is making a model named '{importing}'{(importing == newName ? "" : ", and names may not differ only in case")}; choose another new_name.", ("model", importing));
            if (models.TakenName(newName, renamed: name) is { } taken) // checked before; a model may have been saved since
                throw ServerException.Exists(ModelNames.RenameTakenMessage(newName, taken, caller.Name), ("model", taken));
            _renaming[name] = newName;
        }
        return new RenameHold(this, name);
    }

    /// <summary>
    /// The ended jobs listed as training <paramref name="name"/> name <paramref name="newName"/>, once the model was renamed
    /// (the database's rows were renamed with it): ListJobs and GetJob name the model as it is now. Only the jobs whose rows
    /// were renamed: not those of an earlier model of that name, deleted since (the database marks them so). Called under
    /// the rename's hold, so no job of either name starts meanwhile.
    /// </summary>
    /// <param name="rowsNamed">The name the model's jobs' stored rows give it: <paramref name="newName"/>, or <paramref name="name"/>
    /// where the rename stands but the database could not record it (the next start renames them).</param>
    public void RenameEndedJobs(string name, string newName, string rowsNamed)
    {
        var renamed = database.JobIdsOfModel(rowsNamed); // read outside the lock, as ModelsOwnedBy reads the database
        lock (_gate)
            foreach (var job in _ended.Where(j => j.ModelName == name && renamed.Contains(j.Id)))
                job.ModelRenamed(newName);
    }

    /// <summary>
    /// FAILED_PRECONDITION when a rename is under way from <paramref name="name"/>, or to it (in any case), saying what to do
    /// <paramref name="then"/> (under the lock).
    /// </summary>
    private void ThrowIfRenaming(string name, string then)
    {
        foreach (var (from, to) in _renaming)
            if (from == name || string.Equals(to, name, StringComparison.OrdinalIgnoreCase))
                throw ServerException.Precondition($"Model '{from}' is being renamed to '{to}' (RenameModel); {then}.", ("model", from));
    }

    /// <summary>ALREADY_EXISTS when a job is making a model of <paramref name="name"/> (in any case), saying to choose <paramref name="instead"/> (under the lock).</summary>
    private void ThrowIfJobMakes(string name, string instead)
    {
        if (ActiveFor(name, StringComparison.OrdinalIgnoreCase) is not { } job) return;
        throw ServerException.Exists(job.ModelName == name
            ? $"A job is making a model named '{name}'; choose {instead}."
            : $"A job is making a model named '{job.ModelName}', and names may not differ only in case; choose {instead}.", ("model", job.ModelName));
    }

    private sealed class RenameHold(JobQueue queue, string name) : IDisposable
    {
        public void Dispose()
        {
            lock (queue._gate) queue._renaming.Remove(name);
        }
    }
}
