using System.Collections.Concurrent;
using CharRnn.Engine.Text;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Models;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Corpora;

/// <summary>A corpus the server offers by name.</summary>
public sealed record CorpusEntry(string Name, string Description, long Characters, string Sha256, bool Available);

/// <summary>
/// The corpora a job can name: the known ones (nietzsche: from the cache, or downloaded and
/// verified on first use) and every *.txt file in the corpora folder, named by file name.
/// Loaded texts are kept in memory.
/// </summary>
public sealed class CorpusStore
{
    public const string UploadedName = "upload";
    private readonly string? _directory;
    private readonly CorpusResolver _resolver;
    private readonly ConcurrentDictionary<string, Corpus> _loaded = new(StringComparer.Ordinal);

    public CorpusStore(IOptions<ServerOptions> options)
    {
        _directory = options.Value.CorporaDirectory is { } d ? Path.GetFullPath(d) : null;
        _resolver = new CorpusResolver(options.Value.CorpusCacheDirectory);
    }

    public IReadOnlyList<CorpusEntry> List()
    {
        var result = new List<CorpusEntry>();
        foreach (var known in KnownCorpus.All)
        {
            var cached = File.Exists(Path.Combine(_resolver.CacheDirectory, known.FileName));
            var chars = _loaded.TryGetValue(known.Name, out var c) ? c.Length : 0;
            result.Add(new CorpusEntry(known.Name, known.Description, chars, known.Sha256, cached));
        }
        if (_directory != null && Directory.Exists(_directory))
        {
            foreach (var file in Directory.GetFiles(_directory, "*.txt").Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                if (KnownCorpus.All.Any(k => k.Name == name) || !IsValidName(name)) continue;
                var chars = _loaded.TryGetValue(name, out var c) ? c.Length : 0;
                result.Add(new CorpusEntry(name, $"{Path.GetFileName(file)} ({new FileInfo(file).Length:N0} bytes)", chars, c?.Sha256 ?? "", true));
            }
        }
        return result;
    }

    /// <summary>Loads a corpus by name (NOT_FOUND for unknown names; a clear error if it cannot be fetched).</summary>
    public Corpus Get(string? name)
    {
        var key = string.IsNullOrEmpty(name) ? KnownCorpus.Nietzsche.Name : name;
        if (_loaded.TryGetValue(key, out var cached)) return cached;
        ModelStore.ValidateName(key, "corpus_name");
        Corpus corpus;
        if (KnownCorpus.All.FirstOrDefault(k => k.Name == key) is { } known)
        {
            corpus = _resolver.ResolveKnown(known);
        }
        else
        {
            var file = _directory == null ? null : Path.Combine(_directory, key + ".txt");
            if (file == null || !File.Exists(file))
                throw ServerException.NotFound($"No corpus '{key}' on this server; ListCorpora shows the ones there are, or upload text with corpus_text.");
            corpus = Corpus.FromFile(file, key);
        }
        return _loaded.GetOrAdd(key, corpus);
    }

    private static bool IsValidName(string name)
    {
        try { ModelStore.ValidateName(name); return true; }
        catch (ServerException) { return false; }
    }
}
