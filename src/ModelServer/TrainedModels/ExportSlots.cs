using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// The server-wide count of ExportModel calls in progress, held to max_exports (`serve --max-exports`): each one holds a
/// CPU copy of a model's weights and a thread that waits on its client's pace, so without a cap a script opening many
/// downloads of a big model could take the server's memory and threads. A singleton: services are made per call.
/// </summary>
public sealed class ExportSlots(IOptions<ServerOptions> options)
{
    private readonly Lock _lock = new();
    private int _inProgress;

    /// <summary>Exports holding a slot now.</summary>
    public int InProgress { get { lock (_lock) return _inProgress; } }

    /// <summary>
    /// A slot for one export, freed when it is disposed (the export ended, failed or was cancelled); RESOURCE_EXHAUSTED
    /// at once when max_exports are in progress: a refused client retries later rather than holding a thread waiting.
    /// </summary>
    public IDisposable Take()
    {
        var cap = options.Value.Limits.MaxExports; // read each time: the limit in force now
        lock (_lock)
        {
            if (_inProgress >= cap)
                throw ServerException.Exhausted(QuotaLimits.MaxExports,
                    $"Model exports in progress on this server: {_inProgress}, its maximum at once (limit max_exports = {cap}, charrnn serve --max-exports); retry when one ends.");
            _inProgress++;
        }
        return new Slot(this);
    }

    private void Free()
    {
        lock (_lock) _inProgress--;
    }

    private sealed class Slot(ExportSlots slots) : IDisposable
    {
        private int _freed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _freed, 1) == 0) slots.Free();
        }
    }
}
