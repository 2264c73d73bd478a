using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.Services;
using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// What an operator sharing a server between teams reads on /metrics: usage by the name of the API key
/// (never the key), the server's version, and a stream ended by its key's removal counted as a refusal for the key.
/// A server process of its own, for the counters are the process's.
/// </summary>
public class KeyUsageMetricsTests
{
    [Fact]
    public async Task Usage_is_labelled_by_key_name_and_a_stream_ended_by_key_removal_counts_as_auth()
    {
        var keysFile = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        var store = ApiKeyStore.Load(keysFile);
        store.Add("ops", admin: true);
        var teamA = store.Add("teama", admin: false);
        var metricsPort = ServerProcess.FreePort();
        try
        {
            using var server = new ServerProcess([$"--CharRnn:KeysFile={keysFile}", $"--CharRnn:MetricsListen=127.0.0.1:{metricsPort}"], teamA); // its channel is teama's
            using var http = new HttpClient();
            async Task<string> Metrics() => await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
            async Task<double?> Value(string series) =>
                (await Metrics()).Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal)) is { } line
                    ? double.Parse(line.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture) : null;

            Assert.Equal(1, await Value($"charrnn_build_info{{version=\"{CatalogService.Version}\"}}"));
            Assert.Equal(0, await Value("charrnn_sessions_active{key=\"ops\"}")); // every key has its series, so an idle server sums to 0
            Assert.Equal(0, await Value("charrnn_sessions_active{key=\"teama\"}"));
            Assert.Equal(0, await Value("charrnn_fed_characters_total{key=\"ops\"}"));

            var training = new Training.TrainingClient(server.Channel);
            var job = new StartJobRequest
            {
                ModelName = "metered", Architecture = "stateful-gru", CorpusName = "tiny",
                Options = new TrainingOptions { MaxSteps = 10, Epochs = 1000, SampleChars = 0 },
            };
            job.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 32, ["n_fac"] = 8, ["bs"] = 4 });
            Assert.Equal(JobEvent.EventOneofCase.Finished, (await training.Train(job).Events())[^1].EventCase);
            Assert.Equal(10, await Value("charrnn_training_steps_total{key=\"teama\"}"));
            Assert.True(await Value("charrnn_training_device_seconds_total{key=\"teama\"}") > 0);
            Assert.Equal(0, await Value("charrnn_training_steps_total{key=\"ops\"}")); // each key name has its series from the start

            // The queue by key too: a job queued or running counts for the key that started it, every other key's series at 0.
            foreach (var gauge in new[] { "charrnn_jobs_queued", "charrnn_jobs_running" })
                foreach (var key in new[] { "ops", "teama" })
                    Assert.Equal(0, await Value($"{gauge}{{key=\"{key}\"}}"));
            var longJob = job.Clone();
            longJob.ModelName = "gauged";
            longJob.Options.MaxSteps = 1_000_000;
            var started = await training.StartJobAsync(longJob);
            Assert.Equal(1, await Value("charrnn_jobs_queued{key=\"teama\"}") + await Value("charrnn_jobs_running{key=\"teama\"}"));
            Assert.Equal(0, await Value("charrnn_jobs_queued{key=\"ops\"}") + await Value("charrnn_jobs_running{key=\"ops\"}"));
            Assert.DoesNotContain("\ncharrnn_jobs_queued ", await Metrics()); // no series without the label
            await training.StopJobAsync(new StopJobRequest { JobId = started.Id });

            var generation = new Generation.GenerationClient(server.Channel);
            var session = await generation.Open("metered");
            Assert.Equal(50, (await generation.Generate(session.Id, 50)).Length);
            Assert.Equal(50, await Value("charrnn_generated_characters_total{key=\"teama\"}"));
            Assert.Equal(1, await Value("charrnn_sessions_active{key=\"teama\"}"));
            Assert.Equal(0, await Value("charrnn_sessions_active{key=\"ops\"}"));
            var fedBefore = await Value("charrnn_fed_characters_total{key=\"teama\"}");
            await generation.FeedAsync(new FeedRequest { SessionId = session.Id, Text = "the cat" });
            Assert.Equal(fedBefore + 7, await Value("charrnn_fed_characters_total{key=\"teama\"}"));
            Assert.Equal(0, await Value("charrnn_fed_characters_total{key=\"ops\"}"));

            using var call = generation.Generate(new GenerateRequest { SessionId = session.Id, MaxChars = 100_000 });
            Assert.True(await call.ResponseStream.MoveNext()); // under way; unread, the stream waits on the client
            Assert.True(ApiKeyStore.Load(keysFile).Remove("teama"));
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var ended = await Calls.Fails(async () => { while (await call.ResponseStream.MoveNext(patience.Token)) { } });
            Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
            var text = await Metrics();
            // deploy.md: auth, for every refusal of the key; and which key it was, for a key the server had accepted.
            Assert.Contains("charrnn_grpc_errors_total{code=\"Unauthenticated\",reason=\"auth\",key=\"teama\"} 1", text);
            Assert.DoesNotContain("reason=\"\"", text);
            Assert.Null(await Value("charrnn_sessions_active{key=\"teama\"}")); // a removed name's series goes: the keys file bounds them
            foreach (var secret in new[] { teamA, ApiKeyStore.Hash(teamA) }) Assert.DoesNotContain(secret, text);
        }
        finally
        {
            File.Delete(keysFile);
        }
    }
}
