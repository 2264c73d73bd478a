using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A text over max_prime_chars is refused saying how the call that sent it takes it in pieces: a prime by Feed first,
/// a Feed text over several Feed calls, an Interact text over several messages of its stream (an Interact client that
/// was told to use Feed would leave its stream for a call it does not need).
/// </summary>
[Collection(ServerCollection.Name)]
public class TextLimitAdviceTests(ServerFixture server)
{
    private string TooLong => new('a', server.Options.Limits.MaxPrimeChars + 1);

    private string Refusal(string field) =>
        $"{field} has {server.Options.Limits.MaxPrimeChars + 1:N0} characters; this server feeds at most {server.Options.Limits.MaxPrimeChars:N0} per call (limit max_prime_chars). ";

    [Fact]
    public async Task Each_call_says_how_it_takes_a_text_over_max_prime_chars_in_pieces()
    {
        var prime = await Calls.Fails(() => server.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = "gru", Prime = TooLong }).ResponseAsync);
        Assert.Equal(Refusal("prime") + "Send it in pieces with Feed.", prime.Status.Detail);

        var session = await server.Generation.Open("gru");
        var feed = await Calls.Fails(() => server.Generation.FeedAsync(new FeedRequest { SessionId = session.Id, Text = TooLong }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, feed.StatusCode);
        Assert.Equal(Refusal("text") + "Send it in pieces, a Feed call each.", feed.Status.Detail);

        using var call = server.Generation.Interact();
        var interact = await Calls.Fails(async () =>
        {
            await call.RequestStream.WriteAsync(new InteractRequest { SessionId = session.Id, Text = TooLong });
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        });
        Assert.Equal(StatusCode.InvalidArgument, interact.StatusCode);
        Assert.Equal(Refusal("text") + "Send it in pieces, a message of this stream each (predict_chars 0 on all but the last).", interact.Status.Detail);
        await server.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
    }
}
