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
        Assert.Equal("MALFORMED_MESSAGE", e.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason); // refused before any service: details all the same
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
        Assert.Equal("MALFORMED_MESSAGE", e.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason);
    }

    [Fact]
    public async Task The_refusals_grpc_message_header_escapes_only_what_the_grpc_spec_requires()
    {
        using var http = server.RawHttp();
        var request = new HttpRequestMessage(HttpMethod.Post, "/charrnn.v1.Catalog/GetModel")
        {
            Version = System.Net.HttpVersion.Version20,
            Content = new ByteArrayContent([0, 0, 0, 0, (byte)Truncated.Length, .. Truncated]), // one uncompressed gRPC frame
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.ParseAdd("trailers");
        using var response = await http.SendAsync(request);
        var raw = response.Headers.GetValues("grpc-message").Single();
        // grpc-js decodes it with decodeURI, which would leave "%3A" "%2F" "%3B" and "%20" for the user to read.
        Assert.Equal("The request could not be parsed as charrnn.v1.GetModelRequest (the request message of /charrnn.v1.Catalog/GetModel): its bytes " +
                     "are not a valid protobuf encoding of it. Check that the client was built from this server's protos (charrnn/v1); retrying it cannot succeed.", raw);
    }
}
