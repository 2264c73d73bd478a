using CharRnn.Protos.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

/// <summary>Catalog.ImportModel: a safetensors file ExportModel wrote sent back as a new model of the caller's key.</summary>
public class ImportModelTests(KeyedServer keyed) : IClassFixture<KeyedServer>
{
    private static async Task<byte[]> Download(Catalog.CatalogClient catalog, string name)
    {
        using var call = catalog.ExportModel(new ExportModelRequest { Name = name });
        var file = new List<byte>();
        await foreach (var chunk in call.ResponseStream.ReadAllAsync()) file.AddRange(chunk.Data);
        return [.. file];
    }

    /// <summary>
    /// Sends a header and then <paramref name="file"/> in pieces of <paramref name="piece"/> bytes. A server that refuses the
    /// import as it goes ends the call while later messages are still being written: the call's status is the answer.
    /// </summary>
    private static async Task<ModelSummary> Import(Catalog.CatalogClient catalog, string name, byte[] file, string fileName = "", bool shared = false,
        long totalBytes = 0, int piece = 4096)
    {
        using var call = catalog.ImportModel();
        try
        {
            await call.RequestStream.WriteAsync(new ImportModelRequest { Header = new ImportModelHeader { Name = name, FileName = fileName, Shared = shared, TotalBytes = totalBytes } });
            for (var at = 0; at < file.Length; at += piece)
                await call.RequestStream.WriteAsync(new ImportModelRequest { Data = ByteString.CopyFrom(file, at, Math.Min(piece, file.Length - at)) });
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException) { } // the call has ended: ResponseAsync says how
        catch (InvalidOperationException) { } // a write after the call completed
        return await call.ResponseAsync;
    }

    private static async Task<RpcException> Refused(StatusCode code, Func<Task> call)
    {
        var e = await Calls.Fails(call);
        Assert.Equal(code, e.StatusCode);
        return e;
    }

    /// <summary>Neither the model's folder nor an import's working folder is left in the models folder.</summary>
    private void AssertNothingStored(string name)
    {
        Assert.False(Directory.Exists(Path.Combine(keyed.Server.Options.ModelsDirectory, name)));
        Assert.Empty(Directory.GetDirectories(keyed.Server.Options.ModelsDirectory, ".importing-*"));
    }

    /// <summary>A safetensors file's tensors, by name, as numbers.</summary>
    private static Dictionary<string, float[]> Tensors(byte[] file)
    {
        var path = Path.Combine(Path.GetTempPath(), $"charrnn-import-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, file);
            using var contents = Engine.Export.SafetensorsReader.Read(path);
            return contents.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());
        }
        finally { File.Delete(path); }
    }

    /// <summary>Runs <paramref name="test"/> with the server's limits changed, and puts them back after.</summary>
    private async Task WithLimits(Action<Hosting.ServerLimits> change, Func<Task> test)
    {
        var limits = keyed.Server.Options.Limits;
        var saved = (limits.MaxImportBytes, limits.MaxModelsPerKey, limits.MaxImports, limits.MaxImportsPerKey);
        change(limits);
        try { await test(); }
        finally { (limits.MaxImportBytes, limits.MaxModelsPerKey, limits.MaxImports, limits.MaxImportsPerKey) = saved; }
    }

    private static async Task<string> Greedy(Generation.GenerationClient generation, string model)
    {
        var session = await generation.Open(model, temperature: 0, prime: "the ");
        return await generation.Generate(session.Id, 60);
    }

    [Fact]
    public async Task An_exported_model_imported_under_a_new_name_generates_the_same_greedy_text_and_is_its_importers_alone()
    {
        keyed.Server.TrainModel("import-source", "stateful-gru", steps: 5);
        var file = await Download(keyed.AsAlice.Catalog, "import-source");

        var summary = await Import(keyed.AsAlice.Catalog, "import-copy", file, fileName: "source.safetensors");
        Assert.Equal(("import-copy", "stateful-gru", "alice", false, false), (summary.Name, summary.Architecture, summary.Owner, summary.Shared, summary.Training));
        Assert.Equal(await Greedy(keyed.AsAlice.Generation, "import-source"), await Greedy(keyed.AsAlice.Generation, "import-copy"));
        Assert.Equal(summary.ParameterCount, (await keyed.AsAlice.Catalog.GetModelAsync(new GetModelRequest { Name = "import-copy" })).Summary.ParameterCount);
        Assert.Equal(Tensors(file), Tensors(await Download(keyed.AsAlice.Catalog, "import-copy"))); // exported again: the same weights
        Assert.Empty(Directory.GetDirectories(keyed.Server.Options.ModelsDirectory, ".importing-*"));

        // Another key does not see a private import; a resume of it is refused as for one made by charrnn import.
        var bobs = await Refused(StatusCode.NotFound, () => keyed.AsBob.Catalog.GetModelAsync(new GetModelRequest { Name = "import-copy" }).ResponseAsync);
        Assert.StartsWith("No model 'import-copy' on this server", bobs.Status.Detail);
        Assert.DoesNotContain((await keyed.AsBob.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "import-copy");
        var resume = await Refused(StatusCode.FailedPrecondition, () => keyed.AsAlice.Training.StartJobAsync(new StartJobRequest { ModelName = "import-copy", Resume = true }).ResponseAsync);
        Assert.Equal("Model 'import-copy' cannot be resumed: it was imported from 'source.safetensors', which holds the weights but not the optimizer state, " +
                     "training options or corpus fingerprint a resume continues from; generate from it or evaluate it, or train a new model from its weights " +
                         "(init_from = 'import-copy', with a new model_name).", resume.Status.Detail);

        // shared: every key may use it at once.
        var shared = await Import(keyed.AsAlice.Catalog, "import-shared", file, shared: true);
        Assert.True(shared.Shared);
        Assert.Equal(await Greedy(keyed.AsAlice.Generation, "import-source"), await Greedy(keyed.AsBob.Generation, "import-shared"));
    }

    [Theory]
    [InlineData(true, false)] // a read-only file system (EROFS), refusing the file received
    [InlineData(false, false)] // permission denied (EACCES), the file received
    [InlineData(true, true)] // a read-only file system, refusing the checkpoint made from it
    [InlineData(false, true)] // permission denied, the checkpoint
    public async Task An_import_the_models_folder_may_not_write_says_nothing_changed_and_leaves_nothing_behind(bool readOnly, bool atCheckpoint)
    {
        var name = $"import-refused-{(readOnly ? "ro" : "denied")}-{(atCheckpoint ? "checkpoint" : "file")}";
        if (!Directory.Exists(Path.Combine(keyed.Server.Options.ModelsDirectory, "import-refused-source"))) // one source for every row
            keyed.Server.TrainModel("import-refused-source", "stateful-gru", steps: 2);
        var file = await Download(keyed.AsAlice.Catalog, "import-refused-source");
        var store = keyed.Server.Services.GetRequiredService<TrainedModels.ModelStore>();
        // chmod does not stop root, who runs these tests: the write refused as .NET reports either on Linux, at the import's file writes.
        var refused = new List<string>();
        store.ImportWriteFault = path =>
        {
            if (Path.GetExtension(path) == ".safetensors" == atCheckpoint) return; // not the write this row refuses
            refused.Add(Path.GetFileName(path));
            throw readOnly ? new IOException("Read-only file system", 30) : new UnauthorizedAccessException("Access to the path is denied.");
        };
        try
        {
            var e = await Refused(StatusCode.FailedPrecondition, () => Import(keyed.AsAlice.Catalog, name, file, piece: 1024));
            Assert.Equal(readOnly
                ? "The server could not store what ImportModel changes: it may not write to its models folder (a read-only file system). "
                  + "Nothing changed: no model was stored. Try again once the server's operator has made the folder writable."
                : "The server may not read or write a file ImportModel needs in its models folder (permission denied). "
                  + "Nothing changed: no model was stored. Try again once the server's operator has fixed the folder's permissions.", e.Status.Detail);
        }
        finally { store.ImportWriteFault = null; }
        Assert.Equal([atCheckpoint ? Engine.Training.Trainer.LastCheckpoint : "upload.safetensors"], refused); // the write refused, once: the import stopped there
        AssertNothingStored(name);
        Assert.Null(store.Ownership(name));
        Assert.DoesNotContain((await keyed.AsAlice.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == name);
    }

    [Fact]
    public async Task A_shared_import_whose_database_write_fails_stores_no_owner_row()
    {
        // Its owner's row and its sharing were two writes: with the second refused (a full disk) the import failed and its
        // folder went, but the row stayed, naming no model: a model trained under the name later (charrnn train, with the
        // server stopped) would have been the importing key's, hidden from every other key.
        keyed.Server.TrainModel("import-row-source", "stateful-gru", steps: 2);
        var file = await Download(keyed.AsAlice.Catalog, "import-row-source");
        using (new RefusedDatabaseWrite(keyed.Server.Options.ModelsDirectory, "new.name = 'import-row' AND new.shared = 1", "INSERT ON models", "UPDATE ON models"))
            await Calls.Fails(() => Import(keyed.AsAlice.Catalog, "import-row", file, shared: true));
        Assert.Null(keyed.Server.Services.GetRequiredService<TrainedModels.ModelStore>().Ownership("import-row"));
        AssertNothingStored("import-row");
        Assert.True((await Import(keyed.AsAlice.Catalog, "import-row", file, shared: true)).Shared); // room again
    }

    [Fact]
    public async Task A_name_in_use_is_already_exists_and_the_model_there_is_kept()
    {
        keyed.Server.TrainModel("import-taken", "stateful-gru", steps: 2);
        var file = await Download(keyed.AsAlice.Catalog, "import-taken");
        var before = File.ReadAllBytes(Path.Combine(keyed.Server.Options.ModelsDirectory, "import-taken", "last.ckpt"));

        var e = await Refused(StatusCode.AlreadyExists, () => Import(keyed.AsAdmin.Catalog, "import-taken", file));
        Assert.Equal("A model named 'import-taken' exists, and an import never replaces one: delete it first (DeleteModel) or choose another name.", e.Status.Detail);
        var cased = await Refused(StatusCode.AlreadyExists, () => Import(keyed.AsAlice.Catalog, "Import-Taken", file));
        Assert.Equal("A model named 'import-taken' exists, and names may not differ only in case (on some file systems they are one folder); choose another name for the import.", cased.Status.Detail);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(keyed.Server.Options.ModelsDirectory, "import-taken", "last.ckpt")));
        AssertNothingStored("Import-Taken");
    }

    [Fact]
    public async Task A_file_that_is_not_an_export_is_invalid_argument_in_the_engines_words_and_nothing_is_stored()
    {
        var notSafetensors = "this is not a safetensors file"u8.ToArray();
        var e = await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsAlice.Catalog, "import-bad", notSafetensors, fileName: "bad.safetensors"));
        Assert.StartsWith("'bad.safetensors' cannot be imported: its header length is ", e.Status.Detail);
        Assert.EndsWith("(truncated, or not a safetensors file; the header must fit the file and be at most 100,000,000 bytes). Nothing was stored.", e.Status.Detail);
        Assert.Equal("data", Calls.FieldAtFault(e)); // the file's fault is in what the data messages carried
        AssertNothingStored("import-bad");

        // A safetensors file without charrnn's metadata (what a PyTorch save without metadata= writes): named by its default name.
        var header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"u8.ToArray();
        var bare = BitConverter.GetBytes((ulong)header.Length).Concat(header).Concat(new byte[4]).ToArray();
        var bareError = await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsAlice.Catalog, "import-bare", bare));
        Assert.StartsWith("'import-bare.safetensors' cannot be imported: it was not written by charrnn export: its metadata has no charrnn_export_version (it has no metadata).", bareError.Status.Detail);
        AssertNothingStored("import-bare");

        var empty = await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsAlice.Catalog, "import-empty", []));
        Assert.Equal("The import of 'import-empty.safetensors' sent no data after its header; send the file's bytes as data. Nothing was stored.", empty.Status.Detail);
        Assert.Equal("data", Calls.FieldAtFault(empty));
        var folder = await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsAlice.Catalog, "import-path", notSafetensors, fileName: "../x.safetensors"));
        Assert.StartsWith("header.file_name '../x.safetensors' is not allowed: give the file's name without its folder", folder.Status.Detail);
        AssertNothingStored("import-path");
    }

    /// <summary>
    /// Files made to hurt a server that imports from any client: metadata that describes a model of gigabytes around a
    /// small model's weights (refused before that model is built), a vocabulary count below 0 or a character's count of 0, a shape whose byte count wraps to 0 (2^62 floats), and
    /// a tensor name that is not UTF-8. Each is INVALID_ARGUMENT saying what is wrong, nothing is stored, and the server serves on.
    /// </summary>
    [Fact]
    public async Task Hostile_files_are_invalid_argument_saying_what_is_wrong_and_the_server_serves_on_with_nothing_stored()
    {
        keyed.Server.TrainModel("import-hostile-source", "stateful-gru", steps: 2);
        var export = await Download(keyed.AsAlice.Catalog, "import-hostile-source");
        byte[] huge, negativeCount, zeroCount;
        using (var contents = Engine.Export.SafetensorsReader.Read(export, "export"))
        {
            var metadata = contents.Metadata.ToDictionary();
            var hp = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, double>>(metadata["hyperparameters"])!;
            (hp["n_hidden"], hp["layers"]) = (4096, 4); // about 350 million parameters: 1.4 GB of floats
            metadata["hyperparameters"] = System.Text.Json.JsonSerializer.Serialize(hp);
            var stream = new MemoryStream();
            Engine.Export.SafetensorsFile.WriteTo(stream, contents.Tensors, metadata);
            huge = stream.ToArray();
            byte[] WithSymbol2Counted(long count)
            {
                var edited = contents.Metadata.ToDictionary();
                var counts = System.Text.Json.JsonSerializer.Deserialize<long[]>(edited["vocab_counts"])!;
                counts[2] = count;
                edited["vocab_counts"] = System.Text.Json.JsonSerializer.Serialize(counts);
                var written = new MemoryStream();
                Engine.Export.SafetensorsFile.WriteTo(written, contents.Tensors, edited);
                return written.ToArray();
            }
            negativeCount = WithSymbol2Counted(-1); // no text has a character -1 times; generation would take its log
            zeroCount = WithSymbol2Counted(0); // a character of the text is there at least once; a 0 made feeding it first score +inf
        }
        var wraps = Safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}", []);
        var notUtf8 = Safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
        notUtf8[8 + 2] = 0xFF; // the name's one character

        foreach (var (file, says) in new[]
                 {
                     (huge, "its metadata describes a stateful-gru with "),
                     (negativeCount, "its metadata 'vocab_counts' cannot be used: the count of symbol 2 ("),
                     (zeroCount, "its metadata 'vocab_counts' cannot be used: the count of symbol 2 ("),
                     (wraps, "tensor 'a' has shape [4611686018427387904], too large to hold."),
                     (notUtf8, "its header is not well-formed JSON (Cannot transcode invalid UTF-8 JSON text to UTF-16 string."),
                 })
        {
            var e = await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsAlice.Catalog, "import-hostile", file, fileName: "hostile.safetensors"));
            Assert.StartsWith("'hostile.safetensors' cannot be imported: " + says, e.Status.Detail);
            Assert.EndsWith(" Nothing was stored.", e.Status.Detail);
            Assert.Equal("data", Calls.FieldAtFault(e));
            AssertNothingStored("import-hostile");
            var info = await keyed.AsAlice.Catalog.GetServerInfoAsync(new GetServerInfoRequest()); // still serving
            Assert.False(string.IsNullOrEmpty(info.Version));
        }
    }

    /// <summary>
    /// An import may make no model wider than StartJob lets any key train here: a hyperparameter of the file's over this
    /// server's cap (`serve --max-hyperparameter`) is INVALID_ARGUMENT naming it, its value and the cap, and nothing is
    /// stored. The same file imports once the cap allows it.
    /// </summary>
    [Fact]
    public async Task A_file_whose_hyperparameter_is_over_the_servers_cap_is_invalid_argument_naming_it_and_nothing_is_stored()
    {
        keyed.Server.TrainModel("import-capped-source", "stateful-gru", steps: 2); // n_hidden 24, bs 8
        var file = await Download(keyed.AsAlice.Catalog, "import-capped-source");
        var caps = keyed.Server.Options.Limits.MaxHyperParameters;
        var saved = new Dictionary<string, double>(caps);
        try
        {
            caps["n_hidden"] = 23;
            var e = await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsAlice.Catalog, "import-capped", file, fileName: "wide.safetensors"));
            Assert.Equal("'wide.safetensors' cannot be imported: its hyperparameter n_hidden = 24 is not allowed; n_hidden must be an integer from 1 to 23 " +
                         "(this server's cap, ListArchitectures' max for it; set by charrnn serve --max-hyperparameter n_hidden=N). Nothing was stored.", e.Status.Detail);
            Assert.Equal("data", Calls.FieldAtFault(e)); // the file's hyperparameter: the request has no field of that name
            AssertNothingStored("import-capped");

            (caps["n_hidden"], caps["bs"]) = (saved["n_hidden"], 4); // a training option's cap counts too: a fine-tune keeps the source's
            var bs = await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsAlice.Catalog, "import-capped", file, fileName: "wide.safetensors"));
            Assert.StartsWith("'wide.safetensors' cannot be imported: its hyperparameter bs = 8 is not allowed; bs must be an integer from 1 to 4 (this server's cap", bs.Status.Detail);
            AssertNothingStored("import-capped");
        }
        finally
        {
            foreach (var (key, value) in saved) caps[key] = value;
        }
        Assert.Equal("import-capped", (await Import(keyed.AsAlice.Catalog, "import-capped", file)).Name);
    }

    /// <summary>A safetensors file of <paramref name="header"/> and <paramref name="data"/>, written by hand.</summary>
    private static byte[] Safetensors(string header, byte[] data)
    {
        var json = System.Text.Encoding.UTF8.GetBytes(header);
        return BitConverter.GetBytes((ulong)json.Length).Concat(json).Concat(data).ToArray();
    }

    [Fact]
    public async Task A_file_over_max_import_bytes_is_refused_as_it_arrives_naming_the_limit_and_nothing_is_stored()
    {
        keyed.Server.TrainModel("import-big", "stateful-gru", steps: 2);
        var file = await Download(keyed.AsAlice.Catalog, "import-big");
        await WithLimits(l => l.MaxImportBytes = file.Length - 1, async () =>
        {
            Assert.Equal(file.Length - 1, (await keyed.AsAlice.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).Limits.MaxImportBytes);
            var e = await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsAlice.Catalog, "import-over", file, fileName: "big.safetensors"));
            Assert.Equal($"'big.safetensors' is larger than this server imports: more than {file.Length - 1:N0} bytes; the limit is {file.Length - 1:N0} bytes (max_import_bytes, charrnn serve --max-import-mb). Nothing was stored.", e.Status.Detail);
            Assert.Equal("data", Calls.FieldAtFault(e));
            AssertNothingStored("import-over");
            // A header that gives the size is refused before any data.
            var said = await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsAlice.Catalog, "import-over", [], fileName: "big.safetensors", totalBytes: file.Length));
            Assert.StartsWith($"'big.safetensors' is larger than this server imports: its header says {file.Length:N0} bytes; ", said.Status.Detail);
            Assert.Equal("header.total_bytes", Calls.FieldAtFault(said));
            AssertNothingStored("import-over");
        });
        var wrongSize = await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsAlice.Catalog, "import-over", file, totalBytes: file.Length + 1));
        Assert.Equal($"The import of 'import-over.safetensors' sent {file.Length:N0} bytes, but its header said {file.Length + 1:N0} (header.total_bytes); the file was cut short or changed. Nothing was stored.", wrongSize.Status.Detail);
        Assert.Equal("header.total_bytes", Calls.FieldAtFault(wrongSize));
        AssertNothingStored("import-over");
        Assert.Equal("import-over", (await Import(keyed.AsAlice.Catalog, "import-over", file, totalBytes: file.Length)).Name);
    }

    [Fact]
    public async Task An_import_counts_against_max_models_per_key()
    {
        keyed.Server.TrainModel("import-quota-source", "stateful-gru", steps: 2);
        var file = await Download(keyed.AsDave.Catalog, "import-quota-source");
        await WithLimits(l => l.MaxModelsPerKey = 1, async () =>
        {
            await Import(keyed.AsDave.Catalog, "import-dave-one", file);
            var e = await Refused(StatusCode.ResourceExhausted, () => Import(keyed.AsDave.Catalog, "import-dave-two", file));
            Assert.Equal("Key 'dave' owns 1 models, its quota (limit max_models_per_key = 1); delete models it no longer needs (DeleteModel), then import.", e.Status.Detail);
            Assert.Equal("QUOTA_MAX_MODELS_PER_KEY", e.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason);
            AssertNothingStored("import-dave-two");
        });
    }

    /// <summary>From its header to its end an import holds its name: a job for it is refused (ALREADY_EXISTS), and allowed again once the import is cancelled.</summary>
    [Fact]
    public async Task An_import_under_way_holds_its_name_against_a_job_until_it_ends()
    {
        var job = new StartJobRequest { ModelName = "import-held", Architecture = "stateful-rnn", CorpusName = "tiny", Options = new Protos.V1.TrainingOptions { MaxSteps = 1, Epochs = 1, SampleChars = 0 } };
        job.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 8, ["bs"] = 8 });
        using var cancel = new CancellationTokenSource();
        var call = keyed.AsAlice.Catalog.ImportModel(cancellationToken: cancel.Token);
        await call.RequestStream.WriteAsync(new ImportModelRequest { Header = new ImportModelHeader { Name = "import-held" } });
        await call.RequestStream.WriteAsync(new ImportModelRequest { Data = ByteString.CopyFrom(new byte[16]) });

        RpcException? refused = null;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); refused == null; await Task.Delay(20)) // the header is read as the server gets to it
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "waited 60 s for the import to hold its name");
            try { await keyed.AsBob.Training.CheckJobAsync(job); }
            catch (RpcException e) { refused = e; }
        }
        Assert.Equal(StatusCode.AlreadyExists, refused.StatusCode);
        Assert.Equal("An import (ImportModel) is making a model named 'import-held'; choose another model_name.", refused.Status.Detail);

        await cancel.CancelAsync();
        call.Dispose();
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); ; await Task.Delay(20)) // the server sees the cancellation in its own time
        {
            try { await keyed.AsBob.Training.CheckJobAsync(job); break; }
            catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists) { Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "waited 60 s for the cancelled import to let go of its name"); }
        }
        AssertNothingStored("import-held");
    }

    private const string ImportsBusy = "Model imports in progress on this server: 1, its maximum at once (limit max_imports = 1, charrnn serve --max-imports); retry when one ends.";

    /// <summary>
    /// With max_imports 1, an import held open (its header and one piece of data sent, then waiting) refuses another at once,
    /// naming the count and the cap, while a header that could not succeed anyway (a bad name, a name in use, a size over
    /// the limit) gets its own error; once the held one is cancelled an import succeeds, and imports that fail or succeed
    /// each free their place for the next.
    /// </summary>
    [Fact]
    public async Task An_import_beyond_max_imports_is_refused_after_its_headers_checks_until_one_in_progress_ends()
    {
        keyed.Server.TrainModel("import-slot-source", "stateful-gru", steps: 2);
        var file = await Download(keyed.AsAlice.Catalog, "import-slot-source");
        var notSafetensors = "this is not a safetensors file"u8.ToArray();
        await WithLimits(l => (l.MaxImports, l.MaxImportBytes) = (1, file.Length), async () =>
        {
            Assert.Equal(1, (await keyed.AsBob.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).Limits.MaxImports);
            using var cancel = new CancellationTokenSource();
            using var held = keyed.AsAlice.Catalog.ImportModel(cancellationToken: cancel.Token); // disposed: cancelled, should an assert fail first
            await held.RequestStream.WriteAsync(new ImportModelRequest { Header = new ImportModelHeader { Name = "import-slot-held" } });
            await held.RequestStream.WriteAsync(new ImportModelRequest { Data = ByteString.CopyFrom(new byte[16]) });

            // The held header is read as the server gets to it; another import before then could take the one place first.
            var slots = keyed.Server.Services.GetRequiredService<TrainedModels.ImportSlots>();
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); slots.InProgress == 0; await Task.Delay(20))
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "waited 60 s for the held import to take its place");
            var busy = await Refused(StatusCode.ResourceExhausted, () => Import(keyed.AsBob.Catalog, "import-slot-busy", notSafetensors));
            Assert.Equal(ImportsBusy, busy.Status.Detail);
            Assert.Equal("QUOTA_MAX_IMPORTS", busy.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason);
            Assert.False(Directory.Exists(Path.Combine(keyed.Server.Options.ModelsDirectory, "import-slot-busy")));

            var badName = await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsBob.Catalog, "a/b", file));
            Assert.StartsWith("header.name 'a/b' is not a valid name", badName.Status.Detail);
            await Refused(StatusCode.AlreadyExists, () => Import(keyed.AsAlice.Catalog, "import-slot-source", file)); // a model's name
            await Refused(StatusCode.AlreadyExists, () => Import(keyed.AsBob.Catalog, "import-slot-held", file)); // the held import's name
            var tooLarge = await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsBob.Catalog, "import-slot-big", [], totalBytes: file.Length + 1));
            Assert.StartsWith("'import-slot-big.safetensors' is larger than this server imports: its header says ", tooLarge.Status.Detail);

            await cancel.CancelAsync();
            held.Dispose();
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); ; await Task.Delay(20)) // the server sees the cancellation in its own time
            {
                try { Assert.Equal("import-slot-one", (await Import(keyed.AsBob.Catalog, "import-slot-one", file)).Name); break; }
                catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted) { Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "waited 60 s for the cancelled import to free its place"); }
            }
            AssertNothingStored("import-slot-held");
            // An import that ended and one that failed each freed their place.
            await Refused(StatusCode.InvalidArgument, () => Import(keyed.AsBob.Catalog, "import-slot-bad", notSafetensors));
            Assert.Equal("import-slot-two", (await Import(keyed.AsBob.Catalog, "import-slot-two", file)).Name);
        });
    }

    /// <summary>
    /// With max_imports 2 and max_imports_per_key 1 (the defaults), a key holding one import open is refused a second at once,
    /// naming its own cap and how to wait, while another key still imports; once the held one is cancelled the key imports again.
    /// </summary>
    [Fact]
    public async Task A_keys_import_beyond_max_imports_per_key_is_refused_while_another_key_still_imports()
    {
        keyed.Server.TrainModel("import-key-source", "stateful-gru", steps: 2);
        var file = await Download(keyed.AsAlice.Catalog, "import-key-source");
        await WithLimits(l => (l.MaxImports, l.MaxImportsPerKey, l.MaxImportBytes) = (2, 1, file.Length), async () =>
        {
            Assert.Equal((2, 1), ((await keyed.AsBob.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).Limits.MaxImports,
                (await keyed.AsBob.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).Limits.MaxImportsPerKey));
            using var cancel = new CancellationTokenSource();
            using var held = keyed.AsAlice.Catalog.ImportModel(cancellationToken: cancel.Token);
            await held.RequestStream.WriteAsync(new ImportModelRequest { Header = new ImportModelHeader { Name = "import-key-held" } });
            await held.RequestStream.WriteAsync(new ImportModelRequest { Data = ByteString.CopyFrom(new byte[16]) });
            var slots = keyed.Server.Services.GetRequiredService<TrainedModels.ImportSlots>();
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); slots.InProgress == 0; await Task.Delay(20))
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "waited 60 s for the held import to take its place");

            var mine = await Refused(StatusCode.ResourceExhausted, () => Import(keyed.AsAlice.Catalog, "import-key-second", file));
            Assert.Equal("Key 'alice' has 1 model import(s) in progress, its maximum at once (limit max_imports_per_key = 1, charrnn serve --max-imports-per-key); " +
                         "retry when one of them ends (other keys may import meanwhile).", mine.Status.Detail);
            Assert.Equal("QUOTA_MAX_IMPORTS_PER_KEY", mine.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason);
            Assert.False(Directory.Exists(Path.Combine(keyed.Server.Options.ModelsDirectory, "import-key-second")));
            Assert.Equal("import-key-bobs", (await Import(keyed.AsBob.Catalog, "import-key-bobs", file)).Name); // the server's other place

            await cancel.CancelAsync();
            held.Dispose();
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); ; await Task.Delay(20))
            {
                try { Assert.Equal("import-key-again", (await Import(keyed.AsAlice.Catalog, "import-key-again", file)).Name); break; }
                catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted) { Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "waited 60 s for the cancelled import to free its place"); }
            }
            AssertNothingStored("import-key-held");
        });
    }
}
