using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// The ExportModel calls in progress, held to max_exports server-wide (`serve --max-exports`) and to
/// max_exports_per_key for each API key (`serve --max-exports-per-key`): each one holds a CPU copy of a model's weights
/// and a thread that waits on its client's pace, so without a cap a script opening many downloads of a big model could
/// take the server's memory and threads, and without the per-key one a single key (a team's shared one) could take every
/// place. A slot is held until the server has sent the file's last piece (or the call failed or was cancelled), which
/// HTTP/2 flow control and Kestrel's send buffer keep within some 128 KiB of what the client has read (more where a client
/// widens its window): a slow or stalled reader of a larger file keeps its slot, a smaller file frees it at once, its
/// unread bytes costing the server no weights and no thread.
/// A singleton: services are made per call.
/// </summary>
public sealed class ExportSlots(IOptions<ServerOptions> options)
{
    private readonly CountedSlots _slots = new();

    /// <summary>
    /// A slot for one export by the key named <paramref name="key"/>, freed when it is disposed (the export ended, failed
    /// or was cancelled); RESOURCE_EXHAUSTED at once when that key has max_exports_per_key in progress, or the server
    /// max_exports: a refused client retries later rather than holding a thread waiting.
    /// </summary>
    public IDisposable Take(string key) => _slots.Take(key, (mine, inProgress) =>
    {
        var limits = options.Value.Limits; // read each time: the limits in force now
        // The key's own cap first: when it is reached, waiting for other keys' downloads would not help.
        if (mine >= limits.ExportsPerKeyInForce)
            throw ServerException.Exhausted(QuotaLimits.MaxExportsPerKey,
                $"{QuotaHolder.Subject(key)} has {mine} model exports in progress, its maximum at once ({QuotaHolder.Limit(key, $"max_exports_per_key = {limits.ExportsPerKeyInForce}, charrnn serve --max-exports-per-key")}); retry when one of them ends.");
        if (inProgress >= limits.MaxExports)
            throw ServerException.Exhausted(QuotaLimits.MaxExports,
                $"Model exports in progress on this server: {inProgress}, its maximum at once (limit max_exports = {limits.MaxExports}, charrnn serve --max-exports); retry when one ends.");
    });
}
