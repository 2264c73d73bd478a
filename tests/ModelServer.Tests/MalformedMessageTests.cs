using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>A request whose bytes are not the method's request message is INVALID_ARGUMENT naming that message, not UNKNOWN.</summary>
[Collection(ServerCollection.Name)]
public class MalformedMessageTests(ServerFixture server)
{
    /// <summary>Field 1 (a string) declared 5 bytes long with only 1 after it: a truncated message no parser accepts.</summary>
    private static readonly byte[] Truncated = [0x0A, 0x05, 0x61];

    private static Method<byte[], byte[]> Raw(MethodType type, string service, string name) =>
        new(type, service, name, Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));

    [Fact]
    public async Task A_unary_request_that_does_not_parse_is_refused_as_invalid_naming_its_request_message()
    {
        var invoker = server.Channel.CreateCallInvoker();
        var e = await Calls.Fails(() => invoker.AsyncUnaryCall(Raw(MethodType.Unary, "charrnn.v1.Catalog", "GetModel"), null, new CallOptions(), Truncated).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("The request could not be parsed as charrnn.v1.GetModelRequest (the request message of /charrnn.v1.Catalog/GetModel)", e.Status.Detail);
    }

    [Fact]
    public async Task A_streamed_request_that_does_not_parse_is_refused_as_invalid_naming_its_request_message()
    {
        var invoker = server.Channel.CreateCallInvoker();
        using var call = invoker.AsyncDuplexStreamingCall(Raw(MethodType.DuplexStreaming, "charrnn.v1.Generation", "Interact"), null, new CallOptions());
        var e = await Calls.Fails(async () =>
        {
            await call.RequestStream.WriteAsync(Truncated);
            await call.RequestStream.CompleteAsync();
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        });
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("The request could not be parsed as charrnn.v1.InteractRequest (the request message of /charrnn.v1.Generation/Interact)", e.Status.Detail);
    }
}
