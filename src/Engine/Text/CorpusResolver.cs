using CharRnn.Engine.Storage;

namespace CharRnn.Engine.Text;

/// <summary>
/// Finds a corpus: an explicit path; else a known corpus by name from the user cache folder;
/// else downloaded from its URL, checked against its SHA-256 and stored in the cache.
/// </summary>
public sealed class CorpusResolver
{
    private readonly Func<Uri, CancellationToken, Task<byte[]>> _download;

    public CorpusResolver(string? cacheDirectory = null, Func<Uri, CancellationToken, Task<byte[]>>? download = null)
    {
        CacheDirectory = cacheDirectory ?? DefaultCacheDirectory();
        _download = download ?? DownloadAsync;
    }

    public string CacheDirectory { get; }

    /// <summary>$CHARRNN_CACHE_DIR, else $XDG_CACHE_HOME/charrnn, else ~/.cache/charrnn.</summary>
    public static string DefaultCacheDirectory()
    {
        var explicitDir = Environment.GetEnvironmentVariable("CHARRNN_CACHE_DIR");
        if (!string.IsNullOrEmpty(explicitDir)) return explicitDir;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "charrnn");
    }

    /// <summary>Resolves "nietzsche" (or null: the default), a known name, or a file path.</summary>
    public Corpus Resolve(string? pathOrName, CancellationToken cancellation = default)
    {
        var key = string.IsNullOrWhiteSpace(pathOrName) ? KnownCorpus.Nietzsche.Name : pathOrName;
        var known = KnownCorpus.All.FirstOrDefault(k => string.Equals(k.Name, key, StringComparison.OrdinalIgnoreCase));
        if (known == null || File.Exists(key))
        {
            if (File.Exists(key)) return Corpus.FromFile(key);
            var names = KnownCorpus.All.Select(k => k.Name).ToList();
            // A slip in a known name ("nietzche") is more likely than a missing file: say which name was meant.
            throw new CorpusException($"Corpus '{key}' is neither a file nor a known corpus ({string.Join(", ", names)}). Give the path of a UTF-8 text file.{ClosestName.Suggestion(key, names)}");
        }
        return ResolveKnown(known, cancellation);
    }

    public Corpus ResolveKnown(KnownCorpus known, CancellationToken cancellation = default)
    {
        var cached = Path.Combine(CacheDirectory, known.FileName);
        string? cachedProblem = null; // why the cached copy was not used, for the error if the download fails too
        if (File.Exists(cached))
        {
            byte[]? bytes = null;
            try { bytes = File.ReadAllBytes(cached); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { cachedProblem = $"the cached copy ({cached}) cannot be read: {e.Message}"; }
            if (bytes != null && Corpus.HexSha256(bytes) is var sha)
            {
                if (sha == known.Sha256) return Corpus.FromBytes(bytes, known.Name, cached);
                cachedProblem = $"the cached copy ({cached}) has SHA-256 {sha}, not the expected {known.Sha256} (another edition, or damaged)";
            }
            // A damaged cache entry is replaced by a fresh download below, never trusted.
        }

        byte[] downloaded;
        try
        {
            downloaded = _download(known.Url, cancellation).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or InvalidOperationException)
        {
            throw new CorpusException(
                $"The {known.Name} corpus {(cachedProblem != null ? $"could not be used: {cachedProblem}; and" : $"is not in the cache ({cached}) and")} " +
                $"downloading it from {known.Url} failed: {e.Message}. Copy the file from {known.Url} (SHA-256 {known.Sha256}) to {cached}, " +
                "or pass a UTF-8 text file with --corpus PATH.");
        }
        var downloadedSha = Corpus.HexSha256(downloaded);
        if (downloadedSha != known.Sha256)
            throw new CorpusException(
                $"The file downloaded from {known.Url} has SHA-256 {downloadedSha}, expected {known.Sha256}; it was not saved. " +
                $"Copy the right file to {cached}, or pass a file with --corpus PATH.");
        try { AtomicFile.WriteAllBytes(cached, downloaded); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A cache that cannot be written (read-only, a full disk, no home folder) costs a download next time, not this run.
            return Corpus.FromBytes(downloaded, known.Name, known.Url.ToString());
        }
        return Corpus.FromBytes(downloaded, known.Name, cached);
    }

    private static async Task<byte[]> DownloadAsync(Uri url, CancellationToken cancellation)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        return await http.GetByteArrayAsync(url, cancellation).ConfigureAwait(false);
    }
}
