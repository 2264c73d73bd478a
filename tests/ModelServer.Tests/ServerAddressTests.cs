using Grpc.Health.V1;
using Grpc.Net.Client;

namespace CharRnn.ModelServer.Tests;

public class ServerAddressTests
{
    [Fact]
    public async Task With_a_metrics_endpoint_the_address_reported_is_the_grpc_one()
    {
        var metricsPort = ServerProcess.FreePort();
        var options = new Hosting.ServerOptions
        {
            Listen = "127.0.0.1:0",
            MetricsListen = $"127.0.0.1:{metricsPort}",
            ModelsDirectory = Path.Combine(Path.GetTempPath(), "charrnn-address-" + Guid.NewGuid().ToString("N")[..8]),
            Device = "cpu",
            Threads = 1,
        };
        var app = Hosting.ServerHost.Build([], options, _ => { });
        try
        {
            var address = await Hosting.ServerHost.StartAsync(app);
            Assert.NotEqual(metricsPort, address.Port);
            using var channel = GrpcChannel.ForAddress(address);
            var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(options.ModelsDirectory, true);
        }
    }

    [Fact]
    public async Task A_metrics_address_equal_to_the_grpc_one_is_refused_saying_both_flags_name_it()
    {
        var port = ServerProcess.FreePort();
        var options = new Hosting.ServerOptions
        {
            Listen = $"127.0.0.1:{port}",
            MetricsListen = $"127.0.0.1:{port}",
            ModelsDirectory = Path.Combine(Path.GetTempPath(), "charrnn-address-" + Guid.NewGuid().ToString("N")[..8]),
            Device = "cpu",
            Threads = 1,
        };
        // Refused before anything binds (the options are read as the host is built), and at the latest when it starts.
        var e = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = Hosting.ServerHost.Build([], options, _ => { });
            await Hosting.ServerHost.StartAsync(app);
        });
        Assert.IsType<ArgumentException>(e); // the settings' fault, not "another process may hold the port"
        Assert.Equal($"--listen '127.0.0.1:{port}' and --metrics-listen '127.0.0.1:{port}' both name port {port} on 127.0.0.1: the gRPC and the metrics " +
                     "endpoints need different addresses. Give --metrics-listen another port, e.g. 127.0.0.1:9464.", e.Message);
        if (Directory.Exists(options.ModelsDirectory)) Directory.Delete(options.ModelsDirectory, true);
    }
}
