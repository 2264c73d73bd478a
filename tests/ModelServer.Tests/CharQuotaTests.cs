using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Security;
using CharRnn.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

public class CharQuotaTests
{
    private static CharRateLimiter Limiter(long perMinute, TimeProvider? time = null)
    {
        var options = new ServerOptions();
        options.Limits.MaxCharsPerMinutePerKey = perMinute;
        return new CharRateLimiter(Microsoft.Extensions.Options.Options.Create(options), time ?? TimeProvider.System);
    }

    [Fact]
    public void The_quota_counts_a_minute_of_elapsed_time_whatever_the_wall_clock_does()
    {
        var clock = new SteppedClock();
        var limiter = Limiter(1000, clock);
        limiter.Reserve(Caller.Local, 1000);
        clock.Wall += TimeSpan.FromHours(1); // set forward: the minute has not passed
        Assert.Throws<Errors.ServerException>(() => limiter.Reserve(Caller.Local, 1));
        clock.Wall -= TimeSpan.FromHours(2); // set back: the minute still passes
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Throws<Errors.ServerException>(() => limiter.Reserve(Caller.Local, 1));
        clock.Advance(TimeSpan.FromSeconds(31));
        limiter.Reserve(Caller.Local, 1000);
    }

    [Fact]
    public void A_refusal_says_how_much_is_left_and_how_long_until_the_call_fits()
    {
        var clock = new SteppedClock();
        var limiter = Limiter(1000, clock);
        limiter.Reserve(Caller.Local, 600);
        clock.Advance(TimeSpan.FromSeconds(20));
        limiter.Reserve(Caller.Local, 300);
        clock.Advance(TimeSpan.FromSeconds(10));
        var e = Assert.Throws<Errors.ServerException>(() => limiter.Reserve(Caller.Local, 500));
        // 900 used: 100 left now; the call fits once the first 600 leave the minute, 30 s from now.
        // A server without keys has no key to name (every caller is 'local'): the quota is the server's, shared by all.
        Assert.Equal("This server has generated, fed or reserved 900 of its 1,000 characters a minute (limit max_chars_per_minute_per_key, " +
                     "shared by all its callers: it has no API keys), and this call asks for 500: ask for at most 100, or wait 30 s.", e.Message);
        clock.Advance(TimeSpan.FromSeconds(31));
        limiter.Reserve(Caller.Local, 500);
    }

    [Fact]
    public void A_keyed_callers_refusal_names_its_key()
    {
        var limiter = Limiter(1000, new SteppedClock());
        var ana = new Caller("ana", Admin: false, KeyHash: "0123");
        limiter.Reserve(ana, 1000);
        var e = Assert.Throws<Errors.ServerException>(() => limiter.Reserve(ana, 10));
        Assert.StartsWith("Key 'ana' has generated, fed or reserved 1,000 of its 1,000 characters a minute (limit max_chars_per_minute_per_key), " +
                          "and this call asks for 10: wait ", e.Message);
    }

    [Fact]
    public void A_refund_of_a_reservation_older_than_the_minute_frees_nothing_of_the_new_minute()
    {
        var clock = new SteppedClock();
        var limiter = Limiter(1000, clock);
        var old = limiter.Reserve(Caller.Local, 1000); // a call that streams past its minute
        clock.Advance(TimeSpan.FromSeconds(61));
        limiter.Reserve(Caller.Local, 1000);
        CharRateLimiter.Refund(old, 1000); // it ends, most of it unused: its chars had left the count already
        Assert.Equal(StatusCode.ResourceExhausted, Assert.Throws<Errors.ServerException>(() => limiter.Reserve(Caller.Local, 1)).Code);
    }

    [Fact]
    public void A_refund_gives_back_from_its_own_reservation_and_never_more_than_it_holds()
    {
        var limiter = Limiter(1000);
        var whole = limiter.Reserve(Caller.Local, 1000);
        Assert.Equal(StatusCode.ResourceExhausted, Assert.Throws<Errors.ServerException>(() => limiter.Reserve(Caller.Local, 1)).Code);
        CharRateLimiter.Refund(whole, 400);
        var again = limiter.Reserve(Caller.Local, 400);
        Assert.Throws<Errors.ServerException>(() => limiter.Reserve(Caller.Local, 1));
        // Giving back more than a reservation holds frees only what it holds: the quota never grows past its size.
        CharRateLimiter.Refund(again, 10_000);
        CharRateLimiter.Refund(whole, 10_000);
        limiter.Reserve(Caller.Local, 1000);
        Assert.Throws<Errors.ServerException>(() => limiter.Reserve(Caller.Local, 1));
    }

    [Fact]
    public async Task Interact_predictions_count_against_the_quota_and_a_generate_asking_more_than_it_holds_is_refused_as_such()
    {
        using var server = new ServerFixture(o => o.Limits.MaxCharsPerMinutePerKey = 100);
        var s = await server.Generation.Open("gru", temperature: 0);
        // Under max_chars_per_call but over the quota: waiting would never help, so it is INVALID_ARGUMENT, not RESOURCE_EXHAUSTED.
        var tooMany = await Calls.Fails(() => server.Generation.Generate(s.Id, 101));
        Assert.Equal(StatusCode.InvalidArgument, tooMany.StatusCode);
        Assert.Equal("max_chars = 101 is more than this server's callers may generate in a minute together (100, limit max_chars_per_minute_per_key, " +
                     "shared by all its callers: it has no API keys); ask for fewer.", tooMany.Status.Detail);

        using var call = server.Generation.Interact(deadline: DateTime.UtcNow.AddSeconds(30)); // unmetered, the second prediction would leave the call open
        await call.RequestStream.WriteAsync(new InteractRequest { SessionId = s.Id, Text = "the c", PredictChars = 60 });
        var first = "";
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            first += call.ResponseStream.Current.Text;
            if (call.ResponseStream.Current.Done) break;
        }
        Assert.Equal(60, first.Length);
        await call.RequestStream.WriteAsync(new InteractRequest { Text = "at", PredictChars = 60 });
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        });
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("max_chars_per_minute_per_key", e.Status.Detail);
        // The text typed was fed even so: the session holds what the client typed ("the c" + "at").
        Assert.Equal(7, (await server.Generation.GetSessionAsync(new GetSessionRequest { SessionId = s.Id })).CharactersSeen);
    }
    [Fact]
    public async Task Fed_and_primed_characters_count_against_the_quota_and_in_the_fed_metric()
    {
        using var server = new ServerFixture(o => o.Limits.MaxCharsPerMinutePerKey = 1000);
        var text = ServerFixture.TinyText[..300];
        var fedBefore = Metrics.ServerMetrics.FedCharacters.WithLabels("local").Value;
        var s = await server.Generation.Open("gru", prime: text); // 300
        await server.Generation.FeedAsync(new FeedRequest { SessionId = s.Id, Text = text }); // 600
        using (var generate = server.Generation.Generate(new GenerateRequest { SessionId = s.Id, Prime = text, MaxChars = 50 })) // 950
            while (await generate.ResponseStream.MoveNext(CancellationToken.None)) { }
        Assert.True(Metrics.ServerMetrics.FedCharacters.WithLabels("local").Value - fedBefore >= 900, "fed characters are counted in charrnn_fed_characters_total");

        var refused = await Calls.Fails(() => server.Generation.FeedAsync(new FeedRequest { SessionId = s.Id, Text = text }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.StartsWith("This server has generated, fed or reserved 950 of its 1,000 characters a minute (limit max_chars_per_minute_per_key, " +
                          "shared by all its callers: it has no API keys), " +
                          "and this call feeds 300: send at most 50, or wait ", refused.Status.Detail);
        // Nothing of a refused text is fed; a prime counts as Feed's text does.
        Assert.Equal(950, (await server.Generation.GetSessionAsync(new GetSessionRequest { SessionId = s.Id })).CharactersSeen);
        Assert.Equal(StatusCode.ResourceExhausted, (await Calls.Fails(() => server.Generation.Open("gru", prime: text))).StatusCode);
        // A text longer than the whole minute could never be fed: INVALID_ARGUMENT, as a Generate asking for more.
        var tooLong = await Calls.Fails(() => server.Generation.FeedAsync(new FeedRequest { SessionId = s.Id, Text = ServerFixture.TinyText[..1001] }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, tooLong.StatusCode);
        Assert.Contains("limit max_chars_per_minute_per_key", tooLong.Status.Detail);
        Assert.EndsWith("). Send it in pieces, a Feed call each.", tooLong.Status.Detail); // as Feed's over-max_prime_chars refusal says it
    }

    /// <summary>
    /// A prime's "\r\n" that a session reads as "\n" (its model's corpus read so) counts as the one char fed, as Feed's and
    /// Generate's texts count what is fed: OpenSession, which charges a prime as sent before its model is at hand, gives the '\r's back.
    /// </summary>
    [Fact]
    public async Task A_primes_windows_line_endings_count_as_the_chars_fed()
    {
        using var server = new ServerFixture(o => o.Limits.MaxCharsPerMinutePerKey = 1000);
        var bytes = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the cat\r\nsat on\r\n", 40)));
        server.TrainOn("crlf-quota", Engine.Text.Corpus.FromBytes(bytes, "crlf", "crlf.txt"));
        var s = await server.Generation.Open("crlf-quota", prime: string.Concat(Enumerable.Repeat("the cat\r\n", 50))); // 450 sent, 400 fed
        Assert.Equal(400, s.CharactersSeen);
        await server.Generation.FeedAsync(new FeedRequest { SessionId = s.Id, Text = string.Concat(Enumerable.Repeat("sat on\n", 85)) + "the c" }); // 600: the minute's 1,000
        Assert.Equal(1000, (await server.Generation.GetSessionAsync(new GetSessionRequest { SessionId = s.Id })).CharactersSeen);
    }

    /// <summary>
    /// A text sent with "\r\n" that is longer than the whole minute as sent but not as fed fits the minute: it is not refused as
    /// one that "could never be fed" (a Windows client's prime of 108 chars feeds 96 of a 100-char minute). A model whose
    /// vocabulary has '\r' is fed it as sent, so for it the text is too long, refused as such.
    /// </summary>
    [Fact]
    public async Task A_text_whose_windows_line_endings_make_it_longer_than_the_minute_only_as_sent_is_fed()
    {
        using var server = new ServerFixture(o => o.Limits.MaxCharsPerMinutePerKey = 100);
        var text = string.Concat(Enumerable.Repeat("the cat\r\nsat on\r\n", 40));
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        server.TrainOn("crlf-minute", Engine.Text.Corpus.FromBytes(bytes, "crlf", "crlf.txt"));
        server.TrainOn("crlf-minute-learned", new Engine.Text.Corpus("crlf", text, Engine.Text.Corpus.HexSha256(bytes))); // '\r' and all
        var prime = string.Concat(Enumerable.Repeat("the cat\r\n", 12)); // 108 sent, 96 fed as "\n"

        var learned = await Calls.Fails(() => server.Generation.Open("crlf-minute-learned", prime: prime));
        Assert.Equal(StatusCode.InvalidArgument, learned.StatusCode);
        Assert.StartsWith("prime has 108 characters, more than this server's callers may feed in a minute together (100, ", learned.Status.Detail);
        Assert.Equal(0, (await server.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).KeyUsage.Single().CharsLastMinute); // nothing charged

        var s = await server.Generation.Open("crlf-minute", prime: prime);
        Assert.Equal(96, s.CharactersSeen);
        Assert.Equal(96, (await server.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).KeyUsage.Single().CharsLastMinute);
        // As Feed's text, once the minute has room again: here it has 4 chars left, so the quota refuses it for now, not for ever.
        var other = await server.Generation.Open("crlf-minute");
        var refused = await Calls.Fails(() => server.Generation.FeedAsync(new FeedRequest { SessionId = other.Id, Text = prime }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("this call feeds 96", refused.Status.Detail);
    }

    /// <summary>
    /// A Generate cut short (here the client leaves) gives back the reserved chars it did not generate, counted once the
    /// device loop has let the call go: counted at the cancel, a step under way then added a char the key was never charged
    /// for. Over many calls, what the quota counts is exactly the chars the session moved past, and the rest of the minute is free.
    /// The handler is called directly, so that its end (and its refund) comes before the count is read.
    /// </summary>
    [Fact]
    public async Task Generate_calls_cut_short_are_charged_exactly_the_chars_their_session_moved_past()
    {
        const int perMinute = 50_000;
        using var server = new ServerFixture(o => o.Limits.MaxCharsPerMinutePerKey = perMinute);
        var s = await server.Generation.Open("gru");
        var service = ActivatorUtilities.CreateInstance<Services.GenerationService>(server.Services);
        var limiter = server.Services.GetRequiredService<CharRateLimiter>();
        Assert.Equal(0, limiter.UsedLastMinute(Caller.Local.Name));
        for (var round = 0; round < 40; round++)
        {
            using var leave = new CancellationTokenSource();
            var context = new BareCallContext("/charrnn.v1.Generation/Generate", leave.Token);
            Caller.Local.AttachTo(context);
            var writer = new LeavingWriter(5 + round, leave); // each 1,000-char call ends long before its length
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                service.Generate(new GenerateRequest { SessionId = s.Id, MaxChars = 1000 }, writer, context));
        }
        var moved = (await server.Generation.GetSessionAsync(new GetSessionRequest { SessionId = s.Id })).CharactersSeen - s.CharactersSeen;
        Assert.InRange(moved, 40, 40_000);
        Assert.Equal(moved, limiter.UsedLastMinute(Caller.Local.Name));
        limiter.Reserve(Caller.Local, perMinute - moved); // the rest of the minute, all of it
        Assert.Equal(StatusCode.ResourceExhausted, Assert.Throws<Errors.ServerException>(() => limiter.Reserve(Caller.Local, 1)).Code);
    }

    /// <summary>
    /// Interact's predictions, each cut short by the next keystroke, are charged exactly the chars they generated (the loop's count,
    /// charrnn_generated_characters_total, of a key no other test uses), as typed text is: counted when the prediction was
    /// cancelled, a step under way then added a char the key was never charged for.
    /// </summary>
    [Fact]
    public async Task Interact_predictions_cut_short_by_the_next_keystroke_are_charged_exactly_the_chars_they_generated()
    {
        var keysFile = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        var name = "typist-" + Guid.NewGuid().ToString("N")[..8];
        var token = ApiKeyStore.Load(keysFile).Add(name, admin: false);
        try
        {
            using var server = new ServerFixture(o => { o.KeysFile = keysFile; o.Limits.MaxCharsPerMinutePerKey = 50_000; });
            var client = new Generation.GenerationClient(server.ChannelFor(token));
            var s = await client.Open("gru");
            const int keystrokes = 40;
            using (var call = client.Interact())
            {
                for (var i = 0; i < keystrokes; i++) // as fast as they go: each stops the prediction before it, most midway
                    await call.RequestStream.WriteAsync(new InteractRequest { SessionId = s.Id, Text = "t", PredictChars = Services.ProtocolLimits.MaxPredictChars });
                await call.RequestStream.CompleteAsync();
                while (await call.ResponseStream.MoveNext(CancellationToken.None)) { } // the call ends once every prediction has
            }
            var generated = (long)Metrics.ServerMetrics.GeneratedCharacters.WithLabels(name).Value;
            Assert.InRange(generated, 1, keystrokes * Services.ProtocolLimits.MaxPredictChars);
            Assert.Equal(keystrokes + generated, server.Services.GetRequiredService<CharRateLimiter>().UsedLastMinute(name)); // typed + predicted
        }
        finally { File.Delete(keysFile); }
    }

    /// <summary>A client reading a Generate stream that leaves (cancels the call) once it has read <paramref name="messages"/> messages.</summary>
    private sealed class LeavingWriter(int messages, CancellationTokenSource leave) : IServerStreamWriter<GenerateResponse>
    {
        private int _read;
        public WriteOptions? WriteOptions { get; set; }
        public Task WriteAsync(GenerateResponse message) => WriteAsync(message, CancellationToken.None);

        public Task WriteAsync(GenerateResponse message, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (++_read == messages) leave.Cancel();
            return Task.CompletedTask;
        }
    }
}
