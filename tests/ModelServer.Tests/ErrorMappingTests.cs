using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Metrics;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

/// <summary>What charrnn_grpc_errors_total counts of the errors calls end with.</summary>
[Collection(ServerCollection.Name)]
public class ErrorMappingTests(ServerFixture server)
{
    [Fact]
    public async Task An_error_a_call_meets_after_its_client_left_is_not_counted()
    {
        // A client's ordinary way to stop: cancel its Generate, then close the session at once. The Generate,
        // its client gone, may then find its session closed (NOT_FOUND): no failure of the server to alert on.
        var interceptor = ActivatorUtilities.CreateInstance<ErrorMappingInterceptor>(server.Services);
        var notFound = ServerMetrics.Errors.WithLabels(StatusCode.NotFound.ToString(), "");
        var before = notFound.Value;
        Task<string> SessionClosed(string request, ServerCallContext context) => throw ServerException.NotFound("Session 'x' was closed.");
        using var left = new CancellationTokenSource();
        await left.CancelAsync();

        var e = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler("", new BareCallContext("/charrnn.v1.Generation/Generate", left.Token), SessionClosed));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal(0, notFound.Value - before);

        await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler("", new BareCallContext("/charrnn.v1.Generation/Generate"), SessionClosed));
        Assert.Equal(1, notFound.Value - before); // its client still there: an error
    }
}
