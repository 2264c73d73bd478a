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

/// <summary>The server as its own process, over a real loopback socket (HTTP/2 without TLS).</summary>
public sealed class RealProcessTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "charrnn-process-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task The_server_process_serves_over_loopback()
    {
        var port = FreePort();
        var models = Path.Combine(_root, "models");
        Directory.CreateDirectory(Path.Combine(_root, "corpora"));
        File.WriteAllText(Path.Combine(_root, "corpora", "tiny.txt"), ServerFixture.TinyText);
        var dll = Path.Combine(AppContext.BaseDirectory, "CharRnn.ModelServer.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                dll, $"--CharRnn:Listen=127.0.0.1:{port}", $"--CharRnn:ModelsDirectory={models}",
                $"--CharRnn:CorporaDirectory={Path.Combine(_root, "corpora")}", "--CharRnn:Device=cpu", "--CharRnn:Threads=1",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
            var health = new Health.HealthClient(channel);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try
                {
                    var status = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                    if (status.Status == HealthCheckResponse.Types.ServingStatus.Serving) break;
                }
                catch (RpcException) when (DateTime.UtcNow < deadline && !process.HasExited)
                {
                    await Task.Delay(200);
                }
            }

            var training = new Training.TrainingClient(channel);
            var request = new StartJobRequest { ModelName = "proc", Architecture = "stateful-rnn", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = 20, SampleChars = 0 } };
            request.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 16, ["bs"] = 8 });
            var events = await training.Train(request).Events();
            Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);

            var generation = new Generation.GenerationClient(channel);
            var session = await generation.Open("proc", seed: 4, prime: "the ");
            Assert.Equal(50, (await generation.Generate(session.Id, 50)).Length);

            var late = await Calls.Fails(async () =>
            {
                using var call = generation.Generate(new GenerateRequest { SessionId = session.Id, MaxChars = 100_000 }, deadline: DateTime.UtcNow.AddMilliseconds(300));
                await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
            });
            Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        lock (output) Assert.Contains("Device loop running", output.ToString());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
