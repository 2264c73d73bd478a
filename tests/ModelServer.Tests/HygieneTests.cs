using CharRnn.Protos.V1;
using Grpc.Core;
using Grpc.Health.V1;
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

    [Theory]
    [InlineData("charrnn.v1.Catalog")]
    [InlineData("charrnn.v1.Training")]
    [InlineData("charrnn.v1.Generation")]
    [InlineData("grpc.health.v1.Health")]
    [InlineData("grpc.reflection.v1alpha.ServerReflection")]
    [InlineData("grpc.reflection.v1.ServerReflection")]
    public async Task Health_reports_each_hosted_service_serving_by_its_full_name(string service)
    {
        var response = await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest { Service = service });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Health_reports_a_service_the_server_does_not_host_not_found()
    {
        var e = await Calls.Fails(() => new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest { Service = "charrnn.v1.NoSuchService" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        // The message says what was asked and what is there, where the health library's own refusal has none.
        Assert.StartsWith("This server hosts no service 'charrnn.v1.NoSuchService'; health answers for \"\" (the whole server) and for each service", e.Status.Detail);
        Assert.Contains("charrnn.v1.Catalog, charrnn.v1.Training, charrnn.v1.Generation, grpc.health.v1.Health", e.Status.Detail);
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
        // Saying the size sent and the limits, not only the transport's "Received message exceeds the maximum configured message size".
        Assert.StartsWith($"The request's message is {request.CalculateSize():N0} bytes; this server takes training messages up to ", e.Status.Detail);
        Assert.Contains($"corpus_text up to {server.Options.Limits.MaxUploadBytes:N0} bytes, limit max_upload_bytes", e.Status.Detail);

        // Only training takes uploads: elsewhere (read before a key is checked) what the longest text needs.
        var feed = new FeedRequest { SessionId = "s-none", Text = new string('a', 4 * server.Options.Limits.MaxPrimeChars + (2 << 20)) };
        e = await Calls.Fails(() => server.Generation.FeedAsync(feed).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        // Over 1 MiB and the transport's 4 MiB default, under the upload limit: taken.
        var taken = new StartJobRequest { ModelName = "uploaded-checked", Architecture = "stateful-gru", CorpusText = string.Concat(Enumerable.Repeat(ServerFixture.Pattern, 200_000)) }; // 4.8 MB
        await server.Training.CheckJobAsync(taken);
        var upload = new StartJobRequest { ModelName = "uploaded", Architecture = "no-such-arch", CorpusText = string.Concat(Enumerable.Repeat(ServerFixture.Pattern, 100_000)) }; // 2.4 MB
        e = await Calls.Fails(() => server.Training.StartJobAsync(upload).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode); // read, then refused for what it asks
    }
}
