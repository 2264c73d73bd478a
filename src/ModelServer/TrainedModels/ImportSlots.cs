using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// The ImportModel calls in progress, held to max_imports server-wide (`serve --max-imports`) and to max_imports_per_key
/// for each API key (`serve --max-imports-per-key`): while it checks the file each one holds a few times the file's size in
/// memory (its bytes, its weights as float32, the model they are checked against, the checkpoint written; files up to
/// --max-import-mb), so without a cap a script opening many big imports could take the server's memory, and without the
/// per-key one a single key could hold every place and make every other key's import fail. A singleton: services are made per call.
/// </summary>
public sealed class ImportSlots(IOptions<ServerOptions> options)
{
    private readonly CountedSlots _slots = new();

    /// <summary>Imports holding a slot now.</summary>
    public int InProgress => _slots.InProgress;

    /// <summary>
    /// A slot for one import by the key named <paramref name="key"/>, freed when it is disposed (the import stored its model,
    /// failed or was cancelled); RESOURCE_EXHAUSTED at once when that key has max_imports_per_key in progress, or the server
    /// max_imports: a refused client retries later rather than holding the server waiting with its data unread.
    /// </summary>
    public IDisposable Take(string key) => _slots.Take(key, (mine, inProgress) =>
    {
        var limits = options.Value.Limits; // read each time: the limits in force now
        // The key's own cap first: when it is reached, waiting for other keys' imports would not help.
        if (mine >= limits.ImportsPerKeyInForce)
            throw ServerException.Exhausted(QuotaLimits.MaxImportsPerKey,
                $"{QuotaHolder.Subject(key)} has {mine} model import(s) in progress, its maximum at once ({QuotaHolder.Limit(key, $"max_imports_per_key = {limits.ImportsPerKeyInForce}, charrnn serve --max-imports-per-key")}); " +
                $"retry when one of them ends{(QuotaHolder.IsKeyless(key) ? "" : " (other keys may import meanwhile)")}.");
        if (inProgress >= limits.MaxImports)
            throw ServerException.Exhausted(QuotaLimits.MaxImports,
                $"Model imports in progress on this server: {inProgress}, its maximum at once (limit max_imports = {limits.MaxImports}, charrnn serve --max-imports); retry when one ends.");
    });
}
