using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Text;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Persistence;
using CharRnn.ModelServer.Security;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// The models folder: one sub-folder per model (see <see cref="ModelFolder"/>). Model names are
/// names, never paths, so nothing can reach outside the folder. Listing reports unreadable
/// models instead of failing. Loading for generation happens on the device thread.
/// </summary>
public sealed partial class ModelStore
{
    private readonly Dictionary<string, LoadedModel> _loaded = new(StringComparer.Ordinal); // device thread only
    private readonly List<LoadedModel> _idle = []; // loaded, no session open: least recently used first (device thread only)
    private readonly ConcurrentDictionary<string, (string Path, DateTime Written)> _held = new(StringComparer.Ordinal); // the checkpoints _loaded holds, for any thread
    private readonly ConcurrentDictionary<(string Path, DateTime Written), bool> _damaged = new(); // best.ckpt versions that failed to load

    /// <summary>
    /// Models kept on the device with no session open, so that reopening one is quick; beyond this,
    /// the least recently used is freed (a server many people use sees many models, and device memory is finite).
    /// </summary>
    public const int IdleModelsKept = 4;

    /// <summary>Whether a model is on the device now, in use or kept idle (device thread; tests).</summary>
    internal bool IsLoaded(string name) => _loaded.ContainsKey(name);
    private readonly ILogger<ModelStore> _logger;

    private readonly ServerDatabase _database;

    public ModelStore(IOptions<ServerOptions> options, ServerDatabase database, ILogger<ModelStore> logger)
    {
        _logger = logger;
        _database = database;
        Root = Path.GetFullPath(options.Value.ModelsDirectory);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    private readonly ConcurrentDictionary<string, int> _deletions = new(StringComparer.Ordinal);

    /// <summary>
    /// How many times a model of this name was deleted (since the server started, as sessions live): a model made
    /// again under a deleted one's name is another model, which the old one's sessions must not be taken for.
    /// </summary>
    public int Incarnation(string name) => _deletions.GetValueOrDefault(name);

    public const string NameRule = "1 to 64 characters from letters, digits, '.', '_' and '-', starting with a letter or digit";

    /// <summary>INVALID_ARGUMENT unless <paramref name="name"/> is a plain name (no separators, no "..").</summary>
    /// <param name="kind">What the name names, for the message: model, or corpus (same rule).</param>
    public static string ValidateName(string? name, string field = "model_name", string kind = "model")
    {
        if (string.IsNullOrEmpty(name))
            throw ServerException.Invalid($"{field} is empty; a {kind} name is {NameRule}.");
        if (!NamePattern().IsMatch(name))
            throw ServerException.Invalid($"{field} '{Echo.Of(name)}' is not a valid name; a {kind} name is {NameRule} (names are not paths).");
        // The server's own files sit beside the model folders (charrnn.db and its journal, charrnn.lock):
        // a folder of such a name would break them (SQLite fails to open a database whose journal is a folder).
        if (kind == "model" && name.StartsWith(ServerFilePrefix, StringComparison.OrdinalIgnoreCase))
            throw ServerException.Invalid($"{field} '{Echo.Of(name)}' is not allowed: names starting with '{ServerFilePrefix}' are kept for the server's own files in the models folder. Pick another name.");
        return name;
    }

    private const string ServerFilePrefix = "charrnn.";

    public string FolderOf(string name) => Path.Combine(Root, ValidateName(name));

    public bool Exists(string name) => ModelFolder.HoldsModel(FolderOf(name)) && NamedExactly(name);

    /// <summary>
    /// The model a new model named <paramref name="name"/> would collide with: one of that name, or of
    /// a name that differs only in case. Names are unique without regard to case so that a models
    /// folder works the same on a case-insensitive file system (Windows, macOS), where both would be one folder.
    /// </summary>
    public string? TakenName(string name) => TakenName(Root, name);

    /// <summary>As <see cref="TakenName(string)"/>, in the models folder <paramref name="root"/> (charrnn train's --models).</summary>
    public static string? TakenName(string root, string name) =>
        Directory.Exists(root)
            ? Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>()
                .Where(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase) && ModelFolder.HoldsModel(Path.Combine(root, n)))
                .OrderBy(n => n == name ? 0 : 1).FirstOrDefault()
            : null;

    /// <summary>
    /// The message for a new model's name that <see cref="TakenName"/> found taken. Resuming or deleting is
    /// offered only to a key that may (<paramref name="writable"/>; null: not known); to another the name is
    /// just taken, without saying whose (models names are one namespace, their owners not everyone's business).
    /// </summary>
    public static string NameTakenMessage(string name, string taken, bool? writable) => taken != name
        ? $"A model named '{taken}' exists, and names may not differ only in case (on some file systems they are one folder); choose another model_name."
        : writable switch
        {
            true => $"A model named '{name}' exists; choose another model_name, set resume to continue it, or delete it first.",
            false => $"The name '{name}' is taken by a model this key cannot change; choose another model_name.",
            null => $"A model named '{name}' exists; choose another model_name (or, if this key may change it, set resume to continue it).",
        };

    /// <summary>On a case-insensitive file system "Foo" opens the folder "foo": another model, maybe another key's. Only the exact name counts.</summary>
    private bool NamedExactly(string name) =>
        Directory.Exists(Root) && Directory.EnumerateDirectories(Root, name).Any(d => Path.GetFileName(d) == name);

    /// <summary>
    /// Models a key may use: its own, shared ones, ones nobody owns (made outside the server, e.g.
    /// by `charrnn train`), and for admins all.
    /// </summary>
    public bool CanRead(string name, Caller caller) =>
        _database.Model(name) is not { } record || record.Shared || caller.Owns(record.Owner);

    /// <summary>Models a key may change (resume, delete, share): its own; unowned ones and all for admins.</summary>
    public bool CanWrite(string name, Caller caller) =>
        _database.Model(name) is { } record ? caller.Owns(record.Owner) : caller.Admin;

    public ModelRecord? Ownership(string name) => _database.Model(name);

    public void Share(string name, Caller caller, bool shared)
    {
        Get(name, caller);
        if (!CanWrite(name, caller))
            throw ServerException.PermissionDenied(_database.Model(name) is { } record
                ? $"Model '{name}' belongs to key '{record.Owner}'; only its owner or an admin can share it."
                : $"Model '{name}' was made outside the server and has no owner; only an admin key can share it.");
        if (_database.Model(name) == null) _database.SetModelOwner(name, caller.Name);
        _database.SetShared(name, shared);
    }

    public IReadOnlyList<ModelListing> List(Caller caller) => List().Where(m => CanRead(m.Name, caller)).ToList();

    public IReadOnlyList<ModelListing> List()
    {
        // A folder made outside the server (charrnn train --out "models/my model") may have a name the
        // API refuses: listed with an error that says so, not as a model no call can then reach.
        var models = ModelFolder.List(Root)
            .Select(m => NamePattern().IsMatch(m.Name) && !m.Name.StartsWith(ServerFilePrefix, StringComparison.OrdinalIgnoreCase) ? m
                : m with { Metadata = null, Error = $"the folder name '{Echo.Of(m.Name)}' is not a valid model name ({NameRule}, not starting with '{ServerFilePrefix}'); rename the folder to use it on this server" })
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
        if (!CanRead(ValidateName(name), caller) || !Exists(name))
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

    /// <summary>
    /// Any thread: the model's newest checkpoint, loaded for <see cref="Acquire"/>, unless the device
    /// holds it already (null then).
    /// </summary>
    public PreloadedModel? Preload(string name, Device device)
    {
        if (!Exists(name))
            throw NoModel(name);
        if (IsOnDevice(name)) return null;
        try
        {
            var (path, written, trained) = LoadForGeneration(name, device);
            return new PreloadedModel(path, written, trained);
        }
        catch (Exception e) when (e is CheckpointException or IOException && !Exists(name)) { throw NoModel(name); } // deleted meanwhile
    }

    /// <summary>Any thread: the device holds the checkpoint of <paramref name="name"/> that generation would load now.</summary>
    public bool IsOnDevice(string name) => _held.TryGetValue(name, out var held) && held == GenerationCheckpoint(name);

    /// <summary>Checkpoints read and built for generation so far (tests).</summary>
    internal int Loads => Volatile.Read(ref _loads);
    private int _loads;

    private readonly ConcurrentDictionary<string, string> _reportedBroken = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _loadTurns = new(StringComparer.Ordinal);

    /// <summary>Model names with a load turn (tests).</summary>
    internal int LoadTurnNames => _loadTurns.Count;

    /// <summary>
    /// One load of a model at a time, from its preload to its <see cref="Acquire"/>: many sessions
    /// opened at once on a model not on the device would each read and build a copy of it (a
    /// large model many times over in memory), where the first one's load serves them all.
    /// </summary>
    public async Task<IDisposable> HoldLoadTurn(string name, CancellationToken cancellation)
    {
        // One small object per model that ever existed: a name with no model behind it gets none (a
        // client opening sessions on made-up names would otherwise grow this for good).
        if (!Exists(name)) throw NoModel(name);
        var turn = _loadTurns.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await turn.WaitAsync(cancellation);
        return new LoadTurn(turn);
    }

    private sealed class LoadTurn(SemaphoreSlim turn) : IDisposable
    {
        private int _released;
        public void Dispose() { if (Interlocked.Exchange(ref _released, 1) == 0) turn.Release(); }
    }

    /// <summary>The checkpoint generation loads: best.ckpt, unless this version of it failed to load and last.ckpt is there.</summary>
    private (string Path, DateTime Written) GenerationCheckpoint(string name)
    {
        var path = ModelFolder.CheckpointForGeneration(FolderOf(name));
        var written = File.GetLastWriteTimeUtc(path);
        var last = Path.Combine(FolderOf(name), Engine.Training.Trainer.LastCheckpoint);
        return _damaged.ContainsKey((path, written)) && path != last && File.Exists(last) ? (last, File.GetLastWriteTimeUtc(last)) : (path, written);
    }

    /// <summary>
    /// Loads the checkpoint generation uses. A best.ckpt that cannot be read (a bad copy, a disk error)
    /// is remembered, this version of it, and last.ckpt used instead: the model stays usable.
    /// </summary>
    private (string Path, DateTime Written, TrainedModel Trained) LoadForGeneration(string name, Device device)
    {
        Interlocked.Increment(ref _loads);
        var (path, written) = GenerationCheckpoint(name);
        var trained = TrainedModel.LoadForGeneration(path, device, e =>
        {
            _logger.LogWarning("Model {Model}: {Error} Generating from last.ckpt instead", name, e.Message);
            _damaged[(path, written)] = true;
        });
        if (trained.Path == path) return (path, written, trained);
        (path, written) = GenerationCheckpoint(name); // last.ckpt, now that this best.ckpt is known damaged
        return (path, written, trained);
    }

    /// <summary>
    /// The newest checkpoint of a model on the device, shared with other sessions (device thread).
    /// <paramref name="preloaded"/> is taken if it is still the newest, else disposed.
    /// </summary>
    public LoadedModel Acquire(string name, Device device, PreloadedModel? preloaded = null)
    {
        TrainedModel? trained = null;
        var incarnation = Incarnation(name); // before the files are read: a delete in between makes this model the older one
        try
        {
            if (!Exists(name))
                throw NoModel(name);
            var (path, written) = GenerationCheckpoint(name);
            if (_loaded.TryGetValue(name, out var current) && !current.Stale && current.CheckpointWriteTime == written && current.Trained.Path == path
                && current.Incarnation == incarnation)
            {
                current.Sessions++;
                _idle.Remove(current);
                return current;
            }
            if (current != null) Retire(current);
            if (preloaded != null && preloaded.Path == path && preloaded.Written == written)
                (trained, preloaded) = (preloaded.Trained, null);
            else (path, written, trained) = LoadForGeneration(name, device);
            var loaded = new LoadedModel(name, trained, written, incarnation) { Sessions = 1 };
            trained = null;
            _loaded[name] = loaded;
            _held[name] = (path, written);
            _logger.LogInformation("Loaded model {Model} from {Checkpoint}", name, path);
            return loaded;
        }
        finally
        {
            preloaded?.Dispose(); // not taken: older than the checkpoint now, or not needed
            trained?.Dispose();
        }
    }

    /// <summary>A session let go of the model (device thread).</summary>
    public void Release(LoadedModel model)
    {
        model.Sessions--;
        if (model.Sessions > 0) return;
        if (model.Stale) { model.Trained.Dispose(); return; }
        model.Trained.Model.FreeGenerationCaches(); // an idle lesson-sized LSTM would keep up to 60 MB of packed copies
        _idle.Add(model);
        while (_idle.Count > IdleModelsKept) Retire(_idle[0]);
    }

    /// <summary>
    /// A newer checkpoint exists: the next Acquire loads it (device thread). Given the file just
    /// written, a model loaded from another file that generation still reads (a job's last.ckpt
    /// saves beside the best.ckpt sessions use) is kept: retired, it would be loaded again, the
    /// same weights, while the sessions on it held the first copy.
    /// </summary>
    public void Invalidate(string name, string? written = null)
    {
        if (!_loaded.TryGetValue(name, out var current)) return;
        if (written != null && !SamePath(written, current.Trained.Path) && SamePath(GenerationCheckpoint(name).Path, current.Trained.Path)) return;
        Retire(current);
    }

    private static bool SamePath(string a, string b) => Path.GetFullPath(a) == Path.GetFullPath(b);

    /// <summary>Deletes the model folder: renamed aside first, so a half-deleted model is never listed.</summary>
    /// <param name="by">The key name that asked, for the log.</param>
    public void Delete(string name, string by)
    {
        var folder = FolderOf(name);
        if (!Directory.Exists(folder) || !NamedExactly(name))
            throw NoModel(name);
        IDisposable writing;
        try { writing = ModelFolder.HoldForTraining(folder); } // a `charrnn train` writing into it would make it again at its next save
        catch (ArgumentException e) { throw ServerException.Precondition($"Model '{name}' cannot be deleted now: {e.Message}"); }
        var trash = Path.Combine(Root, $".deleting-{name}-{Guid.NewGuid():N}");
        using (writing) Directory.Move(folder, trash);
        _deletions.AddOrUpdate(name, 1, (_, n) => n + 1); // a model made again under this name is another one
        _database.ForgetModel(name); // gone for every caller now; the files follow (RemoveDeleted finishes a delete cut short)
        try { Directory.Delete(trash, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The model is gone for every caller already; RemoveDeleted retries the files at the next start.
            _logger.LogWarning("Model {Model} deleted by {Owner}, but its files could not all be removed yet ({Error}); the next start retries", name, by, e.Message);
            return;
        }
        _logger.LogInformation("Deleted model {Model} (by {Owner})", name, by);
    }

    /// <summary>
    /// At start-up: finishes deletes that a crash cut short (their folders were already out of the
    /// listing), and removes the temporary files of writes a crash cut short in model folders no
    /// one is training into (a model only trained again would keep them for good, unseen), with the write checks a
    /// `charrnn train` killed as it wrote one left there.
    /// </summary>
    public void RemoveDeleted()
    {
        if (!Directory.Exists(Root)) return;
        foreach (var trash in Directory.GetDirectories(Root, ".deleting-*"))
        {
            ForgetIfDeleted(trash);
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
    /// A delete cut short between renaming the folder aside and forgetting its owner's row left the row of a model that is
    /// gone: a model made later under the name outside the server (charrnn train) would be the old owner's, shared as the
    /// old one was. Forgotten here, unless the name has a model again or a job that will make one (their row, not the old one's).
    /// </summary>
    private void ForgetIfDeleted(string trash)
    {
        var folderName = Path.GetFileName(trash);
        const string prefix = ".deleting-";
        var suffix = 1 + Guid.Empty.ToString("N").Length; // "-" and the 32 hex digits Delete adds
        if (folderName.Length <= prefix.Length + suffix || folderName[^suffix] != '-') return;
        var name = folderName[prefix.Length..^suffix];
        try
        {
            if (ModelFolder.HoldsModel(FolderOf(name)) || _database.UnfinishedJobs().Any(j => j.ModelName == name)) return;
            _database.ForgetModel(name);
        }
        catch (Exception e) when (e is ServerException or IOException or System.Data.Common.DbException) // not a name the server makes: not its delete's
        {
            _logger.LogWarning("Could not forget the owner of model {Model}, deleted before the server stopped: {Reason}", name, e.Message);
        }
    }

    private void Retire(LoadedModel model)
    {
        _idle.Remove(model);
        _loaded.Remove(model.Name);
        _held.TryRemove(model.Name, out _);
        model.Stale = true;
        if (model.Sessions <= 0) model.Trained.Dispose();
    }

    // \z, not $: $ also matches before a final newline, which would let "name\n" through.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex NamePattern();
}
