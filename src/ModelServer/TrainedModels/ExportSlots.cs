using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// The count of ExportModel calls in progress, held to max_exports server-wide (`serve --max-exports`) and to
/// max_exports_per_key for each API key (`serve --max-exports-per-key`): each one holds a CPU copy of a model's weights
/// and a thread that waits on its client's pace, so without a cap a script opening many downloads of a big model could
/// take the server's memory and threads, and without the per-key one a single key (a team's shared one) could take every
/// place. A singleton: services are made per call.
/// </summary>
public sealed class ExportSlots(IOptions<ServerOptions> options)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _byKey = [];
    private int _inProgress;

    /// <summary>Exports holding a slot now.</summary>
    public int InProgress { get { lock (_lock) return _inProgress; } }

    /// <summary>
    /// A slot for one export by the key named <paramref name="key"/>, freed when it is disposed (the export ended, failed
    /// or was cancelled); RESOURCE_EXHAUSTED at once when that key has max_exports_per_key in progress, or the server
    /// max_exports: a refused client retries later rather than holding a thread waiting.
    /// </summary>
    public IDisposable Take(string key)
    {
        var limits = options.Value.Limits; // read each time: the limits in force now
        lock (_lock)
        {
            var mine = _byKey.GetValueOrDefault(key);
            // The key's own cap first: when it is reached, waiting for other keys' downloads would not help.
            if (mine >= limits.ExportsPerKeyInForce)
                throw ServerException.Exhausted(QuotaLimits.MaxExportsPerKey,
                    $"Key '{key}' has {mine} model exports in progress, its maximum at once (limit max_exports_per_key = {limits.ExportsPerKeyInForce}, charrnn serve --max-exports-per-key); retry when one of them ends.");
            if (_inProgress >= limits.MaxExports)
                throw ServerException.Exhausted(QuotaLimits.MaxExports,
                    $"Model exports in progress on this server: {_inProgress}, its maximum at once (limit max_exports = {limits.MaxExports}, charrnn serve --max-exports); retry when one ends.");
            _inProgress++;
            _byKey[key] = mine + 1;
        }
        return new Slot(this, key);
    }

    private void Free(string key)
    {
        lock (_lock)
        {
            _inProgress--;
            if (--_byKey[key] == 0) _byKey.Remove(key); // no entry kept for a key with none in progress
        }
    }

    private sealed class Slot(ExportSlots slots, string key) : IDisposable
    {
        private int _freed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _freed, 1) == 0) slots.Free(key);
        }
    }
}
