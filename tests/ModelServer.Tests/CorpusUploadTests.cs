using System.Text;
using CharRnn.Protos.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CharRnn.ModelServer.Tests;

/// <summary>UploadCorpus and DeleteCorpus on a server with keys: ownership, training on an upload, every refusal.</summary>
public class CorpusUploadTests(KeyedServer keyed) : IClassFixture<KeyedServer>
{
    private string UploadsFolder => Path.Combine(keyed.Server.Options.ModelsDirectory, Corpora.UploadedCorpora.FolderName);

    /// <summary>Sends a header and then <paramref name="text"/> in pieces of <paramref name="piece"/> bytes (split anywhere).</summary>
    internal static Task<CorpusInfo> Upload(Catalog.CatalogClient client, string name, byte[] text, bool replace = false, int piece = 7) =>
        Send(client, [
            new UploadCorpusRequest { Header = new UploadCorpusHeader { Name = name, Replace = replace } },
            .. Enumerable.Range(0, (text.Length + piece - 1) / piece)
                .Select(i => new UploadCorpusRequest { Data = ByteString.CopyFrom(text, i * piece, Math.Min(piece, text.Length - i * piece)) }),
        ]);

    /// <summary>
    /// Streams <paramref name="messages"/> and returns the server's answer. A server that refuses the upload (at its
    /// header, say) ends the call while later messages are still being written: such a write fails (CANCELLED), and
    /// the call's own status, the refusal, is what the response gives.
    /// </summary>
    private static async Task<CorpusInfo> Send(Catalog.CatalogClient client, IEnumerable<UploadCorpusRequest> messages)
    {
        using var call = client.UploadCorpus();
        try
        {
            foreach (var message in messages) await call.RequestStream.WriteAsync(message);
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException) { } // the call has ended: ResponseAsync says how
        catch (InvalidOperationException) { } // a write after the call completed
        return await call.ResponseAsync;
    }

    private static Task<CorpusInfo> Upload(Catalog.CatalogClient client, string name, string text, bool replace = false) =>
        Upload(client, name, Encoding.UTF8.GetBytes(text), replace);

    private static async Task<RpcException> Refused(StatusCode code, Func<Task> call)
    {
        var e = await Calls.Fails(call);
        Assert.Equal(code, e.StatusCode);
        return e;
    }

    private static StartJobRequest Job(string model, string corpus, int maxSteps)
    {
        var r = new StartJobRequest { ModelName = model, Architecture = "stateful-rnn", CorpusName = corpus, Options = new TrainingOptions { MaxSteps = maxSteps, Epochs = 1000, SampleChars = 0 } };
        r.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 16, ["bs"] = 8 });
        return r;
    }

    private static async Task<List<CorpusInfo>> Listed(KeyedServer.Api as_) => [.. (await as_.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora];

    [Fact]
    public async Task An_upload_is_listed_to_its_owner_and_admins_only_and_trains_and_resumes_like_a_server_corpus()
    {
        var info = await Upload(keyed.AsAlice.Catalog, "alice-cats", "é" + ServerFixture.TinyText); // "é" split across pieces
        Assert.True(info.Uploaded);
        Assert.True(info.Available);
        Assert.Equal("alice", info.Owner);
        Assert.Equal(1 + ServerFixture.TinyText.Length, info.Characters);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes("é" + ServerFixture.TinyText))), info.Sha256);
        Assert.NotNull(info.UploadedAt);

        Assert.Equal(info, (await Listed(keyed.AsAlice)).Single(c => c.Name == "alice-cats"));
        Assert.Equal("alice", (await Listed(keyed.AsAdmin)).Single(c => c.Name == "alice-cats").Owner);
        Assert.DoesNotContain(await Listed(keyed.AsBob), c => c.Name == "alice-cats");
        var tiny = (await Listed(keyed.AsBob)).Single(c => c.Name == "tiny"); // the operator's corpora: every key's, owned by none
        Assert.False(tiny.Uploaded);
        Assert.Equal("", tiny.Owner);

        // Another key cannot train on it: as if it were not there.
        var hidden = await Refused(StatusCode.NotFound, () => keyed.AsBob.Training.StartJobAsync(Job("bob-on-alices", "alice-cats", 2)).ResponseAsync);
        Assert.StartsWith("No corpus 'alice-cats' on this server", hidden.Status.Detail);

        var trained = await keyed.AsAlice.Training.Train(Job("alice-cats-model", "alice-cats", 2)).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, trained[^1].EventCase);
        var model = await keyed.AsAlice.Catalog.GetModelAsync(new GetModelRequest { Name = "alice-cats-model" });
        Assert.Equal("alice-cats", model.Summary.CorpusName);
        Assert.Equal(info.Sha256, model.Summary.CorpusSha256);

        var resume = new StartJobRequest { ModelName = "alice-cats-model", Resume = true, Options = new TrainingOptions { MaxSteps = 3 } };
        var resumed = await keyed.AsAlice.Training.Train(resume).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase);
        Assert.Equal(3, (await keyed.AsAlice.Catalog.GetModelAsync(new GetModelRequest { Name = "alice-cats-model" })).Summary.StepsTrained);
    }

    [Fact]
    public async Task Replacing_needs_replace_and_the_owner_or_an_admin_and_keeps_the_owner()
    {
        await Upload(keyed.AsAlice.Catalog, "alice-replaced", "first text");
        var exists = await Refused(StatusCode.AlreadyExists, () => Upload(keyed.AsAlice.Catalog, "alice-replaced", "second text"));
        Assert.Equal("Corpus 'alice-replaced' exists; set replace to store this text in its place (replace=true in the REPL), delete it first, or choose another name.", exists.Status.Detail);
        var others = await Refused(StatusCode.AlreadyExists, () => Upload(keyed.AsBob.Catalog, "alice-replaced", "bob's text", replace: true));
        Assert.Equal("The name 'alice-replaced' is taken by a corpus this key cannot change; choose another name.", others.Status.Detail);
        var cased = await Refused(StatusCode.AlreadyExists, () => Upload(keyed.AsAlice.Catalog, "Alice-Replaced", "cased"));
        Assert.Contains("corpus names may not differ only in case", cased.Status.Detail);

        var replaced = await Upload(keyed.AsAlice.Catalog, "alice-replaced", "second text", replace: true);
        Assert.Equal("second text".Length, replaced.Characters);
        var byAdmin = await Upload(keyed.AsAdmin.Catalog, "alice-replaced", "the admin's text", replace: true);
        Assert.Equal("alice", byAdmin.Owner);
        Assert.Equal("the admin's text", File.ReadAllText(Path.Combine(UploadsFolder, "alice-replaced.txt")));
    }

    [Theory]
    [InlineData("../escape", "header.name '../escape' is not a valid name; a corpus name is 1 to 64 characters from letters, digits, '.', '_' and '-', starting with a letter or digit (names are not paths).")]
    [InlineData("CON", "header.name 'CON' is not allowed: CON is a device name on Windows (CON, PRN, AUX, NUL, COM1 to COM9 and LPT1 to LPT9, in any case, with or without an extension), so a file of that name cannot be made or copied there. Pick another name; a corpus name is 1 to 64 characters from letters, digits, '.', '_' and '-', starting with a letter or digit.")]
    [InlineData("nul.txt", "header.name 'nul.txt' is not allowed: NUL is a device name on Windows (CON, PRN, AUX, NUL, COM1 to COM9 and LPT1 to LPT9, in any case, with or without an extension), so a file of that name cannot be made or copied there. Pick another name; a corpus name is 1 to 64 characters from letters, digits, '.', '_' and '-', starting with a letter or digit.")]
    [InlineData("notes.", "header.name 'notes.' is not allowed: it ends with '.', which a new model's name may not (Windows drops it from a folder's name), and a corpus name keeps the models' rule. Pick another name; a corpus name is 1 to 64 characters from letters, digits, '.', '_' and '-', starting with a letter or digit.")]
    [InlineData("", "header.name is empty; a corpus name is 1 to 64 characters from letters, digits, '.', '_' and '-', starting with a letter or digit.")]
    public async Task A_bad_name_is_refused(string name, string message)
    {
        var e = await Refused(StatusCode.InvalidArgument, () => Upload(keyed.AsAlice.Catalog, name, "text"));
        Assert.Equal(message, e.Status.Detail);
    }

    [Fact]
    public async Task An_uploads_size_is_given_in_characters_as_code_points_and_in_utf16_units()
    {
        // 😀 is one character beyond U+FFFF (two UTF-16 units, which GetPassage's offsets count); the REPL shows code_points as chars.
        var info = await Upload(keyed.AsAlice.Catalog, "emoji-size", "the 😀 sat\n");
        Assert.Equal((10L, 11L), (info.CodePoints, info.Characters));
        var listed = (await keyed.AsAlice.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora.Single(c => c.Name == "emoji-size");
        Assert.Equal((10L, 11L), (listed.CodePoints, listed.Characters));
        Assert.All((await keyed.AsAlice.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora.Where(c => c.Characters > 0), c => Assert.True(c.CodePoints > 0, c.Name));
        await keyed.AsAlice.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "emoji-size" });
    }

    [Theory]
    [InlineData("console")]
    [InlineData("com10")]
    public async Task A_name_that_only_begins_like_a_Windows_device_name_is_taken(string name)
    {
        var info = await Upload(keyed.AsAlice.Catalog, name, "text");
        Assert.Equal(name, info.Name);
        Assert.True(File.Exists(Path.Combine(UploadsFolder, name + ".txt")));
        await keyed.AsAlice.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = name });
    }

    [Theory]
    [InlineData("tiny", "Corpus 'tiny' is one of the server's own corpora (ListCorpora); choose another name for the upload.")]
    [InlineData("nietzsche", "Corpus 'nietzsche' is one of the server's own corpora (ListCorpora); choose another name for the upload.")]
    [InlineData("TINY", "The server has a corpus named 'tiny', and corpus names may not differ only in case (on some file systems they are one file); choose another name.")]
    [InlineData("upload", "The corpus name 'upload' is reserved: \"upload\" stands for text sent with StartJob's corpus_text. Choose another name.")]
    public async Task A_name_of_the_servers_own_corpora_is_refused(string name, string message)
    {
        var e = await Refused(StatusCode.AlreadyExists, () => Upload(keyed.AsAdmin.Catalog, name, "text", replace: true));
        Assert.Equal(message, e.Status.Detail);
        Assert.Equal(ServerFixture.TinyText, File.ReadAllText(Path.Combine(keyed.Server.Options.CorporaDirectory!, "tiny.txt")));
    }

    public static TheoryData<byte[], string> BadTexts => new()
    {
        { [(byte)'a', (byte)'b', 0xC3, 0x28, (byte)'c'], "Corpus 'bad-text' is not valid UTF-8 (first bad byte at offset 2); send UTF-8 text. Nothing was stored." },
        { [(byte)'a', 0xE2, 0x82], "Corpus 'bad-text' is not valid UTF-8 (first bad byte at offset 1); send UTF-8 text. Nothing was stored." }, // cut short at the end
        { [0xFF, 0xFE, (byte)'a', 0], "Corpus 'bad-text' is UTF-16 (its first bytes, FF FE, are UTF-16's byte-order mark), not UTF-8; convert it (iconv -f UTF-16 -t UTF-8) or send UTF-8 text. Nothing was stored." },
        { [], "Corpus 'bad-text' is empty; a corpus needs some text to learn from. Nothing was stored." },
        { [0xEF, 0xBB, 0xBF], "Corpus 'bad-text' is empty; a corpus needs some text to learn from. Nothing was stored." }, // a BOM alone
        { [0, 0, 0], "Corpus 'bad-text' has a NUL character (U+0000) at line 1, column 1, which every model's vocabulary holds as padding, not as text; remove every NUL from it (tr -d '\\000' < FILE > NEW). Nothing was stored." },
        // UTF-16 without its byte-order mark: valid UTF-8, a NUL after every letter (short: refused at its end; long: at the piece that decides)
        { Encoding.Unicode.GetBytes("the\nquick"), "Corpus 'bad-text' has a NUL character (U+0000) at line 1, column 2, which every model's vocabulary holds as padding, not as text; its NULs fall where UTF-16LE's would: it looks like UTF-16LE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-16LE -t UTF-8). Nothing was stored." },
        { Encoding.BigEndianUnicode.GetBytes(string.Concat(Enumerable.Repeat("the quick brown fox\n", 100))), "Corpus 'bad-text' has a NUL character (U+0000) at line 1, column 1, which every model's vocabulary holds as padding, not as text; its NULs fall where UTF-16BE's would: it looks like UTF-16BE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-16BE -t UTF-8). Nothing was stored." },
        // ... and with a letter beyond ASCII (é is E9 00): not UTF-8 at all, named by where its NULs fall
        { Encoding.Unicode.GetBytes("café"), "Corpus 'bad-text' is not valid UTF-8 (first bad byte at offset 6); its NULs fall where UTF-16LE's would: it looks like UTF-16LE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-16LE -t UTF-8) or send UTF-8 text. Nothing was stored." },
        { Encoding.UTF8.GetBytes("\uFEFFab\nc\0d"), "Corpus 'bad-text' has a NUL character (U+0000) at line 2, column 2, which every model's vocabulary holds as padding, not as text; remove every NUL from it (tr -d '\\000' < FILE > NEW). Nothing was stored." },
    };

    [Theory]
    [MemberData(nameof(BadTexts))]
    public async Task Text_that_cannot_be_trained_on_is_refused_and_nothing_is_stored(byte[] text, string message)
    {
        var e = await Refused(StatusCode.InvalidArgument, () => Upload(keyed.AsAlice.Catalog, "bad-text", text, piece: 2));
        Assert.Equal(message, e.Status.Detail);
        Assert.Equal("data", Calls.FieldAtFault(e)); // the text's fault: the field that carried it, for a program to mark
        Assert.False(File.Exists(Path.Combine(UploadsFolder, "bad-text.txt")));
        Assert.Empty(Directory.Exists(UploadsFolder) ? Directory.GetFiles(UploadsFolder, ".*") : []);
    }

    [Fact]
    public async Task A_delete_whose_record_the_disk_refuses_says_the_corpus_is_deleted_all_the_same()
    {
        // The text is deleted before its row is marked: a refused mark cannot say "nothing changed", nor to try again.
        await Upload(keyed.AsAlice.Catalog, "refused-mark", "some text to delete");
        using (new RefusedDatabaseWrite(keyed.Server.Options.ModelsDirectory, "old.name = 'refused-mark'", "UPDATE ON corpora"))
        {
            var e = await Refused(StatusCode.ResourceExhausted, () => keyed.AsAlice.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "refused-mark" }).ResponseAsync);
            Assert.Equal("The server could not store what DeleteCorpus changes: its disk is full (or over its quota, or failing). Corpus 'refused-mark' is deleted all the same: "
                         + "its text is gone. Do not try again (a delete finds no corpus 'refused-mark' now); the server's operator should make room.", e.Status.Detail);
            // As it says: a retry has nothing to delete.
            await Refused(StatusCode.NotFound, () => keyed.AsAlice.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "refused-mark" }).ResponseAsync);
        }
        Assert.DoesNotContain(await Listed(keyed.AsAlice), c => c.Name == "refused-mark");
    }

    /// <summary>Runs <paramref name="test"/> with the upload limits changed, and puts them back after.</summary>
    private async Task WithLimits(Action<Hosting.ServerLimits> change, Func<Task> test)
    {
        var limits = keyed.Server.Options.Limits;
        var saved = (limits.MaxCorpusBytes, limits.MaxCorporaPerKey);
        change(limits);
        try { await test(); }
        finally { (limits.MaxCorpusBytes, limits.MaxCorporaPerKey) = saved; }
    }

    [Fact]
    public Task A_text_over_max_corpus_bytes_is_refused_naming_the_limit_and_GetServerInfo_shows_it() => WithLimits(l => l.MaxCorpusBytes = 10, async () =>
    {
        Assert.Equal(10, (await keyed.AsAlice.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).Limits.MaxCorpusBytes);
        await Upload(keyed.AsAlice.Catalog, "just-fits", "0123456789");
        var e = await Refused(StatusCode.InvalidArgument, () => Upload(keyed.AsAlice.Catalog, "too-long", "0123456789A"));
        Assert.Equal("Corpus 'too-long' is larger than this server stores: more than 10 bytes (limit max_corpus_bytes, charrnn serve --max-corpus-mb). Nothing was stored.", e.Status.Detail);
        Assert.Equal("data", Calls.FieldAtFault(e));
        Assert.False(File.Exists(Path.Combine(UploadsFolder, "too-long.txt")));
    });

    [Fact]
    public Task A_key_may_own_max_corpora_per_key_uploads_and_still_replace_them() => WithLimits(l => l.MaxCorporaPerKey = 1, async () =>
    {
        Assert.Equal(1, (await keyed.AsDave.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).Limits.MaxCorporaPerKey);
        await Upload(keyed.AsDave.Catalog, "dave-one", "one text");
        var e = await Refused(StatusCode.ResourceExhausted, () => Upload(keyed.AsDave.Catalog, "dave-two", "another text"));
        Assert.Equal("Key 'dave' owns 1 uploaded corpora, its quota (limit max_corpora_per_key = 1); delete ones it no longer needs (DeleteCorpus), or replace one.", e.Status.Detail);
        Assert.Equal("QUOTA_MAX_CORPORA_PER_KEY", e.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason);
        Assert.Equal("a replacement".Length, (await Upload(keyed.AsDave.Catalog, "dave-one", "a replacement", replace: true)).Characters);
    });

    [Fact]
    public async Task An_upload_under_way_counts_toward_max_corpora_per_key()
    {
        var owned = (await Listed(keyed.AsDave)).Count(c => c.Uploaded); // another test's upload may be there
        await WithLimits(l => l.MaxCorporaPerKey = owned + 1, () => UploadsUnderWayCount(owned + 1));
    }

    private async Task UploadsUnderWayCount(int quota)
    {
        // Two uploads of new names at once by one key: each counted the stored ones only, and both were stored.
        using var first = keyed.AsDave.Catalog.UploadCorpus();
        await first.RequestStream.WriteAsync(new UploadCorpusRequest { Header = new UploadCorpusHeader { Name = "dave-first" } });
        await first.RequestStream.WriteAsync(new UploadCorpusRequest { Data = ByteString.CopyFromUtf8("the first text") });
        // Until the server is writing it (its temp file is there): past the quota check.
        for (var waited = 0; !Directory.Exists(UploadsFolder) || Directory.GetFiles(UploadsFolder, ".dave-first*").Length == 0; waited += 20)
        {
            Assert.True(waited < 30_000, "the first upload was not under way");
            await Task.Delay(20);
        }
        var second = await Refused(StatusCode.ResourceExhausted, () => Upload(keyed.AsDave.Catalog, "dave-second", "another text"));
        Assert.Equal($"Key 'dave' owns {quota} uploaded corpora, its quota (limit max_corpora_per_key = {quota}); delete ones it no longer needs (DeleteCorpus), or replace one.", second.Status.Detail);
        await first.RequestStream.CompleteAsync();
        Assert.Equal("dave", (await first.ResponseAsync).Owner);
        await keyed.AsDave.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "dave-first" });
    }

    [Fact]
    public async Task An_upload_must_start_with_one_header()
    {
        var dataFirst = await Refused(StatusCode.InvalidArgument, () => Send(keyed.AsAlice.Catalog, [new UploadCorpusRequest { Data = ByteString.CopyFromUtf8("text first") }]));
        Assert.Equal("The upload's first message must be the header naming the corpus; the text follows it as data.", dataFirst.Status.Detail);
        var twoHeaders = await Refused(StatusCode.InvalidArgument, () => Send(keyed.AsAlice.Catalog, [
            new UploadCorpusRequest { Header = new UploadCorpusHeader { Name = "two-headers" } },
            new UploadCorpusRequest { Data = ByteString.CopyFromUtf8("text") },
            new UploadCorpusRequest { Header = new UploadCorpusHeader { Name = "two-headers" } },
        ]));
        Assert.Equal("Only the upload's first message may be a header; the ones after it carry the text as data.", twoHeaders.Status.Detail);
        Assert.False(File.Exists(Path.Combine(UploadsFolder, "two-headers.txt")));
    }

    [Fact]
    public async Task A_failed_replacement_leaves_the_corpus_as_it_was_and_a_cancelled_upload_leaves_nothing()
    {
        await Upload(keyed.AsAlice.Catalog, "alice-kept", "the original text");
        await Refused(StatusCode.InvalidArgument, () => Upload(keyed.AsAlice.Catalog, "alice-kept", [(byte)'o', (byte)'k', 0xFF], replace: true));
        Assert.Equal("the original text", File.ReadAllText(Path.Combine(UploadsFolder, "alice-kept.txt")));

        using (var cancel = new CancellationTokenSource())
        {
            var call = keyed.AsAlice.Catalog.UploadCorpus(cancellationToken: cancel.Token);
            await call.RequestStream.WriteAsync(new UploadCorpusRequest { Header = new UploadCorpusHeader { Name = "alice-kept", Replace = true } });
            await call.RequestStream.WriteAsync(new UploadCorpusRequest { Data = ByteString.CopyFromUtf8("half a replacement") });
            cancel.Cancel();
            await Calls.Fails(() => call.ResponseAsync); // CANCELLED, or as the in-process test server words it, HTTP 499
            call.Dispose();
        }
        // The server ends the call when it sees the cancellation; its temp file goes as it does.
        for (var waited = 0; Directory.GetFiles(UploadsFolder, ".*").Length > 0; waited += 20)
        {
            Assert.True(waited < 30_000, "the cancelled upload's temp file stayed");
            await Task.Delay(20);
        }
        Assert.Equal("the original text", File.ReadAllText(Path.Combine(UploadsFolder, "alice-kept.txt")));
        // And its name is free again for the next upload.
        for (var waited = 0; ; waited += 20)
        {
            try
            {
                await Upload(keyed.AsAlice.Catalog, "alice-kept", "the new text", replace: true);
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition && waited < 30_000) { await Task.Delay(20); }
        }
        Assert.Equal("the new text", File.ReadAllText(Path.Combine(UploadsFolder, "alice-kept.txt")));
    }

    [Fact]
    public async Task Deleting_is_for_the_owner_or_an_admin_and_waits_for_no_job_using_it()
    {
        await Upload(keyed.AsBob.Catalog, "bob-deleted", ServerFixture.TinyText);
        var notFound = await Refused(StatusCode.NotFound, () => keyed.AsAlice.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "bob-deleted" }).ResponseAsync);
        Assert.Equal("No uploaded corpus 'bob-deleted' for this key; ListCorpora shows the corpora it can use.", notFound.Status.Detail);
        var server = await Refused(StatusCode.PermissionDenied, () => keyed.AsAdmin.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "tiny" }).ResponseAsync);
        Assert.Equal("Corpus 'tiny' is one of the server's own corpora, not an upload: DeleteCorpus deletes uploads only. The server's operator removes it from the corpora folder.", server.Status.Detail);

        var job = await keyed.AsBob.Training.StartJobAsync(Job("bob-deleted-model", "bob-deleted", 1_000_000));
        var inUse = await Refused(StatusCode.FailedPrecondition, () => keyed.AsBob.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "bob-deleted" }).ResponseAsync);
        Assert.Matches($"^Corpus 'bob-deleted' is used by job {job.Id} \\(model 'bob-deleted-model', (running|queued)\\); wait for it to end or stop it \\(StopJob\\), then delete the corpus\\.$", inUse.Status.Detail);
        var replacing = await Refused(StatusCode.FailedPrecondition, () => Upload(keyed.AsAdmin.Catalog, "bob-deleted", "other text", replace: true));
        Assert.Matches($"^Corpus 'bob-deleted' is used by job {job.Id} \\(model 'bob-deleted-model', (running|queued)\\); wait for it to end or stop it \\(StopJob\\), then replace the corpus\\.$", replacing.Status.Detail);
        Assert.Equal(ServerFixture.TinyText, File.ReadAllText(Path.Combine(UploadsFolder, "bob-deleted.txt")));

        await keyed.AsBob.Training.StopJobAsync(new StopJobRequest { JobId = job.Id });
        await keyed.AsBob.Training.WatchJob(new WatchJobRequest { JobId = job.Id }).Events(); // to its end
        await keyed.AsAdmin.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "bob-deleted" }); // an admin may delete any key's
        Assert.DoesNotContain(await Listed(keyed.AsBob), c => c.Name == "bob-deleted");
        Assert.False(File.Exists(Path.Combine(UploadsFolder, "bob-deleted.txt")));
        await Refused(StatusCode.NotFound, () => keyed.AsBob.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "bob-deleted" }).ResponseAsync);
    }

    /// <summary>A server without keys, on Kestrel (as `charrnn serve` runs, its limits on a request's body included), models in <paramref name="root"/>.</summary>
    /// <param name="log">Where what it logs goes; <paramref name="root"/>/corpora is its corpora folder then.</param>
    private static async Task<T> WithServer<T>(string root, Func<Catalog.CatalogClient, Training.TrainingClient, Task<T>> use, CapturedLog? log = null)
    {
        var options = new Hosting.ServerOptions { Listen = "127.0.0.1:0", ModelsDirectory = Path.Combine(root, "models"), Device = "cpu", Threads = 1 };
        if (log != null) Directory.CreateDirectory(options.CorporaDirectory = Path.Combine(root, "corpora"));
        var app = Hosting.ServerHost.Build([], options, logging => { if (log != null) logging.AddProvider(log); });
        try
        {
            using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(await Hosting.ServerHost.StartAsync(app));
            return await use(new Catalog.CatalogClient(channel), new Training.TrainingClient(channel));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static string NewRoot() => Path.Combine(Path.GetTempPath(), "charrnn-uploads-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task A_job_planned_on_the_old_text_of_a_corpus_replaced_before_it_was_queued_is_refused()
    {
        // StartJob plans (reads the corpus) and then queues: a replacement between the two would leave the job training
        // on the old text in memory, and its resume failing on the new text's SHA-256.
        await Upload(keyed.AsAlice.Catalog, "alice-raced", ServerFixture.TinyText);
        var services = keyed.Server.Services;
        var jobs = services.GetRequiredService<Jobs.JobQueue>();
        var planning = new Services.JobPlanning(services.GetRequiredService<TrainedModels.ModelStore>(), services.GetRequiredService<Corpora.CorpusStore>(), keyed.Server.Options.Limits);
        var alice = new Security.Caller("alice", Admin: false);
        var seen = jobs.CorpusChangeCount;
        var plan = planning.Plan(Job("alice-raced-model", "alice-raced", 1), alice) with { CorpusChangesSeen = seen };

        await Upload(keyed.AsAlice.Catalog, "alice-raced", ServerFixture.TinyText + " and more", replace: true);
        var e = Assert.Throws<Errors.ServerException>(() => jobs.Enqueue(plan, alice));
        Assert.Equal(StatusCode.FailedPrecondition, e.Code);
        Assert.Equal("Corpus 'alice-raced' was replaced or deleted while the job was being planned on its earlier text; start the job again.", e.Message);
        Assert.DoesNotContain((await keyed.AsAlice.Training.ListJobsAsync(new ListJobsRequest())).Jobs, j => j.ModelName == "alice-raced-model");
        // Planned after the replacement, it is queued.
        var replanned = planning.Plan(Job("alice-raced-model", "alice-raced", 1), alice) with { CorpusChangesSeen = jobs.CorpusChangeCount };
        var job = jobs.Enqueue(replanned, alice);
        await keyed.AsAlice.Training.WatchJob(new WatchJobRequest { JobId = job.Id }).Events(); // to its end
    }

    [Fact]
    public async Task An_upload_whose_owner_cannot_be_written_stores_nothing()
    {
        // As a server that dies between the two: the owner's row is written before the text is renamed into place,
        // so a failure (or a death) there leaves no file that no key owns, which only admins could see.
        var root = NewRoot();
        var options = Microsoft.Extensions.Options.Options.Create(new Hosting.ServerOptions { ModelsDirectory = root });
        var database = new Persistence.ServerDatabase(options);
        var uploads = new Corpora.UploadedCorpora(options, database, Microsoft.Extensions.Logging.Abstractions.NullLogger<Corpora.UploadedCorpora>.Instance);
        try
        {
            await uploads.Store("first-text", "alice", stream => stream.WriteAsync("some text"u8.ToArray()).AsTask(), keepOwner: false);
            Assert.Equal("alice", uploads.Owner("first-text"));
            database.Dispose(); // its next write fails
            await Assert.ThrowsAnyAsync<Exception>(() => uploads.Store("orphan-text", "alice", stream => stream.WriteAsync("other text"u8.ToArray()).AsTask(), keepOwner: false));
            Assert.False(File.Exists(uploads.PathOf("orphan-text")));
            Assert.Empty(Directory.GetFiles(uploads.Folder, ".*"));
        }
        finally
        {
            database.Dispose();
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task An_upload_larger_than_kestrels_default_body_limit_is_stored()
    {
        // Kestrel caps a request's body at 30,000,000 bytes unless told otherwise; max_corpus_bytes defaults to 64 MiB.
        var root = NewRoot();
        var text = new byte[30_000_000 + 1000];
        Array.Fill(text, (byte)'a');
        try
        {
            var stored = await WithServer(root, (catalog, _) => Upload(catalog, "large-text", text, piece: 1 << 20));
            Assert.Equal(text.Length, stored.Characters);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public async Task A_model_on_a_deleted_upload_says_how_to_make_it_resumable_and_is_once_the_same_text_is_uploaded()
    {
        var info = await Upload(keyed.AsAlice.Catalog, "alice-gone", ServerFixture.TinyText);
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await keyed.AsAlice.Training.Train(Job("alice-gone-model", "alice-gone", 1)).Events())[^1].EventCase);
        await keyed.AsAlice.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "alice-gone" });

        var resume = new StartJobRequest { ModelName = "alice-gone-model", Resume = true, Options = new TrainingOptions { MaxSteps = 2 } };
        var expected = $"Model 'alice-gone-model' was trained on the uploaded corpus 'alice-gone', which has been deleted: the model still generates, " +
                       $"but resuming it needs that text again. Upload the same text (SHA-256 {info.Sha256}) under the name 'alice-gone' (the REPL: upload FILE name=alice-gone) to make it resumable.";
        var e = await Refused(StatusCode.NotFound, () => keyed.AsAlice.Training.StartJobAsync(resume).ResponseAsync);
        Assert.Equal(expected, e.Status.Detail);
        var passage = await Refused(StatusCode.NotFound, () => keyed.AsAlice.Catalog.GetPassageAsync(new GetPassageRequest { ModelName = "alice-gone-model", Length = 10 }).ResponseAsync);
        Assert.Equal(expected, passage.Status.Detail);

        await Upload(keyed.AsAlice.Catalog, "alice-gone", ServerFixture.TinyText);
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await keyed.AsAlice.Training.Train(resume).Events())[^1].EventCase);
    }

    [Fact]
    public async Task A_corpora_folder_file_named_as_an_upload_takes_the_name_and_its_owner_is_told()
    {
        await Upload(keyed.AsAlice.Catalog, "alice-shadowed", "alice's own text. " + ServerFixture.TinyText);
        var operatorFile = Path.Combine(keyed.Server.Options.CorporaDirectory!, "alice-shadowed.txt");
        File.WriteAllText(operatorFile, ServerFixture.TinyText); // added by the operator after the upload
        try
        {
            var listed = (await Listed(keyed.AsAlice)).Where(c => c.Name == "alice-shadowed").ToList();
            var server = listed.Single(c => !c.Uploaded);
            var upload = listed.Single(c => c.Uploaded);
            Assert.True(server.Available);
            Assert.False(upload.Available);
            Assert.EndsWith("; hidden by the server's corpus of the same name (alice-shadowed.txt in its corpora folder): jobs naming alice-shadowed train on that text, not this upload. " +
                            "Upload this text under another name to train on it (and delete this one), or ask the server's operator to rename the file.", upload.Description);
            Assert.Equal("alice", upload.Owner);
            Assert.DoesNotContain(await Listed(keyed.AsBob), c => c.Uploaded && c.Name == "alice-shadowed");

            // Jobs naming it get the operator's text, for the owner too.
            var job = await keyed.AsAlice.Training.StartJobAsync(Job("alice-shadowed-model", "alice-shadowed", 1));
            await keyed.AsAlice.Training.WatchJob(new WatchJobRequest { JobId = job.Id }).Events();
            Assert.Equal(server.Sha256, (await keyed.AsAlice.Catalog.GetModelAsync(new GetModelRequest { Name = "alice-shadowed-model" })).Summary.CorpusSha256);

            // The owner can still delete the hidden upload; the operator's file stays.
            await keyed.AsAlice.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "alice-shadowed" });
            Assert.Equal(server, (await Listed(keyed.AsAlice)).Single(c => c.Name == "alice-shadowed"));
        }
        finally { File.Delete(operatorFile); }
    }

    [Fact]
    public async Task A_start_warns_of_each_upload_a_corpora_folder_file_hides()
    {
        var root = NewRoot();
        try
        {
            await WithServer(root, (catalog, _) => Upload(catalog, "notes", ServerFixture.TinyText), new CapturedLog());
            File.WriteAllText(Path.Combine(root, "corpora", "notes.txt"), "the operator's notes");
            var log = new CapturedLog();
            await WithServer(root, (_, _) => Task.FromResult(0), log);
            Assert.Contains("Warning: Uploaded corpus notes (owner local) is hidden by the corpora folder's notes.txt: jobs naming notes train on that file. " +
                            "Rename the file, or ask the upload's owner to upload the text under another name.", log.Lines);
        }
        finally { Directory.Delete(root, true); }
    }

    /// <summary>
    /// A server (serve, or the TUI's embedded one: the same host) with a nietzsche.txt of other text in its corpora folder
    /// says at start that jobs train on it in place of the built-in corpus, and ListCorpora describes it so.
    /// </summary>
    [Fact]
    public async Task A_start_warns_that_a_corpora_folder_file_stands_in_for_the_built_in_corpus_of_its_name()
    {
        var root = NewRoot();
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "corpora"));
            File.WriteAllText(Path.Combine(root, "corpora", "nietzsche.txt"), ServerFixture.TinyText);
            var log = new CapturedLog();
            var listed = await WithServer(root, async (catalog, _) => (await catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora.Single(c => c.Name == "nietzsche"), log);
            Assert.Contains("Warning: The corpora folder's nietzsche.txt is the corpus nietzsche, in place of the built-in one, whose text differs: jobs naming nietzsche " +
                            "(or no corpus) train on that file, and models trained on the built-in text cannot be resumed while it is there. Rename the file to offer both.", log.Lines);
            Assert.True(listed.Available);
            Assert.Equal(ServerFixture.TinyText.Length, listed.Characters);
            Assert.Contains(", used in place of the built-in nietzsche (", listed.Description);

            // One that cannot be read as a corpus: jobs naming it are refused, not trained on it.
            File.WriteAllBytes(Path.Combine(root, "corpora", "nietzsche.txt"), [0x61, 0xFF, 0x62]);
            var broken = new CapturedLog();
            await WithServer(root, (_, _) => Task.FromResult(0), broken);
            Assert.Contains("Warning: The corpora folder's nietzsche.txt stands in for the built-in corpus nietzsche but cannot be read as a corpus (ListCorpora says why): " +
                            "jobs naming nietzsche (or no corpus) are refused while it is there. Fix the file, or rename it to train on the built-in text.", broken.Lines);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public async Task An_upload_survives_a_restart_and_a_server_without_keys_owns_it_as_local()
    {
        var root = NewRoot();
        Task<T> WithServer<T>(Func<Catalog.CatalogClient, Training.TrainingClient, Task<T>> use) => CorpusUploadTests.WithServer(root, use);
        try
        {
            var uploaded = await WithServer((catalog, _) => Upload(catalog, "kept-text", ServerFixture.TinyText));
            Assert.Equal("local", uploaded.Owner);
            var (listed, events) = await WithServer(async (catalog, training) => (
                (await catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora.Single(c => c.Name == "kept-text"),
                await training.Train(Job("kept-model", "kept-text", 1)).Events()));
            Assert.Equal(uploaded, listed);
            Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public async Task An_upload_the_full_disk_cuts_off_is_resource_exhausted_and_leaves_the_stored_text_as_it_was()
    {
        await Upload(keyed.AsAlice.Catalog, "alice-full-disk", "the text stored before");
        var uploads = keyed.Server.Services.GetRequiredService<Corpora.UploadedCorpora>();
        // The write the disk refuses: ENOSPC as .NET reports it on Linux (the errno in HResult), no real full disk needed.
        var refused = await Assert.ThrowsAsync<Errors.ServerException>(() => uploads.Store("alice-full-disk", "alice", async stream =>
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes("the new text, half"));
            throw new IOException("write failed", 28);
        }, keepOwner: true));

        Assert.Equal(StatusCode.ResourceExhausted, refused.Code);
        Assert.Equal(Errors.ErrorReasons.DiskFull, refused.Reason);
        Assert.StartsWith("Corpus 'alice-full-disk' could not be stored: the server's disk is full", refused.Message);
        Assert.Contains("nothing was stored", refused.Message);
        Assert.Equal("the text stored before", File.ReadAllText(uploads.PathOf("alice-full-disk")));
        Assert.Empty(Directory.GetFiles(UploadsFolder, ".*.tmp"));
        Assert.Equal("alice", uploads.Owner("alice-full-disk"));
    }

    [Theory]
    [InlineData(true, false)] // a read-only file system (EROFS), over a corpus stored before
    [InlineData(false, false)] // permission denied (EACCES)
    [InlineData(true, true)] // a new corpus
    public async Task An_upload_the_models_folder_may_not_write_says_nothing_changed_and_leaves_nothing_behind(bool readOnly, bool newCorpus)
    {
        var name = $"alice-refused-{(readOnly ? "ro" : "denied")}-{(newCorpus ? "new" : "old")}";
        if (!newCorpus) await Upload(keyed.AsAlice.Catalog, name, "the text stored before");
        var uploads = keyed.Server.Services.GetRequiredService<Corpora.UploadedCorpora>();
        // chmod does not stop root, who runs these tests: the write refused as .NET reports either on Linux, at the file-write boundary.
        Exception refusedWrite = readOnly ? new IOException("Read-only file system", 30) : new UnauthorizedAccessException("Access to the path is denied.");
        var thrown = await Assert.ThrowsAnyAsync<Exception>(() => uploads.Store(name, "alice", async stream =>
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes("the new text, half"));
            throw refusedWrite;
        }, keepOwner: true));

        Assert.Same(refusedWrite, thrown); // no full disk: ErrorMappingInterceptor answers it through StorageRefusal, as here
        var refusal = Errors.StorageRefusal.For(thrown, "/charrnn.v1.Catalog/UploadCorpus");
        Assert.NotNull(refusal);
        Assert.Equal(StatusCode.FailedPrecondition, refusal.Code);
        Assert.Equal(readOnly
            ? "The server could not store what UploadCorpus changes: it may not write to its models folder (a read-only file system). "
              + "Nothing changed: no text was stored. Try again once the server's operator has made the folder writable."
            : "The server may not read or write a file UploadCorpus needs in its models folder (permission denied). "
              + "Nothing changed: no text was stored. Try again once the server's operator has fixed the folder's permissions.", refusal.Message);
        Assert.Empty(Directory.GetFiles(UploadsFolder, ".*.tmp"));
        if (newCorpus)
        {
            Assert.False(File.Exists(uploads.PathOf(name)));
            Assert.Null(uploads.Owner(name));
        }
        else
        {
            Assert.Equal("the text stored before", File.ReadAllText(uploads.PathOf(name)));
            Assert.Equal("alice", uploads.Owner(name));
        }
    }
}
