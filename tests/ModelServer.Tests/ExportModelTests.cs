using System.Security.Cryptography;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Export;
using CharRnn.Engine.Models;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Services;
using CharRnn.Protos.V1;
using Grpc.Core;
using static TorchSharp.torch;

namespace CharRnn.ModelServer.Tests;

/// <summary>Catalog.ExportModel: the safetensors file `charrnn export` writes, streamed.</summary>
public class ExportModelTests(KeyedServer keyed) : IClassFixture<KeyedServer>
{
    private static async Task<(List<ExportModelChunk> Chunks, byte[] File)> Download(Catalog.CatalogClient catalog, string name, string checkpoint = "")
    {
        using var call = catalog.ExportModel(new ExportModelRequest { Name = name, Checkpoint = checkpoint });
        var chunks = new List<ExportModelChunk>();
        await foreach (var chunk in call.ResponseStream.ReadAllAsync()) chunks.Add(chunk);
        return (chunks, chunks.SelectMany(c => c.Data).ToArray());
    }

    /// <summary>What `charrnn export` writes for a checkpoint (ExportCommand: LoadForGeneration on the CPU, PyTorchExport, its SourceName).</summary>
    private static byte[] CliExport(string checkpoint)
    {
        var file = Path.Combine(Path.GetTempPath(), $"charrnn-export-{Guid.NewGuid():N}{SafetensorsFile.Extension}");
        try
        {
            using var trained = TrainedModel.LoadForGeneration(checkpoint, CPU);
            PyTorchExport.Of(trained, PyTorchExport.SourceName(trained.Path)).Write(file);
            return File.ReadAllBytes(file);
        }
        finally { File.Delete(file); }
    }

    /// <summary>A stateful-rnn whose file is over one message's 1 MiB (n_hidden 600: 1.4 MB of F32), trained a step.</summary>
    private string TrainLarge(string name, int hidden = 600)
    {
        var a = Architectures.Get("stateful-rnn");
        var hp = a.Resolve(new Dictionary<string, double> { ["n_hidden"] = hidden, ["n_fac"] = 4, ["bs"] = 4, ["bptt"] = 8, ["random_bptt"] = 0 });
        var folder = Path.Combine(keyed.Server.Options.ModelsDirectory, name);
        using var trainer = Trainer.Create(a, hp, new Engine.Training.TrainingOptions { MaxSteps = 1, Epochs = 1, SampleChars = 0 }, ServerFixture.TinyCorpus(), CPU, folder);
        trainer.Run();
        return folder;
    }

    [Fact]
    public async Task The_streamed_file_is_the_cli_export_byte_for_byte_in_pieces_with_its_size_first_and_sha256_last()
    {
        var folder = TrainLarge("export-large");
        var (chunks, file) = await Download(keyed.AsAlice.Catalog, "export-large");

        Assert.Equal(CliExport(Path.Combine(folder, Trainer.BestCheckpoint)), file);
        Assert.True(chunks.Count >= 2, $"{file.Length} bytes came in {chunks.Count} message(s)");
        Assert.All(chunks, c => Assert.InRange(c.Data.Length, 1, CatalogService.ExportChunkBytes));
        Assert.Equal((file.Length, "", "best.ckpt"), (chunks[0].TotalBytes, chunks[0].Sha256, chunks[0].Checkpoint));
        Assert.Equal((0L, Convert.ToHexStringLower(SHA256.HashData(file)), ""), (chunks[^1].TotalBytes, chunks[^1].Sha256, chunks[^1].Checkpoint));
        Assert.All(chunks[1..^1], c => Assert.Equal((0L, "", ""), (c.TotalBytes, c.Sha256, c.Checkpoint)));

        // last: where training stands, named so in the file's metadata too.
        var (lastChunks, last) = await Download(keyed.AsAlice.Catalog, "export-large", "last");
        Assert.Equal("last.ckpt", lastChunks[0].Checkpoint);
        Assert.Equal(CliExport(Path.Combine(folder, Trainer.LastCheckpoint)), last);
        Assert.NotEqual(file, last);
    }

    /// <summary>
    /// The server streams as it writes: a client that has read the first piece of a 9 MB file (n_hidden 1500) and cancels
    /// stops the server's writing part of the way through (the log says how far), where a server that built the file
    /// first would have written it all before sending anything.
    /// </summary>
    [Fact]
    public async Task A_client_that_cancels_after_the_first_piece_stops_the_servers_writing()
    {
        TrainLarge("export-cancel", hidden: 1500);
        using var cancel = new CancellationTokenSource();
        using var call = keyed.AsAlice.Catalog.ExportModel(new ExportModelRequest { Name = "export-cancel" }, cancellationToken: cancel.Token);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var total = call.ResponseStream.Current.TotalBytes;
        Assert.True(total > 8 * CatalogService.ExportChunkBytes, $"{total} bytes");
        Assert.Equal("", call.ResponseStream.Current.Sha256); // it comes last
        await cancel.CancelAsync();

        const string stopped = "Export of model export-cancel stopped after ";
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); keyed.Server.Log.With(stopped).Count == 0; await Task.Delay(10))
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "waited 60 s for the server to log the stopped export: " + string.Join(" | ", keyed.Server.Log.With("export-cancel")));
        var words = keyed.Server.Log.With(stopped).Single().Split(stopped)[1].Split(' '); // "N of M bytes: …"
        var (written, of) = (long.Parse(words[0]), long.Parse(words[2]));
        Assert.Equal(total, of);
        Assert.True(written < total / 2, $"the server wrote {written} of {total} bytes for a client that read one piece and cancelled");
        Assert.Empty(keyed.Server.Log.With("Model export-cancel exported"));
    }

    [Fact]
    public async Task Another_keys_private_model_is_not_found_and_its_owner_and_an_admin_export_it()
    {
        var job = new StartJobRequest { ModelName = "export-alices", Architecture = "stateful-rnn", CorpusName = "tiny", Options = new Protos.V1.TrainingOptions { MaxSteps = 2, Epochs = 1, SampleChars = 0 } };
        job.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 16, ["bs"] = 8 });
        await keyed.AsAlice.Training.Train(job).Events();

        var bobs = await Calls.Fails(() => Download(keyed.AsBob.Catalog, "export-alices"));
        Assert.Equal(StatusCode.NotFound, bobs.StatusCode);
        Assert.StartsWith("No model 'export-alices' on this server; ListModels shows the models there are.", bobs.Status.Detail);
        Assert.DoesNotContain("alice", bobs.Status.Detail.Replace("'export-alices'", "")); // no hint of whose it is (a suggestion names only models Bob may read)
        Assert.NotNull(bobs.Trailers.GetValue(ErrorMappingInterceptor.RequestIdTrailer));

        var (_, alices) = await Download(keyed.AsAlice.Catalog, "export-alices");
        Assert.Equal(alices, (await Download(keyed.AsAdmin.Catalog, "export-alices")).File);
        await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = "export-alices", Shared = true });
        Assert.Equal(alices, (await Download(keyed.AsBob.Catalog, "export-alices")).File); // shared: every key may read it
    }

    [Fact]
    public async Task An_unknown_checkpoint_is_refused_naming_the_ones_the_model_has()
    {
        keyed.Server.TrainModel("export-small", "stateful-gru", steps: 3);

        var cycle = await Calls.Fails(() => Download(keyed.AsAlice.Catalog, "export-small", "cycle-2"));
        Assert.Equal(StatusCode.NotFound, cycle.StatusCode);
        Assert.StartsWith("Model 'export-small' has no checkpoint 'cycle-2'; it has best, last.", cycle.Status.Detail);
        var info = cycle.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!; // the model is found: its name is what the error is about, as errors.md says
        Assert.Equal(("NOT_FOUND", "export-small"), (info.Reason, info.Metadata["model"]));

        var path = await Calls.Fails(() => Download(keyed.AsAlice.Catalog, "export-small", "../export-large/best"));
        Assert.Equal(StatusCode.InvalidArgument, path.StatusCode);
        Assert.Equal("checkpoint '../export-large/best' is not a checkpoint name; use best (the default), last or cycle-N. Model 'export-small' has best, last.", path.Status.Detail);

        var (chunks, _) = await Download(keyed.AsAlice.Catalog, "export-small", "last.ckpt"); // the file's name is taken too
        Assert.Equal("last.ckpt", chunks[0].Checkpoint);
    }

    /// <summary>Runs <paramref name="test"/> with max_exports at <paramref name="cap"/> (and max_exports_per_key at <paramref name="perKey"/>), and puts them back after.</summary>
    private async Task WithMaxExports(int cap, Func<Task> test, int perKey = 2)
    {
        var limits = keyed.Server.Options.Limits;
        var saved = (limits.MaxExports, limits.MaxExportsPerKey);
        (limits.MaxExports, limits.MaxExportsPerKey) = (cap, perKey);
        try { await test(); }
        finally { (limits.MaxExports, limits.MaxExportsPerKey) = saved; }
    }

    private const string ExportsBusy = "Model exports in progress on this server: 1, its maximum at once (limit max_exports = 1, charrnn serve --max-exports); retry when one ends.";

    /// <summary>A download held open: one piece of the file read, so the server's writer waits on this client until <paramref name="cancel"/> is cancelled.</summary>
    private static async Task<AsyncServerStreamingCall<ExportModelChunk>> HoldOpen(Catalog.CatalogClient catalog, string name, CancellationTokenSource cancel)
    {
        var held = catalog.ExportModel(new ExportModelRequest { Name = name }, cancellationToken: cancel.Token);
        Assert.True(await held.ResponseStream.MoveNext(CancellationToken.None));
        return held;
    }

    /// <summary>
    /// The whole file, once a place is free: a cancelled download frees its place once the server's writer has seen the
    /// cancel, a moment after, so refusals are retried as a client would.
    /// </summary>
    private static async Task<byte[]> DownloadOnceFree(Catalog.CatalogClient catalog, string name)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); ; await Task.Delay(20))
        {
            try { return (await Download(catalog, name)).File; }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && clock.Elapsed < TimeSpan.FromSeconds(60)) { }
        }
    }

    /// <summary>
    /// With max_exports 1, a download held open (a client that read one piece of a 9 MB file and waits) refuses another at
    /// once, naming the count and the cap; cancelling it frees its place, and a new download then gets the whole file.
    /// </summary>
    [Fact]
    public Task An_export_beyond_max_exports_is_refused_until_one_in_progress_is_cancelled() => WithMaxExports(1, async () =>
    {
        Assert.Equal(1, (await keyed.AsBob.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).Limits.MaxExports);
        var folder = TrainLarge("export-capped", hidden: 1500);
        using var cancel = new CancellationTokenSource();
        using var held = await HoldOpen(keyed.AsAlice.Catalog, "export-capped", cancel);

        var busy = await Calls.Fails(() => Download(keyed.AsAdmin.Catalog, "export-capped"));
        Assert.Equal(StatusCode.ResourceExhausted, busy.StatusCode);
        Assert.Equal(ExportsBusy, busy.Status.Detail);
        Assert.Equal("QUOTA_MAX_EXPORTS", busy.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason);

        await cancel.CancelAsync();
        Assert.Equal(CliExport(Path.Combine(folder, Trainer.BestCheckpoint)), await DownloadOnceFree(keyed.AsAdmin.Catalog, "export-capped"));
    });

    /// <summary>
    /// With max_exports_per_key 1 (and room on the server), a key holding one download open is refused a second at once,
    /// saying how many it has and its cap, while another key still downloads the whole file; cancelling the held one frees
    /// the key's place.
    /// </summary>
    [Fact]
    public Task A_keys_export_beyond_max_exports_per_key_is_refused_while_another_key_still_downloads() => WithMaxExports(4, perKey: 1, test: async () =>
    {
        Assert.Equal(1, (await keyed.AsBob.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).Limits.MaxExportsPerKey);
        var folder = TrainLarge("export-per-key", hidden: 1500);
        using var cancel = new CancellationTokenSource();
        using var held = await HoldOpen(keyed.AsAlice.Catalog, "export-per-key", cancel);

        var mine = await Calls.Fails(() => Download(keyed.AsAlice.Catalog, "export-per-key"));
        Assert.Equal(StatusCode.ResourceExhausted, mine.StatusCode);
        Assert.Equal("Key 'alice' has 1 model exports in progress, its maximum at once (limit max_exports_per_key = 1, charrnn serve --max-exports-per-key); retry when one of them ends.", mine.Status.Detail);
        Assert.Equal("QUOTA_MAX_EXPORTS_PER_KEY", mine.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason);
        var expected = CliExport(Path.Combine(folder, Trainer.BestCheckpoint));
        Assert.Equal(expected, (await Download(keyed.AsBob.Catalog, "export-per-key")).File); // another key: a place of its own

        await cancel.CancelAsync();
        Assert.Equal(expected, await DownloadOnceFree(keyed.AsAlice.Catalog, "export-per-key"));
    });

    /// <summary>
    /// While every place is taken, a request that could not succeed anyway gets its own error, not RESOURCE_EXHAUSTED: a
    /// malformed name, an unknown one, another key's private model (NOT_FOUND, as when idle) and an unknown checkpoint.
    /// The per-key cap in force follows a lower max_exports (2 configured, 1 said and applied).
    /// </summary>
    [Fact]
    public Task A_bad_request_while_every_place_is_taken_gets_its_own_error() => WithMaxExports(1, async () =>
    {
        Assert.Equal(1, (await keyed.AsBob.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).Limits.MaxExportsPerKey);
        TrainLarge("export-busy", hidden: 1500);
        var job = new StartJobRequest { ModelName = "export-busy-alices", Architecture = "stateful-rnn", CorpusName = "tiny", Options = new Protos.V1.TrainingOptions { MaxSteps = 2, Epochs = 1, SampleChars = 0 } };
        job.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 16, ["bs"] = 8 });
        await keyed.AsAlice.Training.Train(job).Events();
        using var cancel = new CancellationTokenSource();
        using var held = await HoldOpen(keyed.AsAlice.Catalog, "export-busy", cancel);

        var malformed = await Calls.Fails(() => Download(keyed.AsBob.Catalog, "a/b"));
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
        var unknown = await Calls.Fails(() => Download(keyed.AsBob.Catalog, "export-no-such-model"));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        var alices = await Calls.Fails(() => Download(keyed.AsBob.Catalog, "export-busy-alices")); // private
        Assert.Equal((StatusCode.NotFound, "No model 'export-busy-alices' on this server"), (alices.StatusCode, alices.Status.Detail.Split(';')[0]));
        var checkpoint = await Calls.Fails(() => Download(keyed.AsAdmin.Catalog, "export-busy", "cycle-3"));
        Assert.Equal(StatusCode.NotFound, checkpoint.StatusCode);
        var busy = await Calls.Fails(() => Download(keyed.AsAdmin.Catalog, "export-busy")); // a good request: refused for the place
        Assert.Equal((StatusCode.ResourceExhausted, ExportsBusy), (busy.StatusCode, busy.Status.Detail));
        await cancel.CancelAsync();
    });

    /// <summary>With max_exports 1, a download that fails and one that ends each free their place for the next.</summary>
    [Fact]
    public Task An_export_that_fails_or_ends_frees_its_place_under_max_exports() => WithMaxExports(1, async () =>
    {
        keyed.Server.TrainModel("export-capped-small", "stateful-gru", steps: 3);
        var failed = await Calls.Fails(() => Download(keyed.AsAlice.Catalog, "export-capped-small", "cycle-7"));
        Assert.Equal(StatusCode.NotFound, failed.StatusCode);

        var (first, _) = await Download(keyed.AsAlice.Catalog, "export-capped-small");
        var (second, _) = await Download(keyed.AsBob.Catalog, "export-capped-small");
        Assert.Equal(first.Count, second.Count);
        Assert.NotEqual("", second[^1].Sha256);
    });
}
