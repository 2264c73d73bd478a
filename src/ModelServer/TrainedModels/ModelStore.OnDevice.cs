using System.Collections.Concurrent;
using CharRnn.Engine.Checkpoints;
using static TorchSharp.torch;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// The models loaded onto the device for generation: preloaded off the device thread, shared by the
/// sessions on them, kept a while when idle, retired when a newer checkpoint is saved.
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

    /// <summary>
    /// Any thread: the checkpoint generation uses now (best.ckpt, else last.ckpt; last.ckpt where that best.ckpt
    /// failed to load), loaded for <see cref="Acquire"/>, unless the device holds it already (null then).
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
        }, _precision);
        if (trained.Path == path) return (path, written, trained);
        (path, written) = GenerationCheckpoint(name); // last.ckpt, now that this best.ckpt is known damaged
        return (path, written, trained);
    }

    /// <summary>
    /// The model's checkpoint generation uses now (as <see cref="Preload"/> reads it) on the device, shared with other
    /// sessions (device thread). <paramref name="preloaded"/> is taken if it is still that file as written now, else disposed.
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
            if (_precision != loaded.Trained.Model.GenerationPrecision) // a bf16 server's model with no bf16 path: said, not left to guess from the start line
                _logger.LogInformation("Loaded model {Model} from {Checkpoint}; it generates in float32: {Why}",
                    name, path, Engine.Models.GenerationPrecisions.NoBf16Path(loaded.Trained.Architecture.Name));
            else _logger.LogInformation("Loaded model {Model} from {Checkpoint}", name, path);
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

    private void Retire(LoadedModel model)
    {
        _idle.Remove(model);
        _loaded.Remove(model.Name);
        _held.TryRemove(model.Name, out _);
        model.Stale = true;
        if (model.Sessions <= 0) model.Trained.Dispose();
    }
}
