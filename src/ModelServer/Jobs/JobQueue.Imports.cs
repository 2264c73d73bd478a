using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Security;

namespace CharRnn.ModelServer.Jobs;

/// <summary>
/// The names ImportModel calls are making models of: held from the header to the stored folder (or the call's failure), so
/// that neither a job nor another import makes a model of the name meanwhile, and counted against the key's max_models_per_key.
/// </summary>
public sealed partial class JobQueue
{
    private readonly Dictionary<string, string> _importing = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Holds <paramref name="name"/> for an import by <paramref name="caller"/>: RESOURCE_EXHAUSTED over the key's model quota,
    /// FAILED_PRECONDITION while a model of the name is deleted, ALREADY_EXISTS when a job or another import is making one
    /// of the name (in any case) or a model of it exists.
    /// </summary>
    public IDisposable HoldForImport(string name, Caller caller)
    {
        var owned = database.ModelNamesOwnedBy(caller.Name).Where(n => models.HoldsModelOf(n, caller.Name)).ToHashSet(); // read outside the lock, as ModelsOwnedBy
        lock (_gate)
        {
            owned.UnionWith(MakingFor(caller.Name));
            if (owned.Count >= _limits.MaxModelsPerKey)
                throw ServerException.Exhausted(QuotaLimits.MaxModelsPerKey, $"{QuotaHolder.Subject(caller.Name)} owns {owned.Count} models, its quota ({QuotaHolder.Limit(caller.Name, $"max_models_per_key = {_limits.MaxModelsPerKey}")}); delete models it no longer needs (DeleteModel), then import.");
            if (_deleting.Contains(name))
                throw ServerException.Precondition($"Model '{name}' is being deleted; import again under this name once DeleteModel has returned.", ("model", name));
            ThrowIfRenaming(name, "import again once RenameModel has returned");
            ThrowIfJobMakes(name, "another name for the import");
            if (ImportingNamed(name) is { } other)
                throw ServerException.Exists($"Another import is making a model named '{other}'{(other == name ? "" : ", and names may not differ only in case")}; choose another name.", ("model", other));
            if (models.TakenName(name) is { } taken) // checked before, with whose it is; a model may have been saved since
                throw ServerException.Exists(TrainedModels.ModelNames.ImportTakenMessage(name, taken, writable: null), ("model", taken));
            _importing[name] = caller.Name;
        }
        return new ImportHold(this, name);
    }

    /// <summary>The models <paramref name="owner"/>'s imports in progress are making (under the lock).</summary>
    private IEnumerable<string> ImportingFor(string owner) => _importing.Where(kv => kv.Value == owner).Select(kv => kv.Key);

    /// <summary>The import making a model of <paramref name="name"/>'s name in any case, or null (under the lock).</summary>
    private string? ImportingNamed(string name) => _importing.Keys.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));

    private sealed class ImportHold(JobQueue queue, string name) : IDisposable
    {
        public void Dispose()
        {
            lock (queue._gate) queue._importing.Remove(name);
        }
    }
}
