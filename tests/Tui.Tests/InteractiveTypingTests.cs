using Grpc.Core;
using CharRnn.Protos.V1;

namespace CharRnn.Tui.Tests;

/// <summary>InteractiveTyping, the Type tab's view-model, against the embedded server.</summary>
[Collection(TuiCollection.Name)]
public sealed class InteractiveTypingTests(TuiFixture fixture)
{
    [Fact]
    public async Task Typing_on_after_the_session_is_lost_starts_a_new_one_with_the_text_so_far()
    {
        await using var typing = new ViewModels.InteractiveTyping(fixture.Client) { PredictChars = 5 };
        typing.Type("gru", "the c");
        await WaitFor(typing, () => typing.Prediction.Length == 5, "the first prediction");
        var lost = typing.SessionId!;
        await fixture.Client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = lost }); // as a server restart would
        typing.Type("gru", "a");
        await WaitFor(typing, () => typing.Error != null, "the stream to report the lost session");
        Assert.EndsWith("type on to reconnect", typing.Error);
        typing.Type("gru", "t");
        await WaitFor(typing, () => typing.SessionId != lost && typing.Prediction.Length == 5, "a prediction from a new session");
        var info = await fixture.Client.Generation.GetSessionAsync(new GetSessionRequest { SessionId = typing.SessionId! });
        Assert.Equal("the cat".Length, info.CharactersSeen); // everything typed, retyped into the new session
    }

    [Fact]
    public async Task A_keystroke_not_yet_sent_hides_the_prediction_made_for_the_text_before_it()
    {
        await using var typing = new ViewModels.InteractiveTyping(fixture.Client) { PredictChars = 5 };
        typing.Type("gru", "the c");
        await WaitFor(typing, () => typing.Prediction.Length == 5, "the first prediction");
        typing.Type("gru", "a"); // Tab pressed now must not append what was predicted after "the c"
        Assert.Equal("", typing.Prediction);
        await WaitFor(typing, () => typing.Prediction.Length == 5, "the prediction after \"the ca\"");
    }

    [Fact]
    public async Task A_char_the_model_cannot_read_is_left_out_and_predictions_go_on()
    {
        await using var typing = new ViewModels.InteractiveTyping(fixture.Client) { PredictChars = 5 };
        typing.Type("gru", "the c");
        await WaitFor(typing, () => typing.Prediction.Length == 5, "the first prediction");
        var session = typing.SessionId;
        typing.Type("gru", "@a");
        await WaitFor(typing, () => typing.Error != null && typing.Prediction.Length == 5, "a prediction, and a word on '@'");
        Assert.Equal("gru never saw '@' (U+0040): left out of what it reads; type on", typing.Error); // the server would refuse the text, and every retype
        typing.Type("gru", "t");
        await WaitFor(typing, () => typing.Error == null && typing.Prediction.Length == 5, "predictions going on");
        Assert.Equal(session, typing.SessionId); // the same stream all along
        var info = await fixture.Client.Generation.GetSessionAsync(new GetSessionRequest { SessionId = session! });
        Assert.Equal("the cat".Length, info.CharactersSeen);
    }

    [Fact]
    public async Task The_typing_session_skips_what_its_model_cannot_read_so_a_char_let_through_does_not_end_the_stream()
    {
        await using var typing = new ViewModels.InteractiveTyping(fixture.Client) { PredictChars = 5 };
        typing.Type("gru", "the c");
        await WaitFor(typing, () => typing.Prediction.Length == 5, "the first prediction");
        var info = await fixture.Client.Generation.GetSessionAsync(new GetSessionRequest { SessionId = typing.SessionId! });
        Assert.Equal(UnknownChars.Skip, info.UnknownChars);
        // What the view-model's own filter would let through (a vocabulary read before the model changed) is dropped by the server.
        var fed = await fixture.Client.Generation.FeedAsync(new FeedRequest { SessionId = typing.SessionId!, Text = "😀" });
        Assert.Equal((1, 5L), (fed.UnknownCharsSkipped, fed.CharactersSeen));
    }

    [Fact]
    public async Task A_failed_start_leaves_no_prediction_of_the_session_before_it()
    {
        await using var typing = new ViewModels.InteractiveTyping(fixture.Client) { PredictChars = 5 };
        typing.Type("gru", "the c");
        await WaitFor(typing, () => typing.Prediction.Length == 5, "the first prediction");
        typing.Type("no-such-model", "a"); // another model: a new session, which cannot open
        await WaitFor(typing, () => typing.Error != null, "the failed start");
        Assert.Equal("", typing.Prediction); // Tab would have inserted the old one
        Assert.Matches(@"no-such-model.*\(request [0-9a-f]{8}\)", typing.Error); // the server's request id, as the REPL ends its errors
    }

    [Fact]
    public async Task Backspace_after_more_than_a_server_takes_in_one_text_still_retypes()
    {
        await using var typing = new ViewModels.InteractiveTyping(fixture.Client) { PredictChars = 5 };
        var text = string.Concat(Enumerable.Repeat(TuiFixture.Pattern, 22_000 / TuiFixture.Pattern.Length)); // past max_prime_chars (20,000)
        foreach (var piece in text.Chunk(1000)) typing.Type("gru", new string(piece));
        await WaitFor(typing, () => typing.Prediction.Length == 5, "a prediction after it all");
        typing.Retype("gru", text[..^1]); // Backspace
        long seen = 0;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); typing.Error == null && seen != ViewModels.InteractiveTyping.RetypeChars && clock.Elapsed < TimeSpan.FromSeconds(20); await Task.Delay(20))
            seen = (await fixture.Client.Generation.GetSessionAsync(new GetSessionRequest { SessionId = typing.SessionId! })).CharactersSeen;
        Assert.Null(typing.Error); // the server took it
        Assert.Equal(ViewModels.InteractiveTyping.RetypeChars, seen); // the text's end, which sets the model's state
        await WaitFor(typing, () => typing.Prediction.Length == 5, "a prediction after the retype");
    }

    [Fact]
    public async Task A_write_the_server_ended_the_call_during_shows_the_calls_status_not_the_writes_cancelled()
    {
        var refusal = new RpcException(new Status(StatusCode.ResourceExhausted, "The request's message is 2,000,001 bytes; this server takes messages up to 2,000,000 bytes."),
            new Metadata { { Client.ErrorText.RequestIdTrailer, "0123abcd" } });
        ViewModels.InteractiveTyping? typing = null;
        var server = new CallEndedDuringWriteInvoker(refusal, () => typing?.Error != null);
        using var client = new Client.CharRnnClient(server, new Uri("http://127.0.0.1:1"));
        typing = new ViewModels.InteractiveTyping(client);
        typing.Type("gru", "the c");
        await WaitFor(typing, () => typing.Error != null, "the call's status");
        await typing.DisposeAsync(); // the pump has handled the keystroke, its failed write included
        Assert.Equal("The request's message is 2,000,001 bytes; this server takes messages up to 2,000,000 bytes (request 0123abcd); type on to reconnect", typing.Error);
    }

    [Fact]
    public async Task Typed_chars_get_the_servers_scores_and_keep_them_aligned_across_backspace_and_tab_accept()
    {
        await using var typing = new ViewModels.InteractiveTyping(fixture.Client) { PredictChars = 5 };
        typing.Retype("gru", "the c"); // the view's first keystroke: a session from a reset state
        await WaitFor(typing, () => Scored(typing, "the c"), "the first text's scores");
        await AssertScoresAreFeeds(typing, "the c");

        typing.Type("gru", "@a"); // '@' is left out of what the model reads: it has no score, the chars around it do
        await WaitFor(typing, () => typing.LossesFor("the c@a")[6] != null, "the scores after '@'");
        var losses = typing.LossesFor("the c@a");
        Assert.Null(losses[5]);
        AssertClose(await FeedLosses("the ca"), [.. losses.Where(l => l != null).Select(l => l!.Value)]);

        typing.Retype("gru", "the"); // Backspace: the chars kept keep their scores at once (the same text after a reset scores the same)
        Assert.Equal(3, typing.LossesFor("the").Count(l => l != null));
        typing.Type("gru", " m");
        Assert.Null(typing.LossesFor("the m")[4]); // not scored yet: drawn plain, not with the deleted 'c''s score
        await WaitFor(typing, () => Scored(typing, "the m"), "the retyped line's scores");
        await AssertScoresAreFeeds(typing, "the m");

        await WaitFor(typing, () => typing.Prediction.Length == 5, "a prediction");
        var accepted = "the m" + typing.Prediction;
        typing.Type("gru", typing.Prediction); // Tab
        await WaitFor(typing, () => Scored(typing, accepted), "the accepted prediction's scores");
        await AssertScoresAreFeeds(typing, accepted);
        Assert.Null(typing.LossesFor(accepted + "x")[^1]); // a char the view shows but has not queued
    }

    [Fact]
    public async Task Chars_typed_faster_than_predictions_are_sent_get_their_scores_in_line_with_the_text()
    {
        // Key repeat: a request a char, each long prediction made stale by the next, most before their first message,
        // so one message brings the scores of several requests.
        await using var typing = new ViewModels.InteractiveTyping(fixture.Client) { PredictChars = 200 };
        const string text = "the cat sat on the mat. the cat";
        typing.Retype("gru", text[..1]);
        foreach (var c in text[1..]) typing.Type("gru", c.ToString());
        await WaitFor(typing, () => Scored(typing, text), "every typed char's score");
        await AssertScoresAreFeeds(typing, text);
    }

    [Fact]
    public async Task Late_replies_from_the_model_typed_with_before_are_not_shown_for_the_model_now_in_use()
    {
        var server = new HandRepliedInteractInvoker();
        using var client = new Client.CharRnnClient(server, new Uri("http://127.0.0.1:1"));
        await using var typing = new ViewModels.InteractiveTyping(client) { PredictChars = 5 };
        typing.Retype("gru", "the c");
        var gru = await server.NextCall();
        Assert.Equal("the c", (await gru.NextRequest()).Text);

        // `use lstm` at the prompt, nothing typed since: gru's stream is still open, and its reply comes now.
        gru.Reply(Reply(0, "at sa", "the c", 1.5));
        await WaitFor(typing, () => typing.PredictionFor("gru") == "at sa", "gru's reply, taken as gru's");
        Assert.All(typing.LossesFor("the c", "gru"), l => Assert.Equal(1.5, l));
        Assert.Equal("", typing.PredictionFor("lstm")); // Tab on lstm's screen would have inserted gru's prediction
        Assert.All(typing.LossesFor("the c", "lstm"), Assert.Null); // and its chars drawn in gru's colours

        // The next keystroke starts lstm's stream; what gru's sends as it is closed is dropped.
        gru.OnComplete = Reply(0, "zzzzz", "the c", 2.5);
        typing.Retype("lstm", "the ca");
        var lstm = await server.NextCall();
        Assert.Equal(("the ca", true, "s-2"), (await lstm.NextRequest() is var r ? (r.Text, r.Reset, r.SessionId) : default));
        Assert.True(gru.IsDisposed);
        Assert.Equal("", typing.PredictionFor("lstm"));
        Assert.All(typing.LossesFor("the ca", "lstm"), Assert.Null);
        lstm.Reply(Reply(0, "t sat", "the ca", 0.5));
        await WaitFor(typing, () => typing.PredictionFor("lstm") == "t sat", "lstm's own reply");
        Assert.All(typing.LossesFor("the ca", "lstm"), l => Assert.Equal(0.5, l));
    }

    /// <summary>A message of a prediction for request <paramref name="index"/>, with a score of <paramref name="loss"/> for each char of <paramref name="fed"/>.</summary>
    private static InteractResponse Reply(long index, string text, string fed, double loss) => new()
    {
        RequestIndex = index, Text = text, TypedScoresFrom = 0,
        TypedScores = { fed.Select(c => new CharScore { Character = c.ToString(), Loss = loss }) },
    };

    private static bool Scored(ViewModels.InteractiveTyping typing, string text) => typing.LossesFor(text).All(l => l != null);

    /// <summary>The typing's scores of <paramref name="text"/> equal Feed's for the same text from a new session.</summary>
    private async Task AssertScoresAreFeeds(ViewModels.InteractiveTyping typing, string text) =>
        AssertClose(await FeedLosses(text), [.. typing.LossesFor(text).Select(l => l!.Value)]);

    private static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++) Assert.Equal(expected[i], actual[i], 1e-4);
    }

    /// <summary>Feed's per-char losses of <paramref name="text"/> from a new session on the fixture's model.</summary>
    private async Task<double[]> FeedLosses(string text)
    {
        var session = await fixture.Client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = "gru" });
        var fed = await fixture.Client.Generation.FeedAsync(new FeedRequest { SessionId = session.Id, Text = text, CharScores = true });
        await fixture.Client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
        return [.. fed.Chars.Select(c => c.Loss)];
    }

    private static async Task WaitFor(ViewModels.InteractiveTyping typing, Func<bool> condition, string what)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !condition(); await Task.Delay(10))
            if (clock.Elapsed > TimeSpan.FromSeconds(20)) throw new Xunit.Sdk.XunitException($"timed out waiting for {what} (error: {typing.Error})");
    }
}
