using System.Collections.Concurrent;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Text;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Persistence;
using CharRnn.ModelServer.Security;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// The models folder: one sub-folder per model (see <see cref="ModelFolder"/>). Model names are
/// names, never paths (<see cref="ModelNames"/>), so nothing can reach outside the folder. Listing
/// reports unreadable models instead of failing. Loading for generation (read and built off the
/// device thread, taken onto the device by it) is in ModelStore.OnDevice.cs.
/// </summary>
public sealed partial class ModelStore
{
    private readonly ILogger<ModelStore> _logger;

    private readonly ServerDatabase _database;

    private readonly Engine.Models.GenerationPrecision _precision; // what models load to generate in

    public ModelStore(IOptions<ServerOptions> options, ServerDatabase database, ILogger<ModelStore> logger)
    {
        _logger = logger;
        _database = database;
        _precision = options.Value.GenerationPrecision;
        Root = Path.GetFullPath(options.Value.ModelsDirectory);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    private readonly ConcurrentDictionary<string, int> _deletions = new(StringComparer.Ordinal);

    /// <summary>
    /// How many times a model of this name was deleted or renamed away (since the server started, as sessions live): a model made
    /// again under a deleted one's name is another model, which the old one's sessions must not be taken for.
    /// </summary>
    public int Incarnation(string name) => _deletions.GetValueOrDefault(name);

    public string FolderOf(string name) => Path.Combine(Root, ModelNames.Validate(name));

    public bool Exists(string name) => ModelFolder.HoldsModel(FolderOf(name)) && NamedExactly(name);

    /// <summary>The model a new model named <paramref name="name"/> would collide with (<see cref="ModelNames.Taken"/>), other than <paramref name="renamed"/>.</summary>
    public string? TakenName(string name, string? renamed = null) => ModelNames.Taken(Root, name, renamed);

    /// <summary>On a case-insensitive file system "Foo" opens the folder "foo": another model, maybe another key's. Only the exact name counts.</summary>
    private bool NamedExactly(string name) =>
        Directory.Exists(Root) && Directory.EnumerateDirectories(Root, name).Any(d => Path.GetFileName(d) == name);

    /// <summary>
    /// Models a key may use: its own, shared ones, ones nobody owns (made outside the server, e.g.
    /// by `charrnn train`), and for admins all.
    /// </summary>
    public bool CanRead(string name, Caller caller) =>
        OwnerRow(name) is not { } record || record.Shared || caller.Owns(record.Owner);

    /// <summary>Models a key may change (resume, delete, share): its own; unowned ones and all for admins.</summary>
    public bool CanWrite(string name, Caller caller) =>
        OwnerRow(name) is { } record ? caller.Owns(record.Owner) : caller.Admin;

    public ModelRecord? Ownership(string name) => OwnerRow(name);

    /// <summary>Whether a model of <paramref name="name"/> is there and <paramref name="owner"/>'s, as max_models_per_key counts: a row a change left unrecorded is no one's.</summary>
    public bool HoldsModelOf(string name, string owner) => Exists(name) && OwnerRow(name)?.Owner == owner;

    public void Share(string name, Caller caller, bool shared)
    {
        Get(name, caller);
        if (!CanWrite(name, caller))
            throw ServerException.PermissionDenied(OwnerRow(name) is { } record
                ? $"Model '{name}' belongs to key '{record.Owner}'; only its owner or an admin can share it."
                : $"Model '{name}' was made outside the server and has no owner; only an admin key can share it.", ("model", name));
        RecordUnrecorded(name); // a row a hidden delete left is not this model's to share
        _database.SetShared(name, shared, ownerIfNone: caller.Name);
    }

    public IReadOnlyList<ModelListing> List(Caller caller) => List().Where(m => CanRead(m.Name, caller)).ToList();

    public IReadOnlyList<ModelListing> List()
    {
        // A folder made outside the server (charrnn train --out "models/my model") may have a name the
        // API refuses: listed with an error that says so, not as a model no call can then reach.
        var models = ModelFolder.List(Root)
            .Select(m => ModelNames.IsUsable(m.Name) ? m
                : m with { Metadata = null, Error = $"the folder name '{Echo.Of(m.Name)}' is not a valid model name ({ModelNames.Rule}, not starting with '{ModelNames.ServerFilePrefix}'); rename the folder to use it on this server" })
            .ToList();
        // Logged once per folder and error, not at every listing (clients list every few seconds).
        foreach (var broken in models.Where(m => m.Error != null))
            if (!_reportedBroken.TryGetValue(broken.Folder, out var known) || known != broken.Error)
            {
                _reportedBroken[broken.Folder] = broken.Error!;
                _logger.LogWarning("Model folder {Folder} is unreadable and skipped for use: {Error}", broken.Folder, broken.Error);
            }
        foreach (var mended in _reportedBroken.Keys.Except(models.Where(m => m.Error != null).Select(m => m.Folder)))
            _reportedBroken.TryRemove(mended, out _);
        return models;
    }

    /// <summary>NOT_FOUND for unknown models and for models the caller may not read.</summary>
    public ModelListing Get(string name, Caller caller)
    {
        if (!CanRead(ModelNames.Validate(name), caller) || !Exists(name))
            throw NoModelFor(name, caller);
        return Get(name);
    }

    /// <summary>NOT_FOUND for a model that does not exist, or that the caller may not see (the same answer: no leak).</summary>
    public static ServerException NoModel(string name) =>
        ServerException.NotFound($"No model '{name}' on this server; ListModels shows the models there are.", ErrorReasons.ModelNotFound, ("model", name));

    /// <summary><see cref="NoModel"/>, naming the model <paramref name="caller"/> may have meant among the ones it may read.</summary>
    public ServerException NoModelFor(string name, Caller caller) =>
        ServerException.NotFound(NoModel(name).Message + ClosestName.Suggestion(name, List(caller).Where(m => m.Error == null).Select(m => m.Name)),
            ErrorReasons.ModelNotFound, ("model", name));

    public ModelListing Get(string name)
    {
        if (!Exists(name))
            throw NoModel(name);
        try { return ModelFolder.Describe(FolderOf(name)); }
        catch (Exception e) when (e is CheckpointException or IOException && !Exists(name)) { throw NoModel(name); } // deleted meanwhile
    }

    private readonly ConcurrentDictionary<string, string> _reportedBroken = new(StringComparer.Ordinal);

    /// <summary>
    /// Test seam, null outside tests: called in place of each move that puts a folder back after the database refused a
    /// rename's or a delete's write, with the folder, where it goes back to and a case-only rename's folder between (null for
    /// others), so that a test can stand in for a file system that refuses that move too, or the second of its two moves.
    /// </summary>
    internal Action<string, string, string?>? MoveBackInstead { get; set; }

    /// <summary>Moves <paramref name="folder"/> back to <paramref name="to"/> by <paramref name="move"/>, or by <see cref="MoveBackInstead"/> where a test set it.</summary>
    private void MoveBack(string folder, string to, string? via, Action move)
    {
        if (MoveBackInstead is { } instead) instead(folder, to, via);
        else move();
    }

    /// <summary>Deletes the model folder: renamed aside first, so a half-deleted model is never listed.</summary>
    /// <param name="by">The key name that asked, for the log.</param>
    public void Delete(string name, string by)
    {
        var folder = FolderOf(name);
        if (!Directory.Exists(folder) || !NamedExactly(name))
            throw NoModel(name);
        RecordUnrecorded(name); // a rename to it that stands unrecorded: its jobs are marked with it
        var trash = Path.Combine(Root, $".deleting-{name}-{Guid.NewGuid():N}");
        try { ModelFolder.MoveHeld(folder, trash); } // a `charrnn train` writing into it would make it again at its next save
        catch (ArgumentException e) { throw ServerException.Precondition($"Model '{name}' cannot be deleted now: {e.Message}", ("model", name)); }
        try { _database.ForgetDeletedModel(name); } // gone for every caller now, its jobs marked so; the files follow (RemoveDeleted finishes a delete cut short)
        catch (Exception refused)
        {
            // Its row kept (a full disk refused the database's write): the model is kept too, back where it was, not left
            // hidden aside for the next start to delete after the caller was told the delete failed.
            try { MoveBack(trash, folder, null, () => Directory.Move(trash, folder)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogWarning("Model {Model} could not be moved back from {Folder} after its delete failed: {Reason}", name, trash, e.Message);
                LeftUnrecorded(name, null, () => RecordHiddenDelete(name, trash));
                MarkUnrecordedDelete(trash);
                if (StorageRefusal.For(refused, "DeleteModel", new(
                        $"Model '{name}' could not be put back: it is out of every listing, and the server's next start deletes it, as asked.", $"a delete finds no model '{name}' now")) is { } refusal)
                    throw refusal;
            }
            throw;
        }
        _deletions.AddOrUpdate(name, 1, (_, n) => n + 1); // a model made again under this name is another one
        if (RemoveRecordedDelete(name, trash))
            _logger.LogInformation("Deleted model {Model} (by {Owner})", name, by);
    }

    /// <summary>A delete left hidden, recorded by a later call: its row forgotten and its jobs marked, as the delete would have, then its folder removed.</summary>
    private void RecordHiddenDelete(string name, string trash)
    {
        _database.ForgetDeletedModel(name);
        _deletions.AddOrUpdate(name, 1, (_, n) => n + 1);
        RemoveRecordedDelete(name, trash);
    }

    /// <summary>
    /// Removes the folder of a delete the database recorded; false where its files could not all go, and the next start retries.
    /// Left so, it is renamed to name no model (.deleting-GUID): at the start a folder .deleting-NAME-GUID is a delete the database may
    /// not have recorded, whose row is then forgotten even where a model is at NAME (one made outside the server, not the owner's).
    /// </summary>
    private bool RemoveRecordedDelete(string name, string trash)
    {
        try
        {
            File.Delete(Path.Combine(trash, UnrecordedDeleteMarker)); // first: should the rest stay, the start must not read it as unrecorded
            Directory.Delete(trash, recursive: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Model {Model} is deleted, but its files could not all be removed yet ({Error}); the next start retries", name, e.Message);
        }
        try { Directory.Move(trash, Path.Combine(Root, $".deleting-{Guid.NewGuid():N}")); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Model {Model}'s deleted files at {Folder} could not be moved out of its name's way ({Error}): should a model be made under that name before the next start, that start leaves it unowned", name, trash, e.Message);
        }
        return false;
    }

    /// <summary>
    /// At start-up: finishes deletes that a crash cut short (their folders were already out of the
    /// listing) and finishes or undoes renames a stop cut short, and removes the temporary files of writes a crash cut short in model folders no
    /// one is training into (a model only trained again would keep them for good, unseen), with the write checks a
    /// `charrnn train` killed as it wrote one left there, and the folders of imports cut short.
    /// </summary>
    public void RemoveDeleted()
    {
        if (!Directory.Exists(Root)) return;
        RemoveUnfinishedImports();
        FinishRenames();
        foreach (var trash in Directory.GetDirectories(Root, ".deleting-*"))
        {
            ForgetOwnerLeftBy(trash, ".deleting-", deleted: true);
            try { Directory.Delete(trash, recursive: true); }
            catch (Exception e) { _logger.LogWarning("Could not remove {Folder} left by an interrupted delete: {Reason}", trash, e.Message); } // never a reason not to start
        }
        foreach (var folder in Directory.GetDirectories(Root).Where(f => !Path.GetFileName(f).StartsWith('.')))
        {
            try
            {
                using var idle = ModelFolder.HoldForTraining(folder); // a `charrnn train` writing there keeps its own temporary files
                foreach (var file in new[] { Engine.Training.Trainer.LastCheckpoint, Engine.Training.Trainer.BestCheckpoint, Engine.Training.Trainer.CycleCheckpoints, ModelFolder.UploadedCorpusFile })
                    Engine.Storage.AtomicFile.DeleteLeftovers(folder, file);
                ModelFolder.DeleteStaleWriteChecks(folder);
            }
            catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException) { } // held, or unreadable: left as it is
        }
    }

    /// <summary>
    /// A delete cut short between renaming the folder aside and forgetting its owner's row (or an import cut short between
    /// writing the row and renaming its folder into place) left the row of a model that is not there: a model made later
    /// under the name outside the server (charrnn train) would be the old owner's, shared as the old one was. Forgotten
    /// here, unless the name has a job that will make one, or after an import a model (their row, not the old one's); after a delete,
    /// a model there now was made outside the server (one the server makes records the delete first), and is nobody's. <paramref name="left"/>
    /// is the folder the cut-short call left, named <paramref name="prefix"/>NAME-GUID; <paramref name="deleted"/> for a delete's,
    /// whose model's ended jobs are then marked as of a deleted model (all of that name's are: none ran since).
    /// </summary>
    private void ForgetOwnerLeftBy(string left, string prefix, bool deleted = false)
    {
        var folderName = Path.GetFileName(left);
        var suffix = 1 + Guid.Empty.ToString("N").Length; // "-" and the 32 hex digits Delete and NewImportFolder add
        if (folderName.Length <= prefix.Length + suffix || folderName[^suffix] != '-') return; // an older import's folder names no model
        ForgetOwnerUnlessModel(folderName[prefix.Length..^suffix], "a delete or import", deleted, unrecordedDelete: deleted && File.Exists(Path.Combine(left, UnrecordedDeleteMarker)));
    }

    /// <summary>
    /// The file a delete left hidden (neither recorded nor undone) writes in its folder aside, and a delete recorded later removes first:
    /// only then does the start know that a model at the name was made outside the server. A folder without it may be one an older
    /// build could not remove after a recorded delete, with a model the server made again beside it: that model's row is kept.
    /// </summary>
    internal const string UnrecordedDeleteMarker = ".unrecorded-delete";

    private void MarkUnrecordedDelete(string trash)
    {
        try { File.WriteAllBytes(Path.Combine(trash, UnrecordedDeleteMarker), []); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) // the row is then kept at the start, should a model be made there: never more open
        {
            _logger.LogWarning("Could not mark {Folder} as a delete left unrecorded ({Reason}): should a model be made outside the server under its name before the next start, that start leaves it the deleted model's owner's", trash, e.Message);
        }
    }

    /// <summary>
    /// Forgets the owner row of <paramref name="name"/> unless the name (exactly: not one differing in case) has an unfinished job (that will make a model),
    /// or, after a rename, a model, at the start: a row a cut-short <paramref name="call"/> left naming no model, or a model made outside the server since.
    /// </summary>
    private void ForgetOwnerUnlessModel(string name, string call, bool deleted = false, bool unrecordedDelete = false)
    {
        try
        {
            // A delete's folder marked unrecorded (MarkUnrecordedDelete; a recorded one's mark is removed first, RemoveRecordedDelete,
            // and a model the server makes again records it first): a model at the name now was made outside the server, and is
            // nobody's, as any made so. Unmarked (a crash cut it short, or an older build could not remove a recorded delete's
            // folder and the server made the name again since), a model there keeps its row: never made usable by every key.
            if ((!unrecordedDelete && Exists(name)) || _database.UnfinishedJobs().Any(j => j.ModelName == name)) return;
            if (deleted) _database.MarkJobsOfDeletedModel(name);
            _database.ForgetModel(name);
        }
        catch (Exception e) when (e is ServerException or IOException or System.Data.Common.DbException) // not a name the server makes: not its call's
        {
            _logger.LogWarning("Could not forget the owner of model {Model}, left by {Call} the server's stop cut short: {Reason}", name, call, e.Message);
        }
    }
}
