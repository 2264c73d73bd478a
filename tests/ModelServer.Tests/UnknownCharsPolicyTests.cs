using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A session's policy for characters its model cannot read (UnknownChars): refused whole, as before, or dropped
/// before feeding, the rest fed as if they were not there. The "gru" model knows only "the cat sat on the mat. ".
/// </summary>
[Collection(ServerCollection.Name)]
public class UnknownCharsPolicyTests(ServerFixture server)
{
    private Generation.GenerationClient Client => server.Generation;

    private async Task<Session> Open(UnknownChars policy, string prime = "", double temperature = 0) =>
        await Client.OpenSessionAsync(new OpenSessionRequest
        {
            ModelName = "gru", Prime = prime, UnknownChars = policy, Sampling = new SamplingSettings { Seed = 1, Temperature = temperature },
        });

    private async Task<Session> Info(string id) => await Client.GetSessionAsync(new GetSessionRequest { SessionId = id });

    private const string UnknownCharsHint = " Or let the session leave such characters out: unknown_chars = UNKNOWN_CHARS_SKIP (OpenSession, Configure).";

    [Fact]
    public async Task Refuse_and_unset_refuse_an_emoji_as_before_and_feed_nothing()
    {
        foreach (var policy in new[] { UnknownChars.Unspecified, UnknownChars.Refuse })
        {
            var s = await Open(policy, prime: "the ");
            Assert.Equal(UnknownChars.Refuse, s.UnknownChars); // the effective policy, never unspecified
            var e = await Calls.Fails(() => Client.FeedAsync(new FeedRequest { SessionId = s.Id, Text = "the 😀cat" }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.StartsWith("text: ", e.Status.Detail);
            Assert.Contains("U+1F600", e.Status.Detail);
            Assert.EndsWith(UnknownCharsHint, e.Status.Detail); // the way out, for a client that never heard of the policy
            Assert.Equal(4, (await Info(s.Id)).CharactersSeen);
            var prime = await Calls.Fails(() => Open(policy, prime: "the 😀"));
            Assert.StartsWith("prime: ", prime.Status.Detail);
            Assert.EndsWith(UnknownCharsHint, prime.Status.Detail);
        }
    }

    [Fact]
    public async Task Skip_feeds_the_text_without_the_unknown_chars_leaving_the_state_of_the_cleaned_text()
    {
        var skipping = await Open(UnknownChars.Skip);
        Assert.Equal(UnknownChars.Skip, skipping.UnknownChars);
        var plain = await Open(UnknownChars.Refuse);
        var fed = await Client.FeedAsync(new FeedRequest { SessionId = skipping.Id, Text = "the 😀cat “sat” on Zthe\0 ", TopAlternatives = 3 });
        var clean = await Client.FeedAsync(new FeedRequest { SessionId = plain.Id, Text = "the cat sat on the ", TopAlternatives = 3 });

        Assert.Equal(5, fed.UnknownCharsSkipped); // 😀, the curly quotes, Z and the padding NUL
        Assert.Equal(new[] { ("😀", 1), ("“", 1), ("”", 1), ("Z", 1), ("\0", 1) }, fed.SkippedChars.Select(c => (c.Character, c.Count))); // named, in order
        Assert.Equal(0, clean.UnknownCharsSkipped);
        Assert.Empty(clean.SkippedChars);
        Assert.Equal(19, fed.CharactersScored);
        Assert.Equal(19, fed.CharactersSeen);
        Assert.Equal(19, (await Info(skipping.Id)).CharactersSeen);
        Assert.Equal(clean.Loss, fed.Loss, 6);
        Assert.Equal(clean.Accuracy, fed.Accuracy, 6);
        Assert.Equal(clean.Next.Select(a => a.Text), fed.Next.Select(a => a.Text));
        Assert.Equal(clean.Next.Select(a => a.Probability), fed.Next.Select(a => a.Probability));
        Assert.Equal(await Client.Generate(plain.Id, 30), await Client.Generate(skipping.Id, 30)); // greedy: the same state
    }

    [Fact]
    public async Task Under_skip_a_text_of_unknown_chars_alone_feeds_nothing_and_is_no_error()
    {
        var s = await Open(UnknownChars.Skip, prime: "the c");
        var fed = await Client.FeedAsync(new FeedRequest { SessionId = s.Id, Text = "😀ZZ" });
        Assert.Equal((3, 0L, 5L, 0.0), (fed.UnknownCharsSkipped, fed.CharactersScored, fed.CharactersSeen, fed.Loss));
    }

    [Fact]
    public async Task Skip_keeps_the_capitals_a_lowercase_model_reads_as_lowercase()
    {
        server.TrainOn("lower-skip", ServerFixture.TinyCorpus(), lowercase: true);
        var s = await Client.OpenSessionAsync(new OpenSessionRequest { ModelName = "lower-skip", UnknownChars = UnknownChars.Skip });
        var fed = await Client.FeedAsync(new FeedRequest { SessionId = s.Id, Text = "THE 😀Cat" });
        Assert.Equal((1, 7L), (fed.UnknownCharsSkipped, fed.CharactersScored));
    }

    [Fact]
    public async Task Char_scores_are_of_the_chars_fed_lowercased_and_without_those_skip_dropped()
    {
        server.TrainOn("lower-skip-chars", ServerFixture.TinyCorpus(), lowercase: true);
        var s = await Client.OpenSessionAsync(new OpenSessionRequest { ModelName = "lower-skip-chars", UnknownChars = UnknownChars.Skip });
        var fed = await Client.FeedAsync(new FeedRequest { SessionId = s.Id, Text = "THE 😀Cat", CharScores = true });
        Assert.Equal(["t", "h", "e", " ", "c", "a", "t"], fed.Chars.Select(c => c.Character));
        Assert.Equal(fed.Loss, fed.Chars.Average(c => c.Loss), 5);

        var none = await Client.FeedAsync(new FeedRequest { SessionId = s.Id, Text = "😀", CharScores = true });
        Assert.Equal((1, 0L), (none.UnknownCharsSkipped, none.CharactersScored));
        Assert.Empty(none.Chars);
    }

    [Fact]
    public async Task Interact_char_scores_are_of_the_chars_fed_lowercased_and_without_those_skip_dropped()
    {
        server.TrainOn("lower-skip-interact", ServerFixture.TinyCorpus(), lowercase: true);
        var s = await Client.OpenSessionAsync(new OpenSessionRequest { ModelName = "lower-skip-interact", UnknownChars = UnknownChars.Skip, Sampling = new SamplingSettings { Temperature = 0 } });
        using var call = Client.Interact();
        await call.RequestStream.WriteAsync(new InteractRequest { SessionId = s.Id, Text = "THE 😀Cat", PredictChars = 2, CharScores = true });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var first = call.ResponseStream.Current;
        await call.RequestStream.CompleteAsync();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }

        Assert.Equal(["t", "h", "e", " ", "c", "a", "t"], first.TypedScores.Select(c => c.Character));
        Assert.Equal(1, first.UnknownCharsSkipped);
        var check = await Client.OpenSessionAsync(new OpenSessionRequest { ModelName = "lower-skip-interact", UnknownChars = UnknownChars.Skip });
        var fed = await Client.FeedAsync(new FeedRequest { SessionId = check.Id, Text = "THE 😀Cat", CharScores = true });
        Assert.Equal(fed.Chars.Count, first.TypedScores.Count);
        for (var i = 0; i < fed.Chars.Count; i++) Assert.Equal(fed.Chars[i].Loss, first.TypedScores[i].Loss, 4); // from a new session's state, as the stream's first text
    }

    [Fact]
    public async Task Configure_switches_the_policy_only_when_it_is_set_and_refuses_a_value_it_does_not_know()
    {
        var s = await Open(UnknownChars.Refuse);
        var configured = await Client.ConfigureAsync(new ConfigureRequest { SessionId = s.Id, UnknownChars = UnknownChars.Skip });
        Assert.Equal(UnknownChars.Skip, configured.UnknownChars);
        Assert.Equal(1, (await Client.FeedAsync(new FeedRequest { SessionId = s.Id, Text = "the 😀" })).UnknownCharsSkipped);
        var sampling = await Client.ConfigureAsync(new ConfigureRequest { SessionId = s.Id, Sampling = new SamplingSettings { Temperature = 0.5 } });
        Assert.Equal(UnknownChars.Skip, sampling.UnknownChars); // unset: kept
        Assert.Equal(UnknownChars.Skip, (await Info(s.Id)).UnknownChars);

        var bad = await Calls.Fails(() => Client.ConfigureAsync(new ConfigureRequest { SessionId = s.Id, UnknownChars = (UnknownChars)7 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Equal("unknown_chars = 7 is not allowed; use UNKNOWN_CHARS_REFUSE (1) or UNKNOWN_CHARS_SKIP (2) (0, unset: refuse).", bad.Status.Detail);
        Assert.Equal(UnknownChars.Skip, (await Info(s.Id)).UnknownChars);
        var badOpen = await Calls.Fails(() => Client.OpenSessionAsync(new OpenSessionRequest { ModelName = "gru", UnknownChars = (UnknownChars)3 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badOpen.StatusCode);

        Assert.Equal(UnknownChars.Refuse, (await Client.ConfigureAsync(new ConfigureRequest { SessionId = s.Id, UnknownChars = UnknownChars.Unspecified })).UnknownChars);
        Assert.Equal(StatusCode.InvalidArgument, (await Calls.Fails(() => Client.FeedAsync(new FeedRequest { SessionId = s.Id, Text = "the 😀" }).ResponseAsync)).StatusCode);
    }

    [Fact]
    public async Task A_fork_keeps_the_policy_and_a_reset_keeps_it_too()
    {
        var s = await Open(UnknownChars.Skip, prime: "the ");
        var fork = await Client.ForkAsync(new ForkRequest { SessionId = s.Id });
        Assert.Equal(UnknownChars.Skip, fork.UnknownChars);
        Assert.Equal(1, (await Client.FeedAsync(new FeedRequest { SessionId = fork.Id, Text = "c😀at" })).UnknownCharsSkipped);
        Assert.Equal(UnknownChars.Skip, (await Client.ResetAsync(new ResetRequest { SessionId = s.Id })).UnknownChars);
        var refusing = await Client.ForkAsync(new ForkRequest { SessionId = (await Open(UnknownChars.Refuse)).Id });
        Assert.Equal(UnknownChars.Refuse, refusing.UnknownChars);
    }

    [Fact]
    public async Task Primes_under_skip_are_fed_without_their_unknown_chars_and_open_and_generate_say_which()
    {
        var opened = await Open(UnknownChars.Skip, prime: "the 😀cat 😀✓");
        Assert.Equal(8, opened.CharactersSeen);
        // OpenSession tells what it dropped from its prime, as Generate does: the count, and each char once with its count.
        Assert.Equal(3, opened.PrimeUnknownCharsSkipped);
        Assert.Equal(new[] { ("😀", 2), ("✓", 1) }, opened.PrimeSkippedChars.Select(c => (c.Character, c.Count)));
        var plain = await Open(UnknownChars.Refuse, prime: "the cat ");
        Assert.Equal((0, 0), (plain.PrimeUnknownCharsSkipped, plain.PrimeSkippedChars.Count));
        var got = await Client.GetSessionAsync(new GetSessionRequest { SessionId = opened.Id }); // OpenSession's answer only
        Assert.Equal((0, 0), (got.PrimeUnknownCharsSkipped, got.PrimeSkippedChars.Count));

        using var call = Client.Generate(new GenerateRequest { SessionId = opened.Id, Prime = "s✓at ✓on", MaxChars = 12 });
        var messages = new List<GenerateResponse>();
        await foreach (var m in call.ResponseStream.ReadAllAsync()) messages.Add(m);
        Assert.Equal(2, messages[0].PrimeUnknownCharsSkipped);
        Assert.Equal(new[] { ("✓", 2) }, messages[0].PrimeSkippedChars.Select(c => (c.Character, c.Count)));
        Assert.All(messages.Skip(1), m => Assert.Equal((0, 0), (m.PrimeUnknownCharsSkipped, m.PrimeSkippedChars.Count)));
        Assert.Equal(8 + 6 + 12, messages[^1].CharactersSeen);

        using var expected = Client.Generate(new GenerateRequest { SessionId = plain.Id, Prime = "sat on", MaxChars = 12 });
        var text = new System.Text.StringBuilder();
        await foreach (var m in expected.ResponseStream.ReadAllAsync()) { text.Append(m.Text); Assert.Equal(0, m.PrimeUnknownCharsSkipped); }
        Assert.Equal(text.ToString(), string.Concat(messages.Select(m => m.Text)));
    }

    [Fact]
    public async Task Interact_under_skip_feeds_the_typed_text_without_an_emoji_and_says_so_on_the_prediction()
    {
        var s = await Open(UnknownChars.Skip);
        using var call = Client.Interact();
        await call.RequestStream.WriteAsync(new InteractRequest { SessionId = s.Id, Text = "the 😀c", PredictChars = 4 });
        var first = new List<InteractResponse>();
        while (first.Count == 0 || !first[^1].Done)
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            first.Add(call.ResponseStream.Current);
        }
        await call.RequestStream.CompleteAsync();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        Assert.Equal(1, first[0].UnknownCharsSkipped);
        Assert.All(first.Skip(1), m => Assert.Equal(0, m.UnknownCharsSkipped));
        Assert.Equal(5, (await Info(s.Id)).CharactersSeen);
        var check = await Open(UnknownChars.Refuse, prime: "the c");
        Assert.Equal(await Client.Generate(check.Id, 4), string.Concat(first.Select(m => m.Text)));
    }

    /// <summary>Reads an Interact call's messages to the end of one prediction.</summary>
    private static async Task<List<InteractResponse>> Prediction(AsyncDuplexStreamingCall<InteractRequest, InteractResponse> call)
    {
        var messages = new List<InteractResponse>();
        while (messages.Count == 0 || !messages[^1].Done)
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            messages.Add(call.ResponseStream.Current);
        }
        return messages;
    }

    [Fact]
    public async Task Interact_tells_the_chars_a_request_without_a_prediction_skipped_on_the_next_prediction_naming_them()
    {
        var s = await Open(UnknownChars.Skip);
        using var call = Client.Interact();
        await call.RequestStream.WriteAsync(new InteractRequest { SessionId = s.Id, Text = "the 😀☃", PredictChars = 0 }); // no message of its own
        await call.RequestStream.WriteAsync(new InteractRequest { Text = "c😀", PredictChars = 3 });
        var first = await Prediction(call);
        Assert.Equal(1, first[0].RequestIndex);
        Assert.Equal(3, first[0].UnknownCharsSkipped);
        Assert.Equal(new[] { ("😀", 2), ("☃", 1) }, first[0].SkippedChars.Select(c => (c.Character, c.Count)));
        Assert.All(first.Skip(1), m => Assert.Equal((0, 0), (m.UnknownCharsSkipped, m.SkippedChars.Count)));

        // A reset drops what the text before it skipped: that text is gone, and a client sends it again.
        await call.RequestStream.WriteAsync(new InteractRequest { Text = "é", PredictChars = 0 });
        await call.RequestStream.WriteAsync(new InteractRequest { Text = "the ☃c", Reset = true, PredictChars = 2 });
        var again = await Prediction(call);
        Assert.Equal(3, again[0].RequestIndex);
        Assert.Equal(1, again[0].UnknownCharsSkipped);
        Assert.Equal(new[] { ("☃", 1) }, again[0].SkippedChars.Select(c => (c.Character, c.Count)));
        await call.RequestStream.CompleteAsync();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        Assert.Equal(5, (await Info(s.Id)).CharactersSeen);
    }
}
