using CharRnn.ModelServer.MessageLimits;
using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>An Interact's later message over the limit is refused in the same words as its first (OversizedMessageRefusal).</summary>
[Collection(ServerCollection.Name)]
public class LaterMessageLimitTests(ServerFixture server)
{
    [Fact]
    public async Task An_interacts_later_message_over_the_limit_is_refused_saying_its_size_the_limit_and_that_a_retry_cannot_help()
    {
        var limit = server.Options.Limits.MaxMessageBytes;
        var session = await server.Generation.Open("gru");
        using var call = server.Generation.Interact();
        await call.RequestStream.WriteAsync(new InteractRequest { SessionId = session.Id, Text = "the c", PredictChars = 0 });
        var oversized = new InteractRequest { Text = new string('a', limit + 1) };
        var e = await Calls.Fails(async () =>
        {
            // The server may refuse and end the call while this write is still going out: the write then fails on its own
            // (CANCELLED, a reset stream), and the call's status is read from the response, as a client would.
            try
            {
                await call.RequestStream.WriteAsync(oversized);
                await call.RequestStream.CompleteAsync();
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException) { }
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        });
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal($"The request's message is {oversized.CalculateSize():N0} bytes; this server takes messages up to {limit:N0} bytes (limit max_message_bytes: " +
                     $"texts of max_prime_chars = {server.Options.Limits.MaxPrimeChars:N0} characters, and 1 MiB for the rest). Retrying it cannot succeed; send a smaller message.",
                     e.Status.Detail);
    }

    [Fact]
    public async Task An_uploads_data_message_over_the_limit_is_refused_saying_to_split_the_text_into_more_data_messages()
    {
        var limit = server.Options.Limits.MaxMessageBytes;
        using var call = server.Catalog.UploadCorpus();
        await call.RequestStream.WriteAsync(new UploadCorpusRequest { Header = new UploadCorpusHeader { Name = "split-me" } });
        var oversized = new UploadCorpusRequest { Data = Google.Protobuf.ByteString.CopyFrom(new byte[limit + 1]) };
        var e = await Calls.Fails(async () =>
        {
            try // as for Interact above: the refusal may end the call while this write goes out
            {
                await call.RequestStream.WriteAsync(oversized);
                await call.RequestStream.CompleteAsync();
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException) { }
            await call.ResponseAsync;
        });
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal($"The request's message is {oversized.CalculateSize():N0} bytes; this server takes messages up to {limit:N0} bytes (limit max_message_bytes). " +
                     "Retrying it cannot succeed: UploadCorpus takes its text in pieces; split the text into more data messages, each at most 1 MiB.", e.Status.Detail);
        Assert.DoesNotContain((await server.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora, c => c.Name == "split-me");
    }
}
