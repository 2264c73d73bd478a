using CharRnn.ModelServer.Metrics;
using CharRnn.ModelServer.Persistence;
using CharRnn.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// What an operator of a team server reads in its log: which key hit which quota (once a minute per key
/// and quota, counted in charrnn_grpc_errors_total with the quota as reason), who shared or un-shared a
/// model, and an admin acting on another key's session.
/// </summary>
public class OperatorLogTests(KeyedServer keyed) : IClassFixture<KeyedServer>
{
    private CapturedLog Log => keyed.Server.Log;

    [Fact]
    public async Task A_quota_refusal_is_counted_with_its_quota_and_logged_once_a_minute_per_key_and_quota()
    {
        var counted = ServerMetrics.Errors.WithLabels(StatusCode.ResourceExhausted.ToString(), "max_sessions_per_key", "dave"); // the key that keeps hitting it
        var before = counted.Value;
        var open = new List<Session>();
        for (var i = 0; i < keyed.Server.Options.Limits.MaxSessionsPerKey; i++) open.Add(await keyed.AsDave.Generation.Open("gru"));
        for (var i = 0; i < 2; i++)
            Assert.Equal(StatusCode.ResourceExhausted, (await Calls.Fails(() => keyed.AsDave.Generation.Open("gru"))).StatusCode);

        Assert.True(counted.Value >= before + 2, $"{counted.Value - before} refusals counted with reason max_sessions_per_key"); // other servers in this process count too
        var logged = Assert.Single(Log.With("for key dave: quota max_sessions_per_key"));
        Assert.StartsWith("Warning: Refused /charrnn.v1.Generation/OpenSession for key dave: quota max_sessions_per_key reached: Key 'dave' holds 4 open sessions", logged);
        foreach (var s in open) await keyed.AsDave.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = s.Id });
    }

    [Fact]
    public async Task Requests_that_do_not_parse_or_are_too_large_are_counted_and_logged_in_one_line_a_minute_without_a_stack()
    {
        var malformed = ServerMetrics.Errors.WithLabels(StatusCode.InvalidArgument.ToString(), ServerMetrics.MalformedMessageReason, ""); // refused before the key check
        var oversized = ServerMetrics.Errors.WithLabels(StatusCode.ResourceExhausted.ToString(), "max_message_bytes", ""); // refused before the key check
        var (malformedBefore, oversizedBefore) = (malformed.Value, oversized.Value);
        var raw = new Method<byte[], byte[]>(MethodType.Unary, "charrnn.v1.Generation", "OpenSession",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var invoker = keyed.AsAlice.Channel.CreateCallInvoker();
        RpcException? malformedRefusal = null, oversizedRefusal = null;
        for (var i = 0; i < 3; i++) // a varint that never ends: no protobuf parser takes it
            Assert.Equal(StatusCode.InvalidArgument, (malformedRefusal = await Calls.Fails(() => invoker.AsyncUnaryCall(raw, null, new CallOptions(), [0xff, 0xff, 0xff, 0xff, 0x0f]).ResponseAsync)).StatusCode);
        var tooLong = new string('a', keyed.Server.Options.Limits.MaxMessageBytes);
        for (var i = 0; i < 2; i++)
            Assert.Equal(StatusCode.ResourceExhausted, (oversizedRefusal = await Calls.Fails(() => keyed.AsAlice.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = "gru", Prime = tooLong }).ResponseAsync)).StatusCode);

        Assert.True(malformed.Value >= malformedBefore + 3, $"{malformed.Value - malformedBefore} malformed requests counted"); // other servers in this process count too
        Assert.True(oversized.Value >= oversizedBefore + 2, $"{oversized.Value - oversizedBefore} oversized requests counted");
        Assert.Empty(Log.With("Error when executing service method")); // grpc-dotnet's, with a stack trace, for every call
        const string covers = "; the refusals of this address for this reason within a minute carry this id, and are not logged)";
        Assert.Equal(["Warning: Refused /charrnn.v1.Generation/OpenSession from unknown: " + MessageLimits.MalformedMessageRefusal.NotParsedReason +
                      $" (request {RequestId(malformedRefusal)}{covers}"], Log.With("its request message does not parse"));
        Assert.Equal([$"Warning: Refused /charrnn.v1.Generation/OpenSession from unknown: a message over max_message_bytes ({keyed.Server.Options.Limits.MaxMessageBytes:N0} " +
                      $"bytes; RESOURCE_EXHAUSTED) (request {RequestId(oversizedRefusal)}{covers}"], Log.With("a message over max_message_bytes"));
    }

    private static string? RequestId(RpcException? e) => e?.Trailers.GetValue(Errors.ErrorMappingInterceptor.RequestIdTrailer);

    [Fact]
    public async Task An_admin_stopping_a_job_is_logged_when_asked_not_only_when_the_job_ends()
    {
        var job = new StartJobRequest { ModelName = "bobs-stopped", Architecture = "stateful-rnn", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = 1_000_000, Epochs = 1000, SampleChars = 0 } };
        job.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 16, ["bs"] = 8 });
        var started = await keyed.AsBob.Training.StartJobAsync(job);
        await keyed.AsAdmin.Training.StopJobAsync(new StopJobRequest { JobId = started.Id });

        Assert.Equal([$"Information: Stop requested for job {started.Id} (model bobs-stopped, owner bob) by key root"], Log.With($"Stop requested for job {started.Id} "));
    }

    [Fact]
    public async Task A_watch_its_client_cancels_is_not_logged_as_an_error()
    {
        // A client that stops watching (the REPL's detach, Ctrl+C, a closed script) ends its call: no fault of the server's.
        var job = new StartJobRequest { ModelName = "bobs-watched", Architecture = "stateful-rnn", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = 1_000_000, Epochs = 1000, SampleChars = 0 } };
        job.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 16, ["bs"] = 8 });
        var started = await keyed.AsBob.Training.StartJobAsync(job);
        try
        {
            using var watching = new CancellationTokenSource();
            using var watch = keyed.AsBob.Training.WatchJob(new WatchJobRequest { JobId = started.Id }, cancellationToken: watching.Token);
            Assert.True(await watch.ResponseStream.MoveNext());
            await watching.CancelAsync();
            await Task.Delay(TimeSpan.FromSeconds(2)); // the server's end of the call runs its course
            Assert.Empty(Log.With("Error when executing /charrnn.v1.Training/WatchJob"));
        }
        finally { await keyed.AsBob.Training.StopJobAsync(new StopJobRequest { JobId = started.Id }); }
    }

    [Fact]
    public async Task An_import_whose_client_dies_mid_file_is_not_logged_as_an_error()
    {
        // A client killed while it sends a file (kill -9, a dropped link) ends the connection without a word of HTTP/2: the
        // server's read of the request stream fails with an IOException ("the HTTP/2 connection faulted"), no fault of the
        // server's. A real server (the test server has no connection to drop) and a socket of the test's own to close.
        var models = Path.Combine(Path.GetTempPath(), "charrnn-dropped-" + Guid.NewGuid().ToString("N")[..8]);
        var log = new CapturedLog();
        var app = Hosting.ServerHost.Build([], new Hosting.ServerOptions { Listen = "127.0.0.1:0", ModelsDirectory = models, Device = "cpu", Threads = 1 },
            l => l.AddProvider(log));
        System.Net.Sockets.Socket? socket = null;
        try
        {
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (connect, ct) =>
                {
                    socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(connect.DnsEndPoint, ct);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                },
            };
            using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(await Hosting.ServerHost.StartAsync(app), new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler });
            using var call = new Catalog.CatalogClient(channel).ImportModel();
            await call.RequestStream.WriteAsync(new ImportModelRequest { Header = new ImportModelHeader { Name = "dropped" } });
            await call.RequestStream.WriteAsync(new ImportModelRequest { Data = Google.Protobuf.ByteString.CopyFrom(new byte[4096]) });
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); Directory.GetDirectories(models, ".importing-*").Length == 0; await Task.Delay(20))
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "waited 60 s for the import to start reading the file");
            socket!.Close(); // as the kernel closes a killed client's socket
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); Directory.GetDirectories(models, ".importing-*").Length > 0; await Task.Delay(20))
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "waited 60 s for the import cut off to remove its folder");
            await Task.Delay(TimeSpan.FromSeconds(2)); // the server's end of the call runs its course

            Assert.Empty(log.With("Error when executing /charrnn.v1.Catalog/ImportModel"));
            var line = Assert.Single(log.With("Import of model dropped"));
            // 0 or 4096 bytes: the data may still have been on its way when the connection went
            Assert.Matches(@"^Information: Import of model dropped by local stopped after (0|4096) bytes: the client went away; nothing was stored$", line);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(models, true);
        }
    }

    [Fact]
    public async Task A_closed_session_is_logged_with_its_model_owner_age_and_chars()
    {
        var session = await keyed.AsAlice.Generation.Open("gru");
        await keyed.AsAlice.Generation.Generate(session.Id, 25);
        await keyed.AsAlice.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });

        var line = Assert.Single(Log.With($"Session {session.Id} closed"));
        Assert.Matches(@"^Information: Session \S+ closed \(model gru, owner alice, open 00:00:\d\d, 25 chars seen\)$", line);
    }

    [Fact]
    public async Task A_session_an_admin_closes_for_another_key_is_logged_saying_which_admin()
    {
        // sessions close ID: the owner's client learns only that its session was closed; the log says who did it.
        var session = await keyed.AsAlice.Generation.Open("gru");
        await keyed.AsAdmin.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });

        var line = Assert.Single(Log.With($"Session {session.Id} closed"));
        Assert.Matches(@"^Information: Session \S+ closed \(model gru, owner alice, open 00:00:\d\d, 0 chars seen\) by key root$", line);
    }

    [Fact]
    public async Task Sharing_and_unsharing_a_model_is_logged_with_who_did_it()
    {
        keyed.Server.TrainOn("bobs-shared", ServerFixture.TinyCorpus());
        keyed.Server.Services.GetRequiredService<ServerDatabase>().SetModelOwner("bobs-shared", "bob");
        await keyed.AsBob.Catalog.ShareModelAsync(new ShareModelRequest { Name = "bobs-shared", Shared = true });
        await keyed.AsAdmin.Catalog.ShareModelAsync(new ShareModelRequest { Name = "bobs-shared", Shared = false });

        Assert.Equal(["Information: Model bobs-shared (owner bob) shared with every key by bob",
                      "Information: Model bobs-shared (owner bob) no longer shared, by root; sessions already open on it keep working"],
            Log.With("Model bobs-shared (owner bob)"));
    }

    [Fact]
    public async Task An_admin_generating_from_or_forking_another_keys_session_is_logged()
    {
        var session = await keyed.AsAlice.Generation.Open("gru");
        await keyed.AsAlice.Generation.Generate(session.Id, 5);
        Assert.Empty(Log.With($"on session {session.Id}")); // the owner's own use is not

        await keyed.AsAdmin.Generation.GetSessionAsync(new GetSessionRequest { SessionId = session.Id });
        Assert.Empty(Log.With($"on session {session.Id}")); // a read-only call is not logged
        await keyed.AsAdmin.Generation.Generate(session.Id, 5);
        var fork = await keyed.AsAdmin.Generation.ForkAsync(new ForkRequest { SessionId = session.Id });
        await keyed.AsAdmin.Generation.Generate(session.Id, 5);
        // Once a minute per admin and session, naming the method: a stream of calls is one line.
        Assert.Equal([$"Information: Admin key root called /charrnn.v1.Generation/Generate on session {session.Id} of key alice (model gru) " +
                      "(more calls of this admin on this session within a minute are not logged)"], Log.With($"on session {session.Id} of key alice"));
        await keyed.AsAdmin.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = fork.Id });
        await keyed.AsAlice.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
    }
}
