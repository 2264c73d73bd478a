using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>A gzip request is held to the message limit by its size once decompressed, not by its (small) size on the wire.</summary>
[Collection(ServerCollection.Name)]
public class CompressedMessageLimitTests(ServerFixture server)
{
    [Fact]
    public async Task A_gzip_message_that_decompresses_past_the_limit_is_refused_naming_the_limit()
    {
        var limit = server.Options.Limits.MaxMessageBytes;
        // One repeated character: about 1,000 to 1 in gzip, so a few KB on the wire, just past the limit once decompressed.
        var bomb = new GetModelRequest { Name = new string('a', limit + 1) };
        var gzip = new Metadata { { "grpc-internal-encoding-request", "gzip" } }; // the client compresses this call's message
        var e = await Assert.ThrowsAsync<RpcException>(async () => await server.Catalog.GetModelAsync(bomb, gzip));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains($"decompresses to more than {limit:N0} bytes", e.Status.Detail);
        Assert.Contains("limit max_message_bytes", e.Status.Detail);
        // The same rich details as every other refusal of a message too large: a program branches on the reason.
        var details = e.GetRpcStatus();
        Assert.NotNull(details);
        Assert.Equal((8, "MESSAGE_TOO_LARGE"), (details.Code, details.GetDetail<Google.Rpc.ErrorInfo>()!.Reason));
        Assert.Equal(e.Status.Detail, details.Message);
        // And a request id, as every refusal before a service has (errors.md): read before any interceptor, it had none.
        var requestId = e.Trailers.GetValue("charrnn-request-id") ?? "";
        Assert.Matches("^[0-9a-f]{8}$", requestId);
        // The operator's line names it, as a refusal's (a client's fault), not as an error of the server's.
        Assert.Contains(server.Log.With($"(request {requestId};"), l => l.StartsWith("Warning: Refused /charrnn.v1.Catalog/GetModel from ", StringComparison.Ordinal));
        Assert.Empty(server.Log.With("Error when executing /charrnn.v1.Catalog/GetModel"));
    }

    [Fact]
    public async Task A_gzip_upload_message_that_decompresses_past_the_limit_says_to_split_the_text_into_more_data_messages()
    {
        var limit = server.Options.Limits.MaxMessageBytes;
        var gzip = new Metadata { { "grpc-internal-encoding-request", "gzip" } };
        using var call = server.Catalog.UploadCorpus(gzip);
        await call.RequestStream.WriteAsync(new UploadCorpusRequest { Header = new UploadCorpusHeader { Name = "gzip-split-me" } });
        var e = await Calls.Fails(async () =>
        {
            try // the refusal may end the call while this write goes out
            {
                await call.RequestStream.WriteAsync(new UploadCorpusRequest { Data = Google.Protobuf.ByteString.CopyFrom(new byte[limit + 1]) });
                await call.RequestStream.CompleteAsync();
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException) { }
            await call.ResponseAsync;
        });
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        // Smaller is not what an upload can send: its text goes in more pieces, as the uncompressed refusal says.
        Assert.Equal($"The request's message decompresses to more than {limit:N0} bytes; this server takes messages up to {limit:N0} bytes " +
                     "(limit max_message_bytes), compressed or not. Retrying it cannot succeed: UploadCorpus takes its text in pieces; " +
                     "split the text into more data messages, each at most 1 MiB.", e.Status.Detail);
        Assert.Equal("MESSAGE_TOO_LARGE", e.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason);
    }

    [Fact]
    public async Task A_gzip_message_within_the_limit_is_served()
    {
        var gzip = new Metadata { { "grpc-internal-encoding-request", "gzip" } };
        var model = await server.Catalog.GetModelAsync(new GetModelRequest { Name = "gru" }, gzip);
        Assert.Equal("gru", model.Summary.Name);
    }
}
