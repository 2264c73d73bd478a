using System.Text;
using CharRnn.Engine.Text;
using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A session reads the "\r\n" of a prime or fed text (OpenSession, Generate's prime, Feed, Interact) as its model's corpus was
/// read (Corpus.WithLineEndingsAsLearned, as charrnn eval, neurons and generate do): "\n" for a model trained on a file with
/// Windows line endings, whose vocabulary has no '\r', so a prime pasted from a Windows client is not refused for a '\r' the
/// model never saw; as sent for a model whose vocabulary has '\r' (trained before line endings were made "\n").
/// </summary>
[Collection(ServerCollection.Name)]
public class PrimeLineEndingsTests(ServerFixture server)
{
    private async Task<Session> Open(string model, string prime) =>
        await server.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = model, Prime = prime, Sampling = new SamplingSettings { Seed = 1, Temperature = 0 } });

    private async Task<string> Generate(string id, string prime)
    {
        using var call = server.Generation.Generate(new GenerateRequest { SessionId = id, MaxChars = 20, Prime = prime });
        var text = new StringBuilder();
        await foreach (var piece in call.ResponseStream.ReadAllAsync()) text.Append(piece.Text);
        return text.ToString();
    }

    private async Task<(long Seen, string Predicted)> Interact(string id, string text)
    {
        using var call = server.Generation.Interact();
        await call.RequestStream.WriteAsync(new InteractRequest { SessionId = id, Text = text, PredictChars = 5 });
        var predicted = new StringBuilder();
        long seen = 0;
        do
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            predicted.Append(call.ResponseStream.Current.Text);
            seen = Math.Max(seen, call.ResponseStream.Current.CharactersSeen);
        } while (!call.ResponseStream.Current.Done);
        await call.RequestStream.CompleteAsync();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        return (seen, predicted.ToString());
    }

    [Fact]
    public async Task A_prime_or_text_with_windows_line_endings_feeds_as_the_models_corpus_was_read()
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the cat\r\nsat on\r\nthe mat.\r\n", 40)));
        server.TrainOn("crlf-read-as-lf", Corpus.FromBytes(bytes, "crlf", "crlf.txt")); // its corpus read with "\n": no '\r' in its vocabulary

        var windows = await Open("crlf-read-as-lf", "the cat\r\nsat on\r\n");
        var unix = await Open("crlf-read-as-lf", "the cat\nsat on\n");
        Assert.Equal(15, unix.CharactersSeen);
        Assert.Equal(15, windows.CharactersSeen);

        var fedWindows = await server.Generation.FeedAsync(new FeedRequest { SessionId = windows.Id, Text = "the mat.\r\nthe ", CharScores = true });
        var fedUnix = await server.Generation.FeedAsync(new FeedRequest { SessionId = unix.Id, Text = "the mat.\nthe ", CharScores = true });
        Assert.Equal(13, fedWindows.CharactersScored);
        Assert.Equal(fedUnix.Chars.Select(c => c.Character), fedWindows.Chars.Select(c => c.Character));
        Assert.Equal(fedUnix.Loss, fedWindows.Loss, 6);

        Assert.Equal(await Generate(unix.Id, "cat\nsat"), await Generate(windows.Id, "cat\r\nsat"));
        var interacted = await Interact(windows.Id, "\r\nthe");
        Assert.Equal(await Interact(unix.Id, "\nthe"), interacted);
        foreach (var id in new[] { windows.Id, unix.Id }) // prime, Feed, Generate's prime and its 20 chars, Interact's text
            Assert.Equal(15 + 13 + 7 + 20 + 4, (await server.Generation.GetSessionAsync(new GetSessionRequest { SessionId = id })).CharactersSeen);

        // A lone '\r' is no line ending: still a character the model never saw, refused naming it.
        var e = await Calls.Fails(() => server.Generation.FeedAsync(new FeedRequest { SessionId = unix.Id, Text = "the\rcat" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("carriage return (U+000D)", e.Status.Detail);
    }

    [Fact]
    public async Task A_model_whose_vocabulary_has_a_carriage_return_is_fed_a_primes_windows_line_endings_as_sent()
    {
        var text = string.Concat(Enumerable.Repeat("the cat\r\nsat on\r\nthe mat.\r\n", 40));
        server.TrainOn("crlf-learned", new Corpus("crlf", text, Corpus.HexSha256(Encoding.UTF8.GetBytes(text)))); // as an earlier build read it: '\r' and all
        var session = await Open("crlf-learned", "the cat\r\nsat");
        Assert.Equal(12, session.CharactersSeen);
        var fed = await server.Generation.FeedAsync(new FeedRequest { SessionId = session.Id, Text = " on\r\n", CharScores = true });
        Assert.Equal([" ", "o", "n", "\r", "\n"], fed.Chars.Select(c => c.Character));
    }
}
