using System.Security.Cryptography;
using System.Text;
using CharRnn.ModelServer.Corpora;
using CharRnn.ModelServer.Hosting;

namespace CharRnn.ModelServer.Tests;

public sealed class CorpusStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "charrnn-corpora-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly CorpusStore _store;

    public CorpusStoreTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "corpora"));
        _store = new CorpusStore(Microsoft.Extensions.Options.Options.Create(new ServerOptions
        {
            ModelsDirectory = Path.Combine(_root, "models"),
            CorporaDirectory = Path.Combine(_root, "corpora"),
            CorpusCacheDirectory = Path.Combine(_root, "cache"),
        }));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_root, "corpora", name + ".txt");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void A_folders_corpus_is_shared_while_held_and_freed_once_no_job_holds_it()
    {
        Write("held", "some text to learn from\n"u8.ToArray());
        var held = _store.Get("held");
        Assert.Same(held, _store.Get("held"));

        var dropped = LoadAndDrop("dropped");
        for (var i = 0; i < 5 && IsAlive(dropped); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(IsAlive(dropped), "the store keeps a corpus no one uses");
        Assert.Equal("some other text\n", _store.Get("dropped").Text); // read again when asked for
        GC.KeepAlive(held);
    }

    // Not inlined: the target a check reads (or a corpus a load returns) must not stay in the test's own stack frame.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static bool IsAlive(WeakReference<Engine.Text.Corpus> corpus) => corpus.TryGetTarget(out _);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private WeakReference<Engine.Text.Corpus> LoadAndDrop(string name)
    {
        Write(name, "some other text\n"u8.ToArray());
        return new WeakReference<Engine.Text.Corpus>(_store.Get(name));
    }

    [Fact]
    public void Corpora_not_yet_loaded_are_listed_with_their_size_and_fingerprint()
    {
        Write("swedish", Encoding.UTF8.GetPreamble().Concat("smörgåsbord 🐈\n"u8.ToArray()).ToArray());
        Write("broken", [0x61, 0xFF, 0x62]);
        Write("empty", []);

        var listed = _store.List().ToDictionary(c => c.Name);

        var swedish = listed["swedish"];
        Assert.True(swedish.Available);
        Assert.Equal("smörgåsbord 🐈\n".Length, swedish.Characters);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(_root, "corpora", "swedish.txt")))), swedish.Sha256);
        var loaded = _store.Get("swedish"); // what a job would train on: the same size and fingerprint
        Assert.Equal((loaded.Length, loaded.Sha256), ((int)swedish.Characters, swedish.Sha256));

        Assert.False(listed["broken"].Available);
        Assert.Contains("not valid UTF-8 (first bad byte at offset 1)", listed["broken"].Description);
        Assert.False(listed["empty"].Available);
        Assert.Contains("is empty", listed["empty"].Description);
        Assert.False(listed["nietzsche"].Available); // not downloaded into this cache
    }

    [Fact]
    public void Upload_is_a_reserved_corpus_name_not_a_file()
    {
        // "upload" names the text a job was sent: a file of that name would make such models unresumable.
        Write("upload", "some text that is not an upload\n"u8.ToArray());
        Assert.DoesNotContain(_store.List(), c => c.Name == CorpusStore.UploadedName);
        var e = Assert.Throws<Errors.ServerException>(() => _store.Get(CorpusStore.UploadedName));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, e.Code);
        Assert.Contains("corpus_name 'upload' is reserved", e.Message);
    }

    [Fact]
    public void A_bad_corpus_name_is_refused_as_a_corpus_name()
    {
        var e = Assert.Throws<Errors.ServerException>(() => _store.Get("../etc/passwd"));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, e.Code);
        Assert.Contains("corpus_name '../etc/passwd' is not a valid name; a corpus name is", e.Message);
    }

    [Fact]
    public void A_corpus_file_replaced_after_loading_is_read_again()
    {
        var path = Write("notes", "first version"u8.ToArray());
        Assert.Equal("first version", _store.Get("notes").Text);
        File.WriteAllText(path, "second, longer version");
        Assert.Equal("second, longer version", _store.Get("notes").Text);
        Assert.Equal("second, longer version".Length, _store.List().Single(c => c.Name == "notes").Characters);
    }

    /// <summary>A store of this test's corpora folder whose known corpora are not in its cache and cannot be downloaded.</summary>
    private CorpusStore Offline(Action attempted) => new(Microsoft.Extensions.Options.Options.Create(new ServerOptions
    {
        ModelsDirectory = Path.Combine(_root, "models"),
        CorporaDirectory = Path.Combine(_root, "corpora"),
        CorpusCacheDirectory = Path.Combine(_root, "empty-cache"),
    }), (_, _) => { attempted(); throw new HttpRequestException("no route to host"); });

    [Fact]
    public void A_known_corpus_that_cannot_be_fetched_is_not_fetched_again_for_a_minute()
    {
        var attempts = 0;
        var offline = Offline(() => attempts++);
        var first = Assert.Throws<Engine.Text.CorpusException>(() => offline.Get(null)); // the default corpus: nietzsche
        Assert.Contains("no route to host", first.Message);
        var second = Assert.Throws<Engine.Text.CorpusException>(() => offline.Get("nietzsche"));
        Assert.Equal(first.Message, second.Message);
        Assert.Equal(1, attempts); // the second call did not wait for a download of its own
    }

    /// <summary>
    /// A nietzsche.txt the operator put in the corpora folder is the corpus nietzsche (and the default), not skipped for
    /// the built-in one: the list says so and gives its size and fingerprint, and nothing is fetched.
    /// </summary>
    [Fact]
    public void A_corpora_folder_file_named_as_a_known_corpus_is_used_in_its_place_and_listed_so()
    {
        var attempts = 0;
        var store = Offline(() => attempts++);
        var path = Write("nietzsche", "my own nietzsche\n"u8.ToArray());

        var listed = Assert.Single(store.List(), c => c.Name == "nietzsche");
        Assert.True(listed.Available);
        Assert.Equal(("my own nietzsche\n".Length, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))), ((int)listed.Characters, listed.Sha256));
        Assert.Equal("nietzsche.txt (17 bytes), used in place of the built-in nietzsche (Nietzsche, Beyond Good and Evil (the fast.ai lesson's corpus)), whose text differs",
                     listed.Description);
        Assert.Equal("my own nietzsche\n", store.Get("nietzsche").Text);
        Assert.Equal("my own nietzsche\n", store.Get(null).Text); // the default corpus too
        Assert.Equal(0, attempts);
        Assert.Equal([("nietzsche", path, (bool?)false)], store.KnownCorporaReplaced());

        // One that cannot be read is refused, not passed over for the built-in text.
        File.WriteAllBytes(path, [0x61, 0xFF, 0x62]);
        Assert.Contains("not valid UTF-8", Assert.Throws<Engine.Text.CorpusException>(() => store.Get("nietzsche")).Message);
        Assert.EndsWith("(it stands in for the built-in nietzsche: rename it to train on that)", Assert.Single(store.List(), c => c.Name == "nietzsche").Description);
        Assert.Equal(0, attempts);

        // Taken away again, the name is the built-in corpus's once more.
        File.Delete(path);
        Assert.False(Assert.Single(store.List(), c => c.Name == "nietzsche").Available);
        Assert.Throws<Engine.Text.CorpusException>(() => store.Get("nietzsche"));
        Assert.Empty(store.KnownCorporaReplaced());
    }
}
