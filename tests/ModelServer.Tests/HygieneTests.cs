using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CharRnn.Protos.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;

namespace CharRnn.ModelServer.Tests;

[Collection(ServerCollection.Name)]
public class HygieneTests(ServerFixture server)
{
    [Fact]
    public async Task Health_reports_serving_once_the_device_loop_runs()
    {
        var health = new Health.HealthClient(server.Channel);
        var response = await health.CheckAsync(new HealthCheckRequest { Service = "" });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Reflection_lists_the_public_services()
    {
        var reflection = new ServerReflection.ServerReflectionClient(server.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("charrnn.v1.Catalog", services);
        Assert.Contains("charrnn.v1.Training", services);
        Assert.Contains("charrnn.v1.Generation", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    [Fact]
    public async Task A_message_larger_than_the_server_accepts_gets_resource_exhausted()
    {
        var request = new StartJobRequest
        {
            ModelName = "huge",
            Architecture = "stateful-gru",
            CorpusText = new string('a', (int)server.Options.Limits.MaxUploadBytes + (2 << 20)),
        };
        var e = await Calls.Fails(() => server.Training.StartJobAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
    }
}

/// <summary>The server as its own process (dotnet CharRnn.ModelServer.dll), on a free loopback port.</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new();

    public ServerProcess()
    {
        Root = Path.Combine(Path.GetTempPath(), "charrnn-process-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(Root, "corpora"));
        File.WriteAllText(Path.Combine(Root, "corpora", "tiny.txt"), ServerFixture.TinyText);
        Port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "CharRnn.ModelServer.dll"), $"--CharRnn:Listen=127.0.0.1:{Port}",
                $"--CharRnn:ModelsDirectory={Path.Combine(Root, "models")}", $"--CharRnn:CorporaDirectory={Path.Combine(Root, "corpora")}",
                "--CharRnn:Device=cpu", "--CharRnn:Threads=1",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Channel = GrpcChannel.ForAddress(Address);
        WaitUntilServing().GetAwaiter().GetResult();
    }

    public string Root { get; }
    public int Port { get; }
    public string Address => $"http://127.0.0.1:{Port}";
    public GrpcChannel Channel { get; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    private async Task WaitUntilServing()
    {
        var health = new Health.HealthClient(Channel);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var status = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                if (status.Status == HealthCheckResponse.Types.ServingStatus.Serving) return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(200);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        Channel.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>One real server process over a real socket: HTTP/2 without TLS, as clients in other languages see it.</summary>
public sealed class RealProcessTests : IClassFixture<ServerProcess>
{
    private readonly ServerProcess _server;

    public RealProcessTests(ServerProcess server) => _server = server;

    private async Task Train(string model)
    {
        var training = new Training.TrainingClient(_server.Channel);
        var request = new StartJobRequest { ModelName = model, Architecture = "stateful-rnn", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = 20, SampleChars = 0 } };
        request.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 16, ["bs"] = 8 });
        var events = await training.Train(request).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);
    }

    [Fact]
    public async Task The_server_process_trains_and_streams_over_loopback_and_honours_deadlines()
    {
        await Train("proc");
        var generation = new Generation.GenerationClient(_server.Channel);
        var session = await generation.Open("proc", seed: 4, prime: "the ");
        Assert.Equal(50, (await generation.Generate(session.Id, 50)).Length);

        var late = await Calls.Fails(async () =>
        {
            using var call = generation.Generate(new GenerateRequest { SessionId = session.Id, MaxChars = 100_000 }, deadline: DateTime.UtcNow.AddMilliseconds(300));
            await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
        });
        Assert.True(late.StatusCode == StatusCode.DeadlineExceeded, late.ToString());
        Assert.Contains("Device loop running", _server.Output);
    }

    /// <summary>examples/python, with stubs generated by Debian's protoc, against this process.</summary>
    [Fact]
    public async Task The_python_examples_train_and_stream_text()
    {
        var examples = Path.Combine(RepositoryRoot(), "examples", "python");
        var stubs = Path.Combine(_server.Root, "stubs");
        var (code, output) = await Run("bash", [Path.Combine(examples, "generate_stubs.sh"), stubs], examples, stubs);
        Assert.True(code == 0, "generate_stubs.sh failed (needs protobuf-compiler, protobuf-compiler-grpc, libprotobuf-dev; .ci/run installs them): " + output);

        (code, output) = await Run("/usr/bin/python3", ["train.py", "--server", $"127.0.0.1:{_server.Port}", "--model", "py", "--arch", "stateful-gru",
            "--corpus", "tiny", "--max-steps", "25", "--set", "n_hidden=16", "--set", "bs=8"], examples, stubs);
        Assert.True(code == 0, "train.py failed (needs python3-grpcio, python3-protobuf): " + output);
        Assert.Contains("started on cpu", output);
        Assert.Contains("finished: reached max_steps = 25", output);

        (code, output) = await Run("/usr/bin/python3", ["generate.py", "--server", $"127.0.0.1:{_server.Port}", "--model", "py", "--prime", "the c", "-n", "400", "--seed", "1"], examples, stubs);
        Assert.True(code == 0, "generate.py failed: " + output);
        Assert.StartsWith("the c", output);
        Assert.True(output.TrimEnd('\n').Length >= 405, output);

        (code, output) = await Run("/usr/bin/python3", ["generate.py", "--server", $"127.0.0.1:{_server.Port}", "--model", "no-such-model"], examples, stubs);
        Assert.Equal(1, code);
        Assert.Contains("NOT_FOUND", output);
    }

    private static async Task<(int Code, string Output)> Run(string file, string[] args, string directory, string pythonPath)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["PYTHONPATH"] = pythonPath;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CharRnn.sln"))) return dir.FullName;
        throw new InvalidOperationException("CharRnn.sln not found above " + AppContext.BaseDirectory);
    }
}
