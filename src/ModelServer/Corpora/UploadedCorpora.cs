using CharRnn.Engine.Storage;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Persistence;
using CharRnn.ModelServer.TrainedModels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Corpora;

/// <summary>
/// Corpora sent with UploadCorpus: NAME.txt files in the models folder's "charrnn.corpora" folder (a name no
/// model may take), each owned by the key that sent it (the database's corpora table). Written through a temp
/// file renamed into place, so a failed or cancelled upload leaves nothing and never harms the corpus it would replace.
/// </summary>
public sealed class UploadedCorpora
{
    /// <summary>The folder's name in the models folder: model names may not start with "charrnn.", so no model folder is it.</summary>
    public const string FolderName = ModelNames.ServerFilePrefix + "corpora";
    private readonly ServerDatabase _database;
    private readonly ILogger<UploadedCorpora> _logger;
    // Names an upload is being received for (or a deletion is under way): one change to a name at a time. With the key
    // whose new corpus it will be (null: a replacement or a deletion), which counts toward that key's quota meanwhile.
    private readonly Dictionary<string, string?> _changing = new(StringComparer.OrdinalIgnoreCase);

    public UploadedCorpora(IOptions<ServerOptions> options, ServerDatabase database, ILogger<UploadedCorpora> logger)
    {
        _database = database;
        _logger = logger;
        Folder = Path.Combine(Path.GetFullPath(options.Value.ModelsDirectory), FolderName);
        // An upload the process died in the middle of (kill -9, power loss) left its temp file: nobody writes here yet.
        if (Directory.Exists(Folder))
            foreach (var leftover in Directory.EnumerateFiles(Folder, ".*.tmp")) File.Delete(leftover);
    }

    public string Folder { get; }

    public string PathOf(string name) => Path.Combine(Folder, ModelNames.Validate(name, "name", "corpus") + ".txt");

    public bool Exists(string name) => File.Exists(PathOf(name)) && Names().Contains(name); // exactly: a case-insensitive file system finds "Foo" as "foo"

    /// <summary>The stored uploads' names, in order; files with names the API cannot reach are left out.</summary>
    public IReadOnlyList<string> Names() => !Directory.Exists(Folder) ? []
        : Directory.GetFiles(Folder, "*.txt").Select(Path.GetFileNameWithoutExtension).OfType<string>()
            .Where(ModelNames.IsName).Order(StringComparer.Ordinal).ToList();

    /// <summary>The key that uploaded it; null for a file no row names (put there by hand), which only admins may use.</summary>
    public string? Owner(string name) => _database.CorpusOwner(name);

    public DateTimeOffset StoredAt(string name) => File.GetLastWriteTimeUtc(PathOf(name));

    /// <summary>
    /// Holds <paramref name="name"/> (any case) for one upload or deletion until disposed: FAILED_PRECONDITION while
    /// another holds it, so that two uploads of one name cannot both replace it, nor a deletion remove a file being replaced.
    /// </summary>
    public IDisposable Hold(string name)
    {
        lock (_changing)
            if (!_changing.TryAdd(name, null))
                throw ServerException.Precondition($"Corpus '{name}' is being uploaded or deleted by another call; try again when it has finished.", ("corpus", name));
        return new Release(this, name);
    }

    /// <summary>
    /// Counts <paramref name="name"/>, held for a new upload, toward <paramref name="owner"/>'s max_corpora_per_key until
    /// the hold ends: RESOURCE_EXHAUSTED when the key's stored uploads and those it is sending now reach <paramref name="quota"/>
    /// (counting stored ones only, two uploads at once could both pass).
    /// </summary>
    public void CountAsNew(string name, string owner, int quota)
    {
        lock (_changing)
        {
            var owned = CountOwnedBy(owner)
                + _changing.Count(c => c.Value == owner && !string.Equals(c.Key, name, StringComparison.OrdinalIgnoreCase) && !File.Exists(PathOf(c.Key)));
            if (owned >= quota)
                throw ServerException.Exhausted(QuotaLimits.MaxCorporaPerKey, $"{QuotaHolder.Subject(owner)} owns {owned} uploaded corpora, its quota ({QuotaHolder.Limit(owner, $"max_corpora_per_key = {quota}")}); delete ones it no longer needs (DeleteCorpus), or replace one.");
            _changing[name] = owner;
        }
    }

    /// <summary>The uploads <paramref name="owner"/> has stored (its max_corpora_per_key counts these, and those it is sending).</summary>
    public int CountOwnedBy(string owner) => Names().Count(n => Owner(n) == owner);

    /// <summary>Writes the text <paramref name="write"/> produces as the corpus, replacing any of that name only when it completes.</summary>
    public async Task Store(string name, string owner, Func<Stream, Task> write, bool keepOwner)
    {
        // A replaced corpus keeps its owner (an admin replacing a key's upload does not take it over).
        var newOwner = !keepOwner || Owner(name) == null;
        var ownerWritten = false;
        try
        {
            // The owner's row is written once the text is complete and before it is renamed into place: a server that
            // dies between the two leaves a row naming no file (ignored; the name's next upload writes it again), never
            // a stored text without an owner, which only admins could see.
            await AtomicFile.WriteAsync(PathOf(name), async stream =>
            {
                await write(stream);
                if (!newOwner) return;
                _database.SetCorpusOwner(name, owner);
                ownerWritten = true;
            });
        }
        catch (Exception e)
        {
            if (ownerWritten) _database.ForgetCorpus(name); // the rename failed: no file for the row to own
            // The temp file is gone and the name's text, if any, is as it was: say so, not INTERNAL. The exception's
            // own message names the server's path, which is the operator's to see (logged here), not the caller's.
            if (!DiskFault.Is(e)) throw;
            _logger.LogWarning("Corpus {Corpus} upload by {Key} not stored: the disk refused the write: {Reason}", name, owner, e.Message);
            throw ServerException.DiskFull($"Corpus '{name}' could not be stored: the server's disk is full (or over its quota, or failing); nothing was stored"
                    + (keepOwner ? $" and '{name}' keeps its text" : "") + ". Try again once the server's operator has made room.");
        }
    }

    /// <summary>Deletes the text; its row stays, marked deleted, so that resuming a model trained on it can say what to upload again.</summary>
    public void Delete(string name)
    {
        File.Delete(PathOf(name));
        try { _database.MarkCorpusDeleted(name); }
        catch (Exception e) when (StorageRefusal.For(e, "DeleteCorpus",
                   new($"Corpus '{name}' is deleted all the same: its text is gone.", $"a delete finds no corpus '{name}' now")) is { } refusal)
        {
            _logger.LogWarning("Corpus {Corpus} deleted, but the disk refused the record of its delete: {Reason}", name, e.Message);
            throw refusal;
        }
    }

    /// <summary>Whether <paramref name="name"/> was an upload that DeleteCorpus deleted (and nothing was stored under it since).</summary>
    public bool WasDeleted(string name) => !File.Exists(PathOf(name)) && _database.CorpusDeletedAt(name) != null;

    private sealed class Release(UploadedCorpora corpora, string name) : IDisposable
    {
        public void Dispose()
        {
            lock (corpora._changing) corpora._changing.Remove(name);
        }
    }
}
