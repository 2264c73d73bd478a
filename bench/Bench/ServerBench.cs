using System.Diagnostics;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Hosting;
using CharRnn.Protos.V1;
using CharRnn.ModelServer.Metrics;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>
/// Generation through the gRPC server over loopback: time to first character, inter-character
/// latency, aggregate chars/s with many concurrent streams, alone and while a job trains; and the
/// memory soak. The server runs in this process (as the TUI embeds it), the clients over a socket.
/// </summary>
public sealed class ServerBench : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;
    private readonly string _root;
    private readonly ServerOptions _options;
    private readonly string _checkpoint;
    private TrainedModel? _engineModel; // device thread only
    private StepThreadTuner? _engineTuner; // device thread only

    private ServerBench(WebApplication app, string address, GrpcChannel channel, string root, ServerOptions options, string checkpoint)
    {
        Address = address;
        _app = app;
        _checkpoint = checkpoint;
        _options = options;
        _channel = channel;
        _root = root;
        Generation = new Generation.GenerationClient(channel);
        Training = new Training.TrainingClient(channel);
    }

    /// <summary>The server's loopback address, for clients in another process.</summary>
    public string Address { get; }
    public Generation.GenerationClient Generation { get; }
    public Training.TrainingClient Training { get; }
    public DeviceWorker Worker => _app.Services.GetRequiredService<DeviceWorker>();

    public static async Task<ServerBench> StartAsync(Corpus corpus, int threads)
    {
        var root = Path.Combine(Path.GetTempPath(), "charrnn-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var options = new ServerOptions
        {
            Listen = "127.0.0.1:0",
            ModelsDirectory = Path.Combine(root, "models"),
            CorpusCacheDirectory = CorpusResolver.DefaultCacheDirectory(),
            Device = BenchDevice.Name,
            Threads = threads,
        };
        options.Limits.MaxSessions = 4096;
        // Only the server's errors, on stderr: a failed stream's status says "see the server log".
        var app = ServerHost.Build([], options, logging => logging.AddSimpleConsole(o => o.SingleLine = true).AddFilter((_, level) => level >= LogLevel.Error));
        var address = await ServerHost.StartAsync(app);
        // An untrained LSTM of the lesson's size (generation cost does not depend on the weights), made on the
        // server's device thread: Torch work on a second thread would give libgomp a second thread team, and
        // with more OpenMP threads than cores it stops spinning between parallel regions (GOMP_SPINCOUNT's
        // throttled count), which halves GRU training here. Users' servers do all Torch work on that one thread.
        var architecture = Architectures.Get("stateful-lstm");
        var checkpoint = await app.Services.GetRequiredService<DeviceWorker>().Run(() =>
        {
            using var trainer = Trainer.Create(architecture, architecture.Resolve(), new CharRnn.Engine.Training.TrainingOptions { Lowercase = true, SampleChars = 0 },
                corpus, CPU, Path.Combine(root, "models", StreamClients.Model));
            return trainer.SaveCheckpoint("bench");
        });
        var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        });
        return new ServerBench(app, address.ToString(), channel, root, options, checkpoint);
    }

    public Task<Session> Open(ulong seed) => StreamClients.Open(Generation, seed);

    /// <summary>
    /// Seconds from sending Generate to its first character; with <paramref name="newSession"/>, from
    /// sending OpenSession (its prime fed) instead, as a client that starts from nothing waits.
    /// </summary>
    public async Task<Stats> TimeToFirstChar(int runs, bool newSession = false)
    {
        var session = await Open(1);
        var times = new List<double>();
        for (int i = 0; i < runs + 3; i++)
        {
            var clock = Stopwatch.StartNew();
            if (newSession)
            {
                await Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
                clock.Restart();
                session = await Open((ulong)i);
            }
            using var call = Generation.Generate(new GenerateRequest { SessionId = session.Id, MaxChars = 20 });
            await call.ResponseStream.MoveNext(CancellationToken.None);
            var first = clock.Elapsed.TotalSeconds;
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
            if (i >= 3) times.Add(first);
        }
        await Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
        return new Stats(times);
    }

    /// <summary>
    /// Changes how long training holds the device at a time while anyone streams, from the next slice on
    /// (the device loop reads the option at every slice), so one run compares settings side by side.
    /// </summary>
    public void UseTrainingSlice(double milliseconds) => _options.TrainingSliceMilliseconds = milliseconds;

    public double TrainingSliceMilliseconds => _options.TrainingSliceMilliseconds;

    /// <summary>
    /// <paramref name="ServerStepSeconds"/>: the mean batched generation step inside the server meanwhile, from its own metric;
    /// <paramref name="TrainingStepsPerSecond"/> and <paramref name="MeanSliceSeconds"/>: the running job's steps and the mean slice it held the device for;
    /// <paramref name="FirstError"/>: what the first failed stream got, when one did.
    /// </summary>
    public sealed record StreamResult(int Streams, double CharsPerSecond, Stats InterCharSeconds, int Errors, double ServerStepSeconds,
        double TrainingStepsPerSecond, double MeanSliceSeconds, string? FirstError);

    /// <summary>
    /// N concurrent streams of <paramref name="chars"/> each: aggregate chars/s and every stream's gaps between
    /// messages (between chars unless <paramref name="charsPerMessage"/> gathers them), from clients in this
    /// process, or from <paramref name="clientProcess"/>'s.
    /// </summary>
    public async Task<StreamResult> Streams(int count, int chars, int charsPerMessage = 1, StreamClientProcess? clientProcess = null)
    {
        (double Sum, long Count, double SliceSum, long Slices, double Trained) Metrics() =>
            (ServerMetrics.GenerationStepSeconds.Sum, ServerMetrics.GenerationStepSeconds.Count,
             ServerMetrics.TrainingSliceSeconds.Sum, ServerMetrics.TrainingSliceSeconds.Count, TrainingStepsDone);
        var (before, after) = (Metrics(), Metrics());
        StreamClients.Result result;
        if (clientProcess == null)
            result = await StreamClients.Run(Generation, count, chars, charsPerMessage, started: () => before = Metrics(), finished: () => after = Metrics());
        else
        {
            // The other process opens its sessions within this window and closes them too: no generation steps; these rows train nothing.
            before = Metrics();
            result = await clientProcess.Run(count, chars, charsPerMessage);
            after = Metrics();
        }
        var serverStep = (after.Sum - before.Sum) / Math.Max(1, after.Count - before.Count);
        var trainingSteps = (after.Trained - before.Trained) / result.Seconds;
        var meanSlice = (after.SliceSum - before.SliceSum) / Math.Max(1, after.Slices - before.Slices);
        return new StreamResult(count, result.Chars / result.Seconds, new Stats(result.Gaps), result.Errors, serverStep, trainingSteps, meanSlice, result.FirstError);
    }

    /// <summary>The running job's steps per second over <paramref name="window"/> with nobody streaming.</summary>
    public async Task<double> TrainingStepsPerSecondAlone(TimeSpan window)
    {
        var before = TrainingStepsDone;
        var clock = Stopwatch.StartNew();
        await Task.Delay(window);
        return (TrainingStepsDone - before) / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Steps trained so far: the series of 'local', the owner of every job on a server without keys, as this one is. The
    /// counter's unlabelled child, read here until 2026-12-06, stays 0 since the counter took its key label.
    /// </summary>
    private static double TrainingStepsDone => ServerMetrics.TrainingSteps.WithLabels(CharRnn.ModelServer.Security.Caller.Local.Name).Value;

    /// <summary>Starts a long training job (the GRU on Nietzsche) and waits until it runs.</summary>
    public async Task<string> StartTraining()
    {
        var request = new StartJobRequest
        {
            ModelName = "bench-train-" + Guid.NewGuid().ToString("N")[..6],
            Architecture = "stateful-gru",
            CorpusName = "nietzsche",
            Options = new CharRnn.Protos.V1.TrainingOptions { Epochs = 1000, Lowercase = true, SampleChars = 0 },
        };
        var job = await Training.StartJobAsync(request);
        using var watch = Training.WatchJob(new WatchJobRequest { JobId = job.Id });
        while (await watch.ResponseStream.MoveNext(CancellationToken.None))
            if (watch.ResponseStream.Current.EventCase == JobEvent.EventOneofCase.Progress) break;
        return job.Id;
    }

    public async Task StopTraining(string jobId)
    {
        await Training.StopJobAsync(new StopJobRequest { JobId = jobId });
        using var watch = Training.WatchJob(new WatchJobRequest { JobId = jobId });
        while (await watch.ResponseStream.MoveNext(CancellationToken.None)) { }
    }

    /// <summary>
    /// The engine's own batched rate beside the streams: <paramref name="count"/> sessions of the
    /// server's model stepped together on the server's device thread (its OpenMP team, its
    /// thread count), no gRPC, for about <paramref name="seconds"/>. Chars/s.
    /// </summary>
    public Task<double> EngineCharsPerSecond(int count, double seconds) => Worker.Run(() =>
    {
        var threadsBefore = get_num_threads();
        _engineModel ??= TrainedModel.Load(_checkpoint, Worker.Device);
        _engineTuner ??= StepThreadTuner.ForDevice(Worker.Device.type, _options.Threads);
        try
        {
            // Each step on the thread count the device loop's kind of tuner picks for it.
            return GenerationBench.Measure(_engineModel.Model, _engineModel.Vocabulary, count, seconds, _engineTuner).CharsPerSecond;
        }
        finally
        {
            set_num_threads(threadsBefore);
        }
    });

    /// <summary>Live tensors as the device thread counts them.</summary>
    public Task<long> LiveTensors() => Worker.Run(() => DisposeScopeManager.Statistics.ThreadTotalLiveCount);

    public async ValueTask DisposeAsync()
    {
        if (_engineModel is { } model) await Worker.Run(model.Dispose);
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
