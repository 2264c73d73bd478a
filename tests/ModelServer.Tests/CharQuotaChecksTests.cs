using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>The character quota over real calls: a Generate too large for the minute, and refused texts that take nothing.</summary>
public class CharQuotaChecksTests
{
    [Fact]
    public async Task A_generate_whose_max_chars_and_prime_together_exceed_the_minute_is_refused_as_invalid_naming_both()
    {
        using var server = new ServerFixture(o => o.Limits.MaxCharsPerMinutePerKey = 1000);
        var s = await server.Generation.Open("gru");
        var e = await Calls.Fails(async () =>
        {
            using var generate = server.Generation.Generate(new GenerateRequest { SessionId = s.Id, Prime = ServerFixture.TinyText[..400], MaxChars = 700 });
            while (await generate.ResponseStream.MoveNext(CancellationToken.None)) { }
        });
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("max_chars = 700 and a prime of 400 characters make 1,100", e.Status.Detail);
        Assert.EndsWith(", more than this server's callers may generate and feed in a minute together (1,000, limit max_chars_per_minute_per_key, " +
                        "shared by all its callers: it has no API keys); ask for fewer or prime with less.", e.Status.Detail);
        // Nothing was taken: the whole minute is left.
        await server.Generation.FeedAsync(new FeedRequest { SessionId = s.Id, Text = ServerFixture.TinyText[..1000] });
    }

    [Fact]
    public async Task A_text_refused_for_a_character_the_model_does_not_know_leaves_the_quota_untouched()
    {
        using var server = new ServerFixture(o => o.Limits.MaxCharsPerMinutePerKey = 1000);
        var s = await server.Generation.Open("gru");
        var text = ServerFixture.TinyText[..299] + "☃"; // 300 chars, the last one unknown
        for (var i = 0; i < 4; i++) // 1,200 characters refused: charged, they would exhaust the minute
        {
            var e = await Calls.Fails(async () =>
            {
                using var generate = server.Generation.Generate(new GenerateRequest { SessionId = s.Id, Prime = text, MaxChars = 10 });
                while (await generate.ResponseStream.MoveNext(CancellationToken.None)) { }
            });
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Equal(StatusCode.InvalidArgument, (await Calls.Fails(() => server.Generation.FeedAsync(new FeedRequest { SessionId = s.Id, Text = text }).ResponseAsync)).StatusCode);
            Assert.Equal(StatusCode.InvalidArgument, (await Calls.Fails(() => server.Generation.Open("gru", prime: text))).StatusCode);
        }
        await server.Generation.FeedAsync(new FeedRequest { SessionId = s.Id, Text = ServerFixture.TinyText[..1000] }); // the whole minute is left
    }

    [Fact]
    public async Task Under_skip_the_quota_counts_the_chars_fed_not_those_dropped()
    {
        using var server = new ServerFixture(o => o.Limits.MaxCharsPerMinutePerKey = 1000);
        var emoji = string.Concat(Enumerable.Repeat("😀", 300));
        // A prime of 300 known chars and 300 dropped, and a text of 300 and 300: 600 fed, 1,200 sent.
        var s = await server.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = "gru", UnknownChars = UnknownChars.Skip, Prime = ServerFixture.TinyText[..300] + emoji });
        Assert.Equal(300, s.CharactersSeen);
        var fed = await server.Generation.FeedAsync(new FeedRequest { SessionId = s.Id, Text = emoji + ServerFixture.TinyText[..300] });
        Assert.Equal((300, 300L), (fed.UnknownCharsSkipped, fed.CharactersScored));
        await server.Generation.FeedAsync(new FeedRequest { SessionId = s.Id, Text = ServerFixture.TinyText[..400] }); // 1,000 fed: the minute's all
        var e = await Calls.Fails(() => server.Generation.FeedAsync(new FeedRequest { SessionId = s.Id, Text = "t" }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
    }
}
