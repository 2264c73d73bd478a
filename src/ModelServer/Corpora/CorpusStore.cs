using System.Diagnostics;
using System.Collections.Concurrent;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Text;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.TrainedModels;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Corpora;

/// <summary>A corpus the server offers by name; its size in UTF-16 units (Characters, as GetPassage's offsets count) and in code points.</summary>
public sealed record CorpusEntry(string Name, string Description, long Characters, string Sha256, bool Available,
    bool Uploaded = false, string? Owner = null, DateTimeOffset? UploadedAt = null, long CodePoints = 0);

/// <summary>
/// The corpora a job can name: the known ones (nietzsche: from the cache, or downloaded and
/// verified on first use) and every *.txt file in the corpora folder, named by file name. A folder's
/// file named as a known corpus (nietzsche.txt) is that corpus: the operator put it there to be used.
/// Known corpora stay in memory once loaded (a download is dear); a folder's corpus is shared
/// while a job holds it and read again after (a folder of large texts must not fill the memory).
/// Listing measures files without loading them. Uploaded corpora (<see cref="UploadedCorpora"/>) are named the same
/// way, after the server's own, and each key reaches only its own (admins all).
/// </summary>
public sealed class CorpusStore
{
    public const string UploadedName = "upload";
    private readonly string? _directory;
    private readonly UploadedCorpora? _uploads;
    private readonly CorpusResolver _resolver;
    private readonly ConcurrentDictionary<string, Corpus> _known = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, LoadedCorpus> _loaded = new(StringComparer.Ordinal);
    private readonly object _resolving = new();
    // A known corpus that could not be fetched (no network, no cached copy): the next minute's calls get the
    // same answer at once, instead of each waiting, one after another, for a download to time out.
    private (string Name, string Error, long At)? _lastFailure;
    private static readonly TimeSpan RetryFetchAfter = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, (FileStamp Stamp, CorpusFingerprint Fingerprint)> _fingerprints = new(StringComparer.Ordinal);

    public CorpusStore(IOptions<ServerOptions> options) : this(options, download: null) { }

    public CorpusStore(IOptions<ServerOptions> options, UploadedCorpora uploads) : this(options, download: null) => _uploads = uploads;

    /// <param name="download">How a known corpus missing from the cache is fetched (tests: a network that fails).</param>
    internal CorpusStore(IOptions<ServerOptions> options, Func<Uri, CancellationToken, Task<byte[]>>? download)
    {
        // An empty setting is refused by CorporaFolderCheck, which runs after this is made: GetFullPath would throw first.
        _directory = options.Value.CorporaDirectory is { Length: > 0 } d ? Path.GetFullPath(d) : null;
        _resolver = new CorpusResolver(options.Value.CorpusCacheDirectory, download);
    }

    /// <param name="caller">Whose uploads to list: its own, or every one for an admin (null: every one).</param>
    public IReadOnlyList<CorpusEntry> List(Caller? caller = null)
    {
        var result = new List<CorpusEntry>();
        foreach (var known in KnownCorpus.All)
        {
            if (FolderFile(known.Name) is { } own)
            {
                result.Add(FolderEntry(own, known));
                continue;
            }
            var file = Path.Combine(_resolver.CacheDirectory, known.FileName);
            var (chars, codePoints) = _known.TryGetValue(known.Name, out var c) ? (c.Length, c.CodePoints)
                : File.Exists(file) && TryMeasure(file, out var measured, out _) ? (measured.Characters, measured.CodePoints) : (0L, 0L);
            result.Add(new CorpusEntry(known.Name, known.Description, chars, known.Sha256, File.Exists(file), CodePoints: codePoints));
        }
        if (_directory != null && Directory.Exists(_directory))
        {
            foreach (var file in Directory.GetFiles(_directory, "*.txt").Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                // A known corpus's name is listed above; "upload" names uploaded text.
                if (KnownCorpus.All.Any(k => k.Name == name) || name == UploadedName || !IsValidName(name)) continue;
                result.Add(FolderEntry(file, known: null));
            }
        }
        if (_uploads != null)
            foreach (var name in _uploads.Names().Where(n => CanUse(n, caller)))
            {
                var entry = UploadEntry(name);
                // A server corpus of the name, added to the corpora folder after the upload, is the one jobs get.
                result.Add(result.Any(c => c.Name == name) ? entry with { Available = false, Description = $"{entry.Description}; hidden by the server's corpus of the same name " +
                    $"({name}.txt in its corpora folder): jobs naming {name} train on that text, not this upload. Upload this text under another name to train on it " +
                    "(and delete this one), or ask the server's operator to rename the file." } : entry);
            }
        return result;
    }

    /// <summary>A corpora folder's file as <see cref="List"/> gives it; one named as <paramref name="known"/> says it stands in for it.</summary>
    private CorpusEntry FolderEntry(string file, KnownCorpus? known)
    {
        var name = Path.GetFileNameWithoutExtension(file);
        var description = $"{Path.GetFileName(file)} ({new FileInfo(file).Length:N0} bytes)";
        if (!TryMeasure(file, out var measured, out var error))
            return new CorpusEntry(name, $"{description}; cannot be used: {error}{(known == null ? "" : $" (it stands in for the built-in {known.Name}: rename it to train on that)")}", 0, "", false);
        if (known != null)
            description += measured.Sha256 == known.Sha256 ? $", the built-in {known.Name} text" : $", used in place of the built-in {known.Name} ({known.Description}), whose text differs";
        return new CorpusEntry(name, description, measured.Characters, measured.Sha256, true, CodePoints: measured.CodePoints);
    }

    /// <summary>
    /// The known corpora a file in the corpora folder stands in for: its path, and whether its text is the known one's
    /// (null: it cannot be read as a corpus). Told at start, so an operator learns that jobs train on the file.
    /// </summary>
    public IReadOnlyList<(string Name, string File, bool? SameText)> KnownCorporaReplaced() =>
        KnownCorpus.All.Select(k => (k, File: FolderFile(k.Name)))
            .Where(r => r.File != null)
            .Select(r => (r.k.Name, r.File!, TryMeasure(r.File!, out var measured, out _) ? measured.Sha256 == r.k.Sha256 : (bool?)null))
            .ToList();

    /// <summary>The corpora folder's file for <paramref name="name"/>, or null when there is none.</summary>
    private string? FolderFile(string name) =>
        _directory != null && Path.Combine(_directory, name + ".txt") is var file && File.Exists(file) ? file : null;

    /// <summary>Uploads that a file in the corpora folder, added after them, hides (jobs naming them get the file), with their owners.</summary>
    public IReadOnlyList<(string Name, string? Owner)> HiddenUploads()
    {
        if (_uploads == null || _directory == null) return [];
        var server = ServerNames().ToHashSet(StringComparer.Ordinal);
        return _uploads.Names().Where(server.Contains).Select(n => (n, _uploads.Owner(n))).ToList();
    }

    /// <summary>One uploaded corpus as <see cref="List"/> gives it.</summary>
    public CorpusEntry UploadEntry(string name)
    {
        var file = _uploads!.PathOf(name);
        var description = $"uploaded ({new FileInfo(file).Length:N0} bytes)";
        var owner = _uploads.Owner(name);
        return TryMeasure(file, out var measured, out var error)
            ? new CorpusEntry(name, description, measured.Characters, measured.Sha256, true, true, owner, _uploads.StoredAt(name), measured.CodePoints)
            : new CorpusEntry(name, $"{description}; cannot be used: {error}", 0, "", false, true, owner, _uploads.StoredAt(name));
    }

    /// <summary>Whether <paramref name="name"/> names an upload that was deleted (no corpus has the name now).</summary>
    public bool IsDeletedUpload(string name) => _uploads != null && ServerCorpusNamed(name) == null && _uploads.WasDeleted(name);

    /// <summary>Whether <paramref name="name"/> is an upload <paramref name="caller"/> may not read (a server corpus of the name comes first).</summary>
    public bool IsUploadHiddenFrom(string name, Caller caller) =>
        _uploads != null && ServerCorpusNamed(name) != name && _uploads.Exists(name) && !CanUse(name, caller);

    /// <summary>Whether <paramref name="caller"/> may train on (and list) the upload: its owner and admins; one without an owner, admins only.</summary>
    private bool CanUse(string upload, Caller? caller) => caller == null || caller.Owns(_uploads!.Owner(upload));

    /// <summary>
    /// The server's own corpus (a known one, or a file in the corpora folder) whose name equals <paramref name="name"/>
    /// or differs from it only in case; null when there is none. Uploads may not take these names.
    /// </summary>
    public string? ServerCorpusNamed(string name) =>
        ServerNames().Append(UploadedName).FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The corpus a model was trained on: by the checkpoint's word, not by the file (a job on an upload
    /// stopped before its first checkpoint leaves its corpus.txt behind for a later model of the same
    /// name on a named corpus). Uploaded text is the copy in the model's folder.
    /// </summary>
    public Corpus OfModel(string name, string folder, CheckpointMetadata meta)
    {
        if (meta.Corpus.Name != UploadedName)
        {
            try { return Get(meta.Corpus.Name); }
            catch (ServerException e) when (e.Code == Grpc.Core.StatusCode.NotFound && IsDeletedUpload(meta.Corpus.Name))
            {
                var corpus = meta.Corpus.Name;
                throw ServerException.NotFound($"Model '{name}' was trained on the uploaded corpus '{corpus}', which has been deleted: the model still generates, but resuming it needs that text again. " +
                    $"Upload the same text (SHA-256 {meta.Corpus.Sha256}) under the name '{corpus}' (the REPL: upload FILE name={corpus}) to make it resumable.",
                    ErrorReasons.CorpusNotFound, ("corpus", corpus));
            }
        }
        var path = Path.Combine(folder, ModelFolder.UploadedCorpusFile);
        return File.Exists(path) ? Corpus.FromFile(path, UploadedName)
            : throw ServerException.Precondition($"Model '{name}' was trained on uploaded text, and its copy ({ModelFolder.UploadedCorpusFile} in the model's folder) is gone.", ("model", name));
    }

    /// <summary>The names <see cref="List"/> gives <paramref name="caller"/>, without measuring the files.</summary>
    private IEnumerable<string> Names(Caller? caller) =>
        ServerNames().Concat(_uploads == null ? [] : _uploads.Names().Where(n => CanUse(n, caller)));

    /// <summary>The known corpora's names and the corpora folder's.</summary>
    private IEnumerable<string> ServerNames() =>
        KnownCorpus.All.Select(k => k.Name).Concat(_directory == null || !Directory.Exists(_directory) ? []
            : Directory.GetFiles(_directory, "*.txt").Select(Path.GetFileNameWithoutExtension).OfType<string>().Where(n => n != UploadedName && IsValidName(n)));

    /// <summary>Loads a corpus by name (NOT_FOUND for unknown names; a clear error if it cannot be fetched).</summary>
    /// <param name="caller">Who asks, for uploads: another key's upload is NOT_FOUND, as if it were not there. Null
    /// (a resume, a recovery: the model's own corpus) reaches every upload.</param>
    public Corpus Get(string? name, Caller? caller = null)
    {
        var key = string.IsNullOrEmpty(name) ? KnownCorpus.Nietzsche.Name : name;
        ModelNames.Validate(key, "corpus_name", "corpus");
        if (KnownCorpus.All.FirstOrDefault(k => k.Name == key) is { } known && FolderFile(key) == null) // the folder's file, where there is one, is read below
        {
            if (_known.TryGetValue(key, out var cached)) return cached;
            lock (_resolving) // concurrent first uses wait for one fetch (a download, where there is a network) instead of each making its own
            {
                if (_known.TryGetValue(key, out cached)) return cached;
                if (_lastFailure is { } failed && failed.Name == key && Stopwatch.GetElapsedTime(failed.At) < RetryFetchAfter)
                    throw new CorpusException(failed.Error);
                Corpus resolved;
                try { resolved = _resolver.ResolveKnown(known); }
                catch (CorpusException e)
                {
                    _lastFailure = (key, e.Message, Stopwatch.GetTimestamp());
                    throw;
                }
                _known[key] = resolved;
                return resolved;
            }
        }
        if (key == UploadedName)
            throw ServerException.Invalid($"corpus_name '{UploadedName}' is reserved: it names text uploaded with corpus_text. Upload the text, or rename the corpus file.");
        var file = _directory == null ? null : Path.Combine(_directory, key + ".txt");
        if ((file == null || !File.Exists(file)) && _uploads != null && _uploads.Exists(key) && CanUse(key, caller))
            file = _uploads.PathOf(key);
        if (file == null || !File.Exists(file))
            throw ServerException.NotFound($"No corpus '{Echo.Of(key)}' on this server; ListCorpora shows the ones there are, or upload text (UploadCorpus, the REPL's upload).{ClosestName.Suggestion(key, Names(caller))}",
                ErrorReasons.CorpusNotFound, ("corpus", key));
        // A file replaced since it was loaded is read again: jobs train on (and resumes check) what is there now.
        var stamp = FileStamp.Of(file);
        if (_loaded.TryGetValue(file, out var loaded) && loaded.Stamp == stamp && loaded.Corpus.TryGetTarget(out var held)) return held;
        var corpus = Corpus.FromFile(file, key);
        _loaded[file] = new LoadedCorpus(new WeakReference<Corpus>(corpus), stamp);
        return corpus;
    }

    /// <summary>Measures a file once per version of it (length and write time), without keeping its text.</summary>
    private bool TryMeasure(string file, out CorpusFingerprint fingerprint, out string? error)
    {
        var stamp = FileStamp.Of(file);
        try
        {
            if (!_fingerprints.TryGetValue(file, out var known) || known.Stamp != stamp)
                _fingerprints[file] = known = (stamp, CorpusFingerprint.Measure(file));
            fingerprint = known.Fingerprint;
            error = null;
            return true;
        }
        catch (Exception e) when (e is CorpusException or IOException or UnauthorizedAccessException)
        {
            fingerprint = new CorpusFingerprint(0, "", 0);
            error = e.Message;
            return false;
        }
    }

    /// <summary>A folder's corpus as last read: alive while a job (or a plan) holds it.</summary>
    private sealed record LoadedCorpus(WeakReference<Corpus> Corpus, FileStamp Stamp);

    private readonly record struct FileStamp(long Length, DateTime Written)
    {
        public static FileStamp Of(string file)
        {
            var info = new FileInfo(file);
            return info.Exists ? new FileStamp(info.Length, info.LastWriteTimeUtc) : default;
        }
    }

    private static bool IsValidName(string name)
    {
        try { ModelNames.Validate(name, kind: "corpus"); return true; }
        catch (ServerException) { return false; }
    }
}
