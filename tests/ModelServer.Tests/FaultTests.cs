using System.Net;
using System.Net.Sockets;
using CharRnn.Engine.Checkpoints;
using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>Real server processes killed, stopped and abused: the server loses nothing and keeps serving.</summary>
public class FaultTests
{
    private static StartJobRequest TinyJob(string name, int maxSteps)
    {
        var r = new StartJobRequest
        {
            ModelName = name,
            Architecture = "stateful-gru",
            CorpusName = "tiny",
            Options = new TrainingOptions { MaxSteps = maxSteps, Epochs = 1000, SampleChars = 0, ProgressIntervalSeconds = 0.2 },
        };
        r.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 32, ["n_fac"] = 8, ["bs"] = 4 });
        return r;
    }

    /// <summary>Trains a tiny model on <paramref name="server"/> to the end, so tests have one to generate from.</summary>
    private static async Task<Training.TrainingClient> TrainTiny(ServerProcess server, string name, int maxSteps)
    {
        var training = new Training.TrainingClient(server.Channel);
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await training.Train(TinyJob(name, maxSteps)).Events())[^1].EventCase);
        return training;
    }

    private static Dictionary<string, float[]> Weights(string checkpoint)
    {
        using var c = CheckpointFile.Read(checkpoint);
        return c.WithPrefix("model/").ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());
    }

    [Fact]
    public async Task After_kill_minus_9_a_restart_resumes_the_running_job_exactly_and_keeps_the_queued_one()
    {
        using var server = new ServerProcess(["--CharRnn:CheckpointMinutes=0.01"]);
        var training = new Training.TrainingClient(server.Channel);
        var running = await training.StartJobAsync(TinyJob("crash", 400));
        var queued = await training.StartJobAsync(TinyJob("waiting", 30));
        await foreach (var e in training.WatchJob(new WatchJobRequest { JobId = running.Id }).ResponseStream.ReadAllAsync())
            if (e.EventCase == JobEvent.EventOneofCase.CheckpointSaved && e.Step >= 120) break;

        server.KillHard();
        server.Start();
        training = new Training.TrainingClient(server.Channel);

        var events = await training.WatchJob(new WatchJobRequest { JobId = running.Id }).Events();
        var starts = events.Where(e => e.EventCase == JobEvent.EventOneofCase.Started).ToList();
        Assert.Equal(2, starts.Count); // the first run's, kept in the database, then the resumption's
        Assert.Equal(0, starts[0].Started.ResumedFromStep);
        Assert.True(starts[1].Started.ResumedFromStep >= 120, $"resumed from step {starts[1].Started.ResumedFromStep}");
        Assert.Contains(events, e => e.EventCase == JobEvent.EventOneofCase.Progress && e.Sequence < starts[1].Sequence && e.Step > 0);
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence), "event numbers go on across the restart");
        Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);
        Assert.Equal(400, events[^1].Step);
        var waiting = await training.WatchJob(new WatchJobRequest { JobId = queued.Id }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, waiting[^1].EventCase);

        // The same job without the crash ends with the same weights.
        var reference = await training.Train(TinyJob("no-crash", 400)).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, reference[^1].EventCase);
        var resumed = Weights(Path.Combine(server.ModelsDirectory, "crash", "last.ckpt"));
        var straight = Weights(Path.Combine(server.ModelsDirectory, "no-crash", "last.ckpt"));
        foreach (var (name, values) in straight)
            Assert.True(values.Zip(resumed[name]).All(p => Math.Abs(p.First - p.Second) <= 1e-6f), $"{name} differs after the crash and resume");
        Assert.Empty(Directory.GetFiles(Path.Combine(server.ModelsDirectory, "crash"), "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Sighup_shuts_down_as_sigterm_does_checkpointing_the_job_releasing_its_lock_and_exiting_0()
    {
        using var server = new ServerProcess(["--CharRnn:CheckpointMinutes=100"]);
        var training = new Training.TrainingClient(server.Channel);
        var job = await training.StartJobAsync(TinyJob("hangup", 1_000_000));
        using var watch = training.WatchJob(new WatchJobRequest { JobId = job.Id });
        while (await watch.ResponseStream.MoveNext(CancellationToken.None))
            if (watch.ResponseStream.Current.EventCase == JobEvent.EventOneofCase.Progress && watch.ResponseStream.Current.Step > 5) break;

        server.HangUp();
        var watched = await Calls.Fails(async () => { while (await watch.ResponseStream.MoveNext(CancellationToken.None)) { } });
        Assert.Equal(StatusCode.Unavailable, watched.StatusCode);
        Assert.Contains("shutting down", watched.Status.Detail);
        Assert.True(server.WaitForExit(TimeSpan.FromSeconds(60)), "the server should exit within a bounded time");
        Assert.Equal(0, server.ExitCode); // not 129: the signal's default action would skip all of the above
        var saved = CheckpointFile.ReadMetadata(Path.Combine(server.ModelsDirectory, "hangup", "last.ckpt"));
        Assert.Equal("stopped", saved.Reason);
        Assert.True(saved.Position.Step > 5);
        Assert.False(File.Exists(Path.Combine(server.ModelsDirectory, "hangup", ModelFolder.TrainingLockFile)), "the model's training lock should go with the job");
    }

    [Fact]
    public async Task Sigterm_ends_streams_with_unavailable_checkpoints_the_job_and_exits_then_the_job_resumes()
    {
        using var server = new ServerProcess(["--CharRnn:CheckpointMinutes=100"]);
        var training = await TrainTiny(server, "sigterm-chat", 10);
        var generation = new Generation.GenerationClient(server.Channel);
        var job = await training.StartJobAsync(TinyJob("sigterm", 1_000_000));
        using var watch = training.WatchJob(new WatchJobRequest { JobId = job.Id });
        while (await watch.ResponseStream.MoveNext(CancellationToken.None))
            if (watch.ResponseStream.Current.EventCase == JobEvent.EventOneofCase.Progress && watch.ResponseStream.Current.Step > 20) break;
        var session = await generation.Open("sigterm-chat", seed: 1);
        using var stream = generation.Generate(new GenerateRequest { SessionId = session.Id, MaxChars = 100_000 });
        Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None));

        server.Terminate();
        var generate = await Calls.Fails(async () => { while (await stream.ResponseStream.MoveNext(CancellationToken.None)) { } });
        Assert.Equal(StatusCode.Unavailable, generate.StatusCode);
        Assert.Contains("shutting down", generate.Status.Detail);
        var watched = await Calls.Fails(async () => { while (await watch.ResponseStream.MoveNext(CancellationToken.None)) { } });
        Assert.Equal(StatusCode.Unavailable, watched.StatusCode);
        Assert.True(server.WaitForExit(TimeSpan.FromSeconds(60)), "the server should exit within a bounded time");
        Assert.Contains($"job {job.Id} model sigterm", server.Output); // the log's scope, readable
        Assert.DoesNotContain("System.Collections.Generic", server.Output);
        var saved = CheckpointFile.ReadMetadata(Path.Combine(server.ModelsDirectory, "sigterm", "last.ckpt"));
        Assert.Equal("stopped", saved.Reason);
        Assert.True(saved.Position.Step > 20);
        // The operator reads why the server stopped, and where the job will pick up.
        Assert.Contains("Received SIGTERM: shutting down", server.Output);
        Assert.Contains($"Job {job.Id} (model sigterm) checkpointed at step {saved.Position.Step}; it resumes at the next start", server.Output);

        server.Start();
        training = new Training.TrainingClient(server.Channel);
        var resumed = false;
        await foreach (var e in training.WatchJob(new WatchJobRequest { JobId = job.Id }).ResponseStream.ReadAllAsync())
        {
            Assert.NotEqual(JobEvent.EventOneofCase.Stopped, e.EventCase); // the shutdown's stop is not the job's end
            if (e.EventCase != JobEvent.EventOneofCase.Started || e.Started.ResumedFromStep == 0) continue; // the first run's, from the history
            Assert.Equal(saved.Position.Step, e.Started.ResumedFromStep);
            resumed = true;
            break;
        }
        Assert.True(resumed, "the job's events ended without a resumed start");
        await training.StopJobAsync(new StopJobRequest { JobId = job.Id });
        var lost = await Calls.Fails(() => new Generation.GenerationClient(server.Channel).Generate(session.Id, 5));
        Assert.Equal(StatusCode.NotFound, lost.StatusCode); // sessions live in memory only
        Assert.Contains("server restarted", lost.Status.Detail);
    }

    [Fact]
    public async Task Two_hundred_concurrent_streams_each_receive_exactly_what_they_asked_for()
    {
        using var server = new ServerProcess(["--CharRnn:Limits:MaxSessionsPerKey=1000", "--CharRnn:Limits:MaxCharsPerMinutePerKey=100000000"]);
        await TrainTiny(server, "load", 20);
        var generation = new Generation.GenerationClient(server.Channel);
        var sessions = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => generation.Open("load", seed: (ulong)i)));
        var until = DateTime.UtcNow.AddSeconds(10);
        var calls = await Task.WhenAll(sessions.Select(async s =>
        {
            int done = 0;
            while (DateTime.UtcNow < until)
            {
                using var call = generation.Generate(new GenerateRequest { SessionId = s.Id, MaxChars = 50 }, deadline: DateTime.UtcNow.AddSeconds(60));
                var pieces = new List<GenerateResponse>();
                await foreach (var p in call.ResponseStream.ReadAllAsync()) pieces.Add(p);
                Assert.Equal(50, pieces.Count);
                Assert.Equal(GenerateResponse.Types.FinishReason.Length, pieces[^1].FinishReason);
                Assert.All(pieces, p => Assert.False(string.IsNullOrEmpty(p.Text)));
                done++;
            }
            return done;
        }));
        // Sessions of one model step together, so no stream is starved while others run ahead.
        Assert.True(calls.Min() * 3 >= calls.Max(), $"calls per stream ranged from {calls.Min()} to {calls.Max()}");
    }

    [Fact]
    public async Task Garbage_http1_tiny_deadlines_and_dropped_sessions_do_not_hurt_other_clients()
    {
        using var server = new ServerProcess(["--CharRnn:Limits:MaxSessionsPerKey=2000", "--CharRnn:Limits:MaxSessions=2000"]);
        await TrainTiny(server, "robust", 10);
        var generation = new Generation.GenerationClient(server.Channel);

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, server.Port);
            var garbage = new byte[4096];
            new Random(1).NextBytes(garbage);
            await tcp.GetStream().WriteAsync(garbage);
            var buffer = new byte[1024];
            try { while (await tcp.GetStream().ReadAsync(buffer) > 0) { } } catch (IOException) { } // the server closes it
        }
        using (var http1 = new HttpClient { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact })
        {
            try
            {
                using var response = await http1.GetAsync(server.Address + "/charrnn.v1.Catalog/ListModels");
                Assert.False(response.IsSuccessStatusCode, $"HTTP/1.1 on the HTTP/2-only port should be refused, got {response.StatusCode}");
            }
            catch (HttpRequestException)
            {
                // refused at the connection: also fine
            }
        }

        var tiny = await Calls.Fails(async () =>
        {
            var s = await generation.Open("robust");
            using var call = generation.Generate(new GenerateRequest { SessionId = s.Id, MaxChars = 1000 }, deadline: DateTime.UtcNow.AddMilliseconds(1));
            await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
        });
        Assert.Equal(StatusCode.DeadlineExceeded, tiny.StatusCode);

        var huge = await Calls.Fails(async () =>
        {
            var s = await generation.Open("robust");
            await generation.Generate(s.Id, 1_000_000_000);
        });
        Assert.Equal(StatusCode.InvalidArgument, huge.StatusCode); // too big a request: no use retrying it

        await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => generation.Open("robust", seed: (ulong)i))); // opened and dropped
        using (var vanish = new CancellationTokenSource())
        {
            var s = await generation.Open("robust");
            var call = generation.Generate(new GenerateRequest { SessionId = s.Id, MaxChars = 100_000 }, cancellationToken: vanish.Token);
            await call.ResponseStream.MoveNext(CancellationToken.None);
            vanish.Cancel(); // a client that vanishes mid-stream
            call.Dispose();
        }

        var after = await generation.Open("robust", seed: 5, prime: "the ");
        Assert.Equal(100, (await generation.Generate(after.Id, 100)).Length);
        Assert.False(server.HasExited);
    }

    [Fact]
    public async Task Metrics_are_served_for_prometheus_and_move()
    {
        var metricsPort = ServerProcess.FreePort();
        using var server = new ServerProcess([$"--CharRnn:MetricsListen=127.0.0.1:{metricsPort}"]);
        await TrainTiny(server, "metered", 10);
        var generation = new Generation.GenerationClient(server.Channel);
        var session = await generation.Open("metered");
        using var http = new HttpClient();
        async Task<double> Value(string metric)
        {
            var text = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
            var line = text.Split('\n').First(l => l.StartsWith(metric + " ", StringComparison.Ordinal) || l.StartsWith(metric + "{", StringComparison.Ordinal));
            return double.Parse(line.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
        }
        var before = await Value("charrnn_generated_characters_total");
        await generation.Generate(session.Id, 200);
        Assert.Equal(before + 200, await Value("charrnn_generated_characters_total"));
        Assert.True(await Value("charrnn_sessions_active") >= 1);
        Assert.True(await Value("charrnn_generation_step_seconds_count") >= 200);
        Assert.True(await Value("charrnn_generation_steps_total{threads=\"1\"}") >= 200); // this server runs on one thread
        await Calls.Fails(() => generation.Generate("s-missing", 5));
        Assert.True(await Value("charrnn_grpc_errors_total") >= 1);
        var text = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");

        // Only on the metrics listener: not on the gRPC port for a client that names the metrics port as its host.
        // The request names the metrics port (its :authority) but goes to the gRPC port's socket.
        var toGrpcPort = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellation) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                await socket.ConnectAsync(System.Net.IPAddress.Loopback, server.Port, cancellation);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var h2c = new HttpClient(toGrpcPort) { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var answer = await h2c.GetAsync($"http://127.0.0.1:{metricsPort}/metrics");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, answer.StatusCode);
        foreach (var name in new[] { "charrnn_generation_batch_size", "charrnn_jobs_queued", "charrnn_jobs_running", "charrnn_training_chars_per_second", "charrnn_device_memory_bytes",
                     "process_cpu_seconds_total", "system_runtime_dotnet_gc_collections" })
            Assert.Contains(name, text);
        // Only the server's own metrics and the useful standard ones: not every .NET meter (System.Net.Quic's 32 private ones).
        Assert.DoesNotContain("private_internaldiagnostics", text);
    }
}
