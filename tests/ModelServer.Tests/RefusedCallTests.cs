using CharRnn.ModelServer.Security;
using CharRnn.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// What an operator sees of calls: one refused for its API key is counted in charrnn_grpc_errors_total
/// and logged (once a minute per address and reason), while a client that leaves a stream is no error.
/// A server process of its own, for the counters are the process's.
/// </summary>
public class RefusedCallTests
{
    [Fact]
    public async Task Refused_keys_are_counted_and_logged_once_a_minute_and_a_watcher_that_leaves_is_not_an_error()
    {
        var keysFile = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        var ops = ApiKeyStore.Load(keysFile).Add("ops", admin: true);
        var metricsPort = ServerProcess.FreePort();
        try
        {
            using var server = new ServerProcess([$"--CharRnn:KeysFile={keysFile}", $"--CharRnn:MetricsListen=127.0.0.1:{metricsPort}"], ops);
            using var http = new HttpClient();
            async Task<string> Metrics() => await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");

            using var anonymous = GrpcChannel.ForAddress(server.Address);
            using var wrong = WithKey(server.Address, "not-a-key");
            for (var i = 0; i < 2; i++)
                Assert.Equal(StatusCode.Unauthenticated, (await Calls.Fails(() => new Catalog.CatalogClient(anonymous).ListModelsAsync(new ListModelsRequest()).ResponseAsync)).StatusCode);
            Assert.Equal(StatusCode.Unauthenticated, (await Calls.Fails(() => new Catalog.CatalogClient(wrong).ListModelsAsync(new ListModelsRequest()).ResponseAsync)).StatusCode);

            Assert.Contains("charrnn_grpc_errors_total{code=\"Unauthenticated\",reason=\"auth\",key=\"\"} 3", await Metrics()); // reason: refused for the key
            var refusals = server.Output.Split('\n').Where(l => l.Contains("Refused /charrnn.v1.Catalog/ListModels from ipv4:127.0.0.1:", StringComparison.Ordinal)).ToList();
            Assert.Single(refusals, l => l.Contains(": no API key sent", StringComparison.Ordinal)); // the second within the minute is only counted
            Assert.Single(refusals, l => l.Contains(": unknown or removed API key", StringComparison.Ordinal));
            Assert.DoesNotContain("not-a-key", server.Output);

            // A watcher closed by its client (charrnn's jobs screen, Ctrl+C) ends CANCELLED: not a failure to alert on.
            var training = new Training.TrainingClient(server.Channel);
            var job = await training.StartJobAsync(LongJob());
            using (var watch = training.WatchJob(new WatchJobRequest { JobId = job.Id }))
                Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
            var text = "";
            for (var wait = 0; wait < 15 && !text.Contains("code=\"Cancelled\"", StringComparison.Ordinal); wait++)
            {
                await Task.Delay(200); // the server sees the client leave a moment later
                text = await Metrics();
            }
            Assert.DoesNotContain("charrnn_grpc_errors_total{code=\"Cancelled\"", text);
            await training.StopJobAsync(new StopJobRequest { JobId = job.Id });
        }
        finally
        {
            File.Delete(keysFile);
        }
    }

    private static StartJobRequest LongJob()
    {
        var r = new StartJobRequest
        {
            ModelName = "watched",
            Architecture = "stateful-gru",
            CorpusName = "tiny",
            Options = new TrainingOptions { MaxSteps = 1_000_000, Epochs = 1000, SampleChars = 0, ProgressIntervalSeconds = 0.2 },
        };
        r.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 32, ["n_fac"] = 8, ["bs"] = 4 });
        return r;
    }

    private static GrpcChannel WithKey(string address, string key) => GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((_, m) =>
        {
            m.Add("authorization", "Bearer " + key);
            return Task.CompletedTask;
        })),
        UnsafeUseInsecureChannelCallCredentials = true,
    });
}
