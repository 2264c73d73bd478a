using CharRnn.Engine.Checkpoints;
using CharRnn.ModelServer.Errors;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// RenameModel's part in the models folder: the folder renamed in one move, its owner row carried to the new name, and a
/// note in the models folder (<see cref="RenameNote"/>: the two names) while both change, so that a start after a stop in between
/// leaves the model at one name with its own row, as it would have been before or after. A model renamed to its own name in
/// another case moves in two steps, through a folder beside the note (NOTE.folder), since on a case-insensitive file system the
/// folder at its new name is the folder itself; a stop between them is finished at the next start (the folder moved on) where
/// the new name is free then, and kept as it is (note, rows and folder) until a start finds it free.
/// </summary>
public sealed partial class ModelStore
{
    // Each rename: the model at (name, incarnation) went to (new name, its incarnation then). A rename makes its old name's
    // next incarnation, so following the entries never loops.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Name, int Incarnation), (string Name, int Incarnation)> _renamed = new();

    /// <summary>
    /// The name the model loaded as <paramref name="model"/> is at now, after the renames since it was loaded (since the server
    /// started), or null: not renamed, or renamed and then deleted. A session open on it says so when it cannot be forked.
    /// </summary>
    public string? RenamedTo(LoadedModel model)
    {
        var at = (model.Name, model.Incarnation);
        if (!_renamed.TryGetValue(at, out at)) return null;
        while (_renamed.TryGetValue(at, out var next)) at = next;
        return Exists(at.Name) && Incarnation(at.Name) == at.Incarnation ? at.Name : null;
    }

    /// <summary>
    /// Renames model <paramref name="name"/> to <paramref name="newName"/>: its row is copied to the new name, the folder
    /// moved (a rename within the models folder), then the old row forgotten, so that the folder has its owner's row at
    /// every moment (never a moment ownerless, which every key could read; between the two moves of a case-only rename it is at
    /// a hidden name no key can reach). ALREADY_EXISTS when the new name (in any case) is taken by another model;
    /// FAILED_PRECONDITION while a `charrnn train` or resume writes into the folder.
    /// </summary>
    /// <param name="by">The key name that asked, for the log.</param>
    /// <returns>Whether the database recorded the rename (its jobs' rows renamed too); false where it stands unrecorded until the next start.</returns>
    public bool Rename(string name, string newName, string by)
    {
        var folder = FolderOf(name);
        if (!Directory.Exists(folder) || !NamedExactly(name))
            throw NoModel(name);
        if (TakenName(newName, renamed: name) is { } taken)
            throw ServerException.Exists(ModelNames.RenameTakenMessage(newName, taken, by), ("model", taken));
        // An earlier rename to or from either name that stands unrecorded: recorded first, or its rows would be taken for another model's.
        RecordUnrecorded(name);
        RecordUnrecorded(newName);
        var target = FolderOf(newName);
        // Its own name in another case: on a case-insensitive file system the target is the folder itself.
        var caseOnly = string.Equals(name, newName, StringComparison.OrdinalIgnoreCase);
        // A folder a job stopped before its first checkpoint left empty is no model (as StoreImported); one with files in it is left alone.
        if (!caseOnly && Directory.Exists(target) && !ModelFolder.HoldsModel(target) && !Directory.EnumerateFileSystemEntries(target).Any())
            Directory.Delete(target);
        var note = RenameNote.Write(Root, name, newName);
        try
        {
            _database.CopyModel(name, newName);
            ModelFolder.MoveHeld(folder, target, via: caseOnly ? note + RenameNote.StopSuffix : null);
        }
        catch (Exception e) when (caseOnly && Directory.Exists(note + RenameNote.StopSuffix))
        {
            // Neither move back nor on: the note and both rows stay, and the next start moves the folder on (FinishRenames).
            _logger.LogError(e, "Model {Model} could not be renamed to {NewName} and is at {Folder} until the server's next start finishes the rename", name, newName, note + RenameNote.StopSuffix);
            if (StorageRefusal.For(e, "RenameModel", HeldUntilNextStart(name, newName)) is { } refusal) throw refusal;
            throw;
        }
        catch (Exception e)
        {
            ForgetCopiedRow(name, newName, note); // the model stays where it was, with its row
            if (e is ArgumentException) throw ServerException.Precondition($"Model '{name}' cannot be renamed now: {e.Message}", ("model", name));
            if (e is IOException && !caseOnly && Directory.Exists(target))
                throw ServerException.Exists(ModelFolder.HoldsModel(target)
                    ? ModelNames.RenameTakenMessage(newName, newName, by) // made outside the server meanwhile (charrnn train)
                    : $"The models folder has a folder '{newName}' with files in it but no model (its server operator may remove it); choose another new_name.", ("model", newName));
            throw;
        }
        var recorded = true;
        try { _database.FinishModelRename(name, newName); } // the old row gone and its jobs renamed at once
        catch (Exception e)
        {
            // Refused as the write the disk refused (DISK_FULL, ...), the model back where it was: nothing done, as the refusal says.
            if (MovedBack(name, newName, note, caseOnly)) throw;
            if (caseOnly && Directory.Exists(note + RenameNote.StopSuffix))
            {
                // Between its two moves, as a stop there leaves it: the note and both rows stay, and the next start moves it on.
                _logger.LogError("Model {Model} is at {Folder} until the server's next start finishes its rename to {NewName}", name, note + RenameNote.StopSuffix, newName);
                if (StorageRefusal.For(e, "RenameModel", HeldUntilNextStart(name, newName)) is { } refusal) throw refusal;
                throw;
            }
            _logger.LogError("Model {Model} stays renamed to {NewName}; the server's next start finishes recording the rename", name, newName);
            recorded = false; // it stands; the note stays for the next start, or a later call on either name records it
            LeftUnrecorded(name, newName, () =>
            {
                _database.FinishModelRename(name, newName);
                File.Delete(note);
            });
        }
        _renamed[(name, Incarnation(name))] = (newName, Incarnation(newName));
        _deletions.AddOrUpdate(name, 1, (_, n) => n + 1); // a model made later under the old name is another one
        if (recorded) File.Delete(note);
        _logger.LogInformation("Model {Model} renamed to {NewName} by {Key}; sessions open on it keep working", name, newName, by);
        return recorded;
    }

    /// <summary>What a refused rename caught between a case-only rename's two moves leaves: not "nothing changed".</summary>
    private static StorageRefusal.PartDone HeldUntilNextStart(string name, string newName) =>
        new($"Model '{name}' is out of every listing, between its two moves, until the server's next start finishes its rename to '{newName}'.",
            $"a rename finds no model '{name}' now", NextStart: true);

    /// <summary>
    /// A rename whose last database write failed (a full disk) after its folder moved: the folder goes back to
    /// <paramref name="name"/>, which kept its row, so the model is listed as before the call, and the new name's copied row
    /// and the note go (<see cref="ForgetCopiedRow"/>); true then. False where the folder cannot go back: at <paramref name="newName"/>
    /// with its owner's row there, the rename stands (the call succeeds), and the note stays for the next start to forget the old row
    /// and rename its jobs (FinishRenames), as after a stop at that moment; a case-only one's between its two moves is moved on then.
    /// </summary>
    private bool MovedBack(string name, string newName, string note, bool caseOnly)
    {
        var (folder, back, via) = (FolderOf(newName), FolderOf(name), caseOnly ? note + RenameNote.StopSuffix : null);
        try { MoveBack(folder, back, via, () => ModelFolder.MoveHeld(folder, back, via)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            _logger.LogError(e, "Model {Model} was renamed to {NewName}, but the database could not record it, nor could the folder move back", name, newName);
            return false;
        }
        ForgetCopiedRow(name, newName, note);
        return true;
    }

    /// <summary>
    /// A rename that did not happen forgets the row <see cref="ServerDatabase.CopyModel"/> gave <paramref name="newName"/>, then
    /// its note; where the disk refuses that too, both stay (a row naming no model, which every later model of that name replaces),
    /// and the next start forgets the row (FinishRenames), so that the call's own refusal is the one its caller gets.
    /// </summary>
    private void ForgetCopiedRow(string name, string newName, string note)
    {
        try
        {
            _database.ForgetModel(newName);
            File.Delete(note);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Data.Common.DbException)
        {
            _logger.LogWarning("Model {Model} was not renamed to {NewName}, and the copy of its owner's row could not be forgotten yet ({Reason}); the next start does", name, newName, e.Message);
        }
    }

    /// <summary>
    /// At the start: finishes or undoes the renames a stop cut short. The folder is at one name or the other (one move); the
    /// row of the name without it, if any, is forgotten, so the model keeps its owner and no row is left naming no model.
    /// </summary>
    private void FinishRenames()
    {
        foreach (var note in RenameNote.In(Root))
        {
            try
            {
                var names = RenameNote.Names(note);
                // A case-only rename stopped between its two moves: the folder goes on to its new name (both rows are there still).
                if (!RenameNote.FinishMove(Root, note, names))
                {
                    // Its new name taken meanwhile (a charrnn train outside the server), or the note damaged: the note and both rows
                    // stay with the hidden folder, which would be lost to every listing without them, and a later start finishes it.
                    _logger.LogWarning("A rename of model {Model} to {NewName} was cut short by the server's stop, and its folder {Folder} cannot move on: " +
                                       "{Why}. Free that name (move the model there away), then start the server again to finish the rename",
                        names.ElementAtOrDefault(0), names.ElementAtOrDefault(1), note + RenameNote.StopSuffix,
                        names.Count == 2 ? $"a folder '{names[1]}' is there now" : $"the note {Path.GetFileName(note)} does not hold its two names");
                    continue;
                }
                foreach (var name in names) ForgetOwnerUnlessModel(name, "a rename");
                if (names.Count == 2 && Exists(names[1]) && !Exists(names[0])) // moved: its ended jobs follow it, as a finished rename's do
                    _database.RenameJobs(names[0], names[1]);
                if (names.Count == 2)
                    _logger.LogInformation("A rename of model {Model} to {NewName} was cut short by the server's stop; the model is {Now} (its owner kept)",
                        names[0], names[1], Exists(names[1]) ? names[1] : names[0]);
                File.Delete(note);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) // never a reason not to start (held: a charrnn train writing into it)
            {
                _logger.LogWarning("Could not finish {Note}, left by an interrupted rename: {Reason}", note, e.Message);
            }
        }
    }
}
