using CharRnn.ModelServer.Security;
using CharRnn.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

/// <summary>Editing the keys file while the server runs: a removed key loses its sessions, streams and jobs; a file missing for a moment refuses calls as unavailable and sweeps nothing.</summary>
public class KeysFileTests
{
    [Fact]
    public async Task Removing_every_key_refuses_all_calls_until_a_key_is_added()
    {
        var keysFile = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        var solo = ApiKeyStore.Load(keysFile).Add("solo", admin: true);
        using var server = new ServerFixture(o => o.KeysFile = keysFile);
        Task List(string? key) => new Catalog.CatalogClient(server.ChannelFor(key)).ListModelsAsync(new ListModelsRequest()).ResponseAsync;

        await List(solo);
        Assert.Equal(StatusCode.Unauthenticated, (await Calls.Fails(() => List(null))).StatusCode);

        Assert.True(ApiKeyStore.Load(keysFile).Remove("solo"));
        var removed = await Calls.Fails(() => List(solo));
        Assert.Equal(StatusCode.Unauthenticated, removed.StatusCode);
        // The caller learns that its key went, not only that the server has none.
        Assert.StartsWith("The API key is not valid on this server (unknown or removed): it has no API keys now, so it accepts no calls.", removed.Status.Detail);
        // Without a key the caller is not the local admin either: the server stays closed.
        var none = await Calls.Fails(() => List(null));
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        Assert.StartsWith("This server has no API keys, so it accepts no calls.", none.Status.Detail);
        Assert.Contains("charrnn keys add", none.Status.Detail);

        var again = ApiKeyStore.Load(keysFile).Add("again", admin: false);
        await List(again);
        Assert.Equal(StatusCode.Unauthenticated, (await Calls.Fails(() => List(null))).StatusCode);

        File.WriteAllText(keysFile, "{ not json");
        var broken = await Calls.Fails(() => List(again));
        Assert.Equal(StatusCode.Unavailable, broken.StatusCode);
        Assert.Contains("keys file is not valid", broken.Status.Detail);
        Assert.DoesNotContain(keysFile, broken.Status.Detail); // the why, and the path, are in the server's log
        File.Delete(keysFile);
    }

    [Fact]
    public async Task Removing_an_admin_key_ends_its_stream_on_another_keys_session()
    {
        var keysFile = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        var store = ApiKeyStore.Load(keysFile);
        store.Add("ops", admin: true);
        var helper = store.Add("helper", admin: true);
        var user = store.Add("user", admin: false);
        using var server = new ServerFixture(o => o.KeysFile = keysFile);
        var session = await new KeyedServer.Api(server.ChannelFor(user)).Generation.Open("gru");
        // The admin streams from the user's session: removing the admin closes none of the sessions it opened (none).
        using var call = new KeyedServer.Api(server.ChannelFor(helper)).Generation.Generate(new GenerateRequest { SessionId = session.Id, MaxChars = 100_000 });
        Assert.True(await call.ResponseStream.MoveNext()); // under way; unread, the stream waits on the client
        Assert.True(ApiKeyStore.Load(keysFile).Remove("helper"));
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ended = await Calls.Fails(async () => { while (await call.ResponseStream.MoveNext(patience.Token)) { } });
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        // What the caller can do: no retry with this key can succeed.
        Assert.Equal("The API key 'helper' was removed from this server; the call ended. Retrying with this key cannot succeed: " +
                     "ask the server's operator for a new key.", ended.Status.Detail);
    }

    [Fact]
    public async Task Removing_a_key_closes_its_sessions_ends_its_streams_and_stops_its_jobs_even_when_its_name_goes_to_a_new_key()
    {
        var keysFile = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        var store = ApiKeyStore.Load(keysFile);
        var ops = store.Add("ops", admin: true);
        var leaked = store.Add("temp", admin: false);
        using var server = new ServerFixture(o => o.KeysFile = keysFile);
        var asLeaked = new KeyedServer.Api(server.ChannelFor(leaked));
        var asOps = new KeyedServer.Api(server.ChannelFor(ops));

        var idle = await asLeaked.Generation.Open("gru");
        var streaming = await asLeaked.Generation.Open("gru");
        using var call = asLeaked.Generation.Generate(new GenerateRequest { SessionId = streaming.Id, MaxChars = 100_000 });
        Assert.True(await call.ResponseStream.MoveNext()); // under way; unread, the stream waits on the client
        var typing = await asLeaked.Generation.Open("gru");
        using var interact = asLeaked.Generation.Interact();
        await interact.RequestStream.WriteAsync(new InteractRequest { SessionId = typing.Id, Text = "the ", PredictChars = 2 });
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // a stream left running fails the test, not hangs it
        var predicted = 0;
        while (predicted < 2 && await interact.ResponseStream.MoveNext(patience.Token)) predicted += interact.ResponseStream.Current.Text.Length; // then it sits idle
        var job = new StartJobRequest { ModelName = "temp-model", Architecture = "stateful-rnn", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = 1_000_000, Epochs = 1000, SampleChars = 0 } };
        job.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 16, ["bs"] = 8 });
        var started = await asLeaked.Training.StartJobAsync(job);

        // The leaked key is rotated at once: its name, and the models it made, go to a new key.
        Assert.True(ApiKeyStore.Load(keysFile).Remove("temp"));
        var rotated = ApiKeyStore.Load(keysFile).Add("temp", admin: false, reuseName: true);

        var ended = await Calls.Fails(async () => { while (await call.ResponseStream.MoveNext(patience.Token)) { } });
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        Assert.True(ended.Status.Detail.Contains($"Session '{streaming.Id}' was closed: its API key 'temp' was removed", StringComparison.Ordinal)
                    || ended.Status.Detail.Contains("The API key 'temp' was removed from this server", StringComparison.Ordinal), ended.Status.Detail); // the sweep's close or the call's own key check, whichever comes first
        Assert.Equal("UNAUTHENTICATED_KEY_REMOVED", ended.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason); // either way, for programs too
        var typingEnded = await Calls.Fails(async () => { while (await interact.ResponseStream.MoveNext(patience.Token)) { } });
        Assert.Equal(StatusCode.Unauthenticated, typingEnded.StatusCode);
        Assert.Contains("The API key 'temp' was removed from this server", typingEnded.Status.Detail);
        Assert.Equal("UNAUTHENTICATED_KEY_REMOVED", typingEnded.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason);
        var events = await asOps.Training.WatchJob(new WatchJobRequest { JobId = started.Id }).Events(patience.Token);
        Assert.Equal(JobEvent.EventOneofCase.Stopped, events[^1].EventCase);
        Assert.Equal("stopped: key 'temp' was removed", events[^1].Stopped.Reason);
        Assert.Equal(StatusCode.NotFound, (await Calls.Fails(() => asOps.Generation.GetSessionAsync(new GetSessionRequest { SessionId = streaming.Id }).ResponseAsync)).StatusCode);
        for (var waited = 0; ; waited += 50) // the sweep closes them one after another
        {
            try { await asOps.Generation.GetSessionAsync(new GetSessionRequest { SessionId = idle.Id }); }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound) { break; }
            Assert.True(waited < 10_000, "the removed key's idle session was not closed");
            await Task.Delay(50);
        }
        // The old key is refused; the new one works, owns the name's model, and its own sessions are left alone.
        Assert.Equal(StatusCode.Unauthenticated, (await Calls.Fails(() => asLeaked.Catalog.ListModelsAsync(new ListModelsRequest()).ResponseAsync)).StatusCode);
        var asRotated = new KeyedServer.Api(server.ChannelFor(rotated));
        var fresh = await asRotated.Generation.Open("gru");
        await Task.Delay(RemovedKeySweeper.Period * 2.5);
        Assert.Equal(fresh.Id, (await asRotated.Generation.GetSessionAsync(new GetSessionRequest { SessionId = fresh.Id })).Id);
        Assert.Contains((await asRotated.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "temp-model" && m.Owner == "temp");
        File.Delete(keysFile);
    }

    /// <summary>A server with one key, "user", in a keys file of its own, and a session that key opened.</summary>
    private static async Task<(string KeysFile, ServerFixture Server, Generation.GenerationClient Generation, Session Session)> OneKeyWithASession()
    {
        var keysFile = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        var user = ApiKeyStore.Load(keysFile).Add("user", admin: false);
        var server = new ServerFixture(o => o.KeysFile = keysFile);
        var generation = new Generation.GenerationClient(server.ChannelFor(user));
        return (keysFile, server, generation, await generation.Open("gru"));
    }

    [Fact]
    public async Task A_keys_file_missing_for_a_moment_refuses_calls_as_unavailable_and_sweeps_nothing()
    {
        var (keysFile, server, generation, session) = await OneKeyWithASession();
        using var _ = server;

        // As an editor that saves by renaming leaves it; every call is refused meanwhile, and nothing is swept for it.
        File.Move(keysFile, keysFile + ".saving");
        var missing = await Calls.Fails(() => generation.GetSessionAsync(new GetSessionRequest { SessionId = session.Id }).ResponseAsync);
        // Said as it is, for a client to retry: not "it has no API keys now ... keys add", which would have its admin
        // start a new file without the other keys.
        Assert.Equal(StatusCode.Unavailable, missing.StatusCode);
        Assert.StartsWith("This server cannot check API keys: its keys file is missing.", missing.Status.Detail);
        Assert.DoesNotContain("keys add", missing.Status.Detail);
        Assert.Equal("KEYS_FILE_INVALID", missing.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason);
        await Task.Delay(RemovedKeySweeper.Period * 3.5);
        File.Move(keysFile + ".saving", keysFile);

        Assert.Equal(session.Id, (await generation.GetSessionAsync(new GetSessionRequest { SessionId = session.Id })).Id);
        Assert.Equal(5, (await generation.Generate(session.Id, 5)).Length);
        File.Delete(keysFile);
    }

    [Fact]
    public async Task A_keys_file_emptied_to_no_keys_ends_what_every_key_left_running()
    {
        var (keysFile, server, generation, session) = await OneKeyWithASession();
        using var _ = server;
        using var call = generation.Generate(new GenerateRequest { SessionId = session.Id, MaxChars = 100_000 });
        Assert.True(await call.ResponseStream.MoveNext()); // under way; unread, the stream waits on the client

        File.WriteAllText(keysFile, "[]"); // an admin's answer to a leak: no key is valid any more
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ended = await Calls.Fails(async () => { while (await call.ResponseStream.MoveNext(patience.Token)) { } });
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        for (var waited = 0; server.Services.GetRequiredService<Sessions.SessionStore>().All.Count > 0; waited += 50)
        {
            Assert.True(waited < 10_000, "the removed key's session was not closed");
            await Task.Delay(50);
        }
        File.Delete(keysFile);
    }
}
