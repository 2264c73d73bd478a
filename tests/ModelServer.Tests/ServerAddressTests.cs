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
}
