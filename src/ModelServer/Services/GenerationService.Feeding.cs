using System.Diagnostics;
using System.Text;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Metrics;
using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.Sessions;
using Api = CharRnn.Protos.V1;
using static CharRnn.ModelServer.Services.ProtocolLimits;

namespace CharRnn.ModelServer.Services;

/// <summary>
/// Long text into a session (a prime, Feed's text) in device commands of at most 256 chars, so streams are not held up
/// meanwhile, with the session held for the caller between them; and the checks that a session is free.
/// </summary>
public sealed partial class GenerationService
{
    /// <summary>
    /// Feeds all but the last piece of a long <paramref name="text"/>, a device command each, and
    /// returns the rest for the caller's own command (<see cref="RunLetGo{T}"/>) to feed along with
    /// what must follow it at once (a snapshot, a generation's start). Each piece is sized as its
    /// command runs (<see cref="DeviceLoop.DeviceWorker.FeedPieceChars"/>): 256 characters with no stream
    /// open, and while any is, what the model feeds in about the streams' last step, so other keys' streams wait
    /// about that long between chars, not a 256-char piece's time. The whole text is checked
    /// first, so an unknown character moves nothing; with <paramref name="reset"/> the session is
    /// reset before the first piece and ResetDone says so. From the first piece to the caller's
    /// command, <paramref name="session"/> (null while it is being opened: nobody knows it yet) is
    /// held by Hold: other calls on it are refused, so none lands between two pieces. A text of one
    /// piece comes back as it is, nothing done, nothing held. A call that fails or is cancelled
    /// midway lets the session go and leaves the pieces fed so far fed (characters_seen says how many).
    /// Score is how well the model predicted the pieces fed (Feed's answer adds the rest's), each char's too with <paramref name="perChar"/>.
    /// The session's state does not depend on where the pieces are cut.
    /// </summary>
    private async Task<(string Tail, bool ResetDone, object? Hold, TextScore Score)> FeedLeadingPieces(ServerSession? session, GenerationSession engine, string text, string field,
        bool reset, CancellationToken cancellation, string owner, FedCharge charge, bool perChar = false)
    {
        if (PieceEnd(text, 0, worker.FeedPieceChars(engine.Model)) == text.Length) return (text, false, null, default);
        var hold = new object();
        var score = default(TextScore);
        var (at, resetDone) = (0, false);
        try
        {
            int fed; // by each command: 0 once the rest fits the caller's
            do
            {
                var start = at;
                fed = await worker.Run(() =>
                {
                    if (session != null)
                    {
                        EnsureIdle(session, hold);
                        session.FedBy = hold;
                    }
                    if (start == 0)
                    {
                        Encodes(engine, text, field);
                        if (reset) engine.Reset();
                    }
                    var chars = worker.FeedPieceChars(engine.Model);
                    var end = PieceEnd(text, start, chars);
                    if (end == text.Length) return 0; // the rest fits one piece: the caller's command feeds it
                    var started = Stopwatch.GetTimestamp();
                    score += Feed(engine, text[start..end], field, owner, perChar);
                    charge.Fed();
                    session?.Snapshot();
                    worker.Fed(engine.Model, chars, Stopwatch.GetElapsedTime(started));
                    return end - start;
                }, cancellation, owner);
                (at, resetDone) = (at + fed, reset);
            } while (fed != 0);
        }
        catch
        {
            if (session != null) await LetGo(session, hold);
            throw;
        }
        return (text[at..], resetDone, hold, score);
    }

    /// <summary>
    /// Runs a call's last device command, which first lets go of the session held by the call's
    /// leading pieces (<paramref name="hold"/>, null if there were none); should the command never
    /// run (the call cancelled while it waited), the session is let go all the same.
    /// </summary>
    private async Task<T> RunLetGo<T>(ServerSession session, object? hold, Func<T> work, CancellationToken cancellation)
    {
        var released = hold == null;
        try
        {
            return await worker.Run(() =>
            {
                if (hold != null && session.FedBy == hold) session.FedBy = null;
                released = true;
                return work();
            }, cancellation, session.Owner);
        }
        finally
        {
            if (!released) await LetGo(session, hold!);
        }
    }

    private async Task LetGo(ServerSession session, object hold)
    {
        try { await worker.Run(() => { if (session.FedBy == hold) session.FedBy = null; }, CancellationToken.None, session.Owner); }
        catch (ServerException) { } // shutting down: no later call will find the session
    }

    /// <summary>
    /// Where a piece of <paramref name="chars"/> characters (runes: a surrogate pair stays whole) that starts at
    /// <paramref name="start"/> ends; the text's length when the rest has no more.
    /// </summary>
    private static int PieceEnd(string text, int start, int chars)
    {
        var end = start;
        for (var n = 0; n < chars && end < text.Length; n++)
            end += char.IsHighSurrogate(text[end]) && end + 1 < text.Length && char.IsLowSurrogate(text[end + 1]) ? 2 : 1;
        return end;
    }

    /// <summary>
    /// Feeds a request's text; a character the model does not know is INVALID_ARGUMENT naming the
    /// field (Feed encodes the whole text before it moves the state, so a refused one moves nothing).
    /// Returns how well the model predicted it, each char's score too with <paramref name="perChar"/>.
    /// </summary>
    /// <param name="owner">The key that owns the session, whose charrnn_fed_characters_total counts the text.</param>
    private static TextScore Feed(GenerationSession engine, string text, string field, string owner, bool perChar = false)
    {
        RefusePadding(text, field);
        var seen = engine.CharactersSeen;
        TextScore score;
        try { score = engine.Feed(text, perChar); }
        // The engine's words name the ways out it knows; a session has one more, which a client may never have heard of.
        catch (UnknownCharactersException e)
        {
            throw ServerException.Invalid($"{field}: {e.Message} Or let the session leave such characters out: unknown_chars = UNKNOWN_CHARS_SKIP (OpenSession, Configure).");
        }
        ServerMetrics.FedCharacters.WithLabels(owner).Inc(engine.CharactersSeen - seen);
        return score;
    }

    /// <summary>
    /// Counts a text the call is about to feed against its key's characters a minute (max_chars_per_minute_per_key),
    /// as generated chars count: RESOURCE_EXHAUSTED naming the limit, before anything is fed, when the minute has
    /// not room for it. Feeding takes the device too: unmetered, one key's Feed loop slowed every stream and job.
    /// A call that fails before anything of the text is fed gives the charge back (<see cref="FedCharge.RefundUnlessFed"/>).
    /// </summary>
    private FedCharge ChargeFed(Caller caller, string text) => ChargeFed(caller, Runes(text));

    private FedCharge ChargeFed(Caller caller, long chars) => new(rate.ChargeFed(caller, chars), chars);

    /// <summary>The characters (Unicode scalars) a text counts as against a key's chars a minute.</summary>
    private static int Runes(string text) => text.EnumerateRunes().Count();

    /// <summary>The least a text can feed, before the model's vocabulary says how it reads "\r\n": each pair as the one "\n".</summary>
    private static int FewestCharsFed(string text)
    {
        var pairs = 0;
        for (var at = text.IndexOf("\r\n", StringComparison.Ordinal); at >= 0; at = text.IndexOf("\r\n", at + 2, StringComparison.Ordinal)) pairs++;
        return Runes(text) - pairs;
    }

    /// <summary>The quota charge for a text a call feeds: given back if the call ends before any of it was fed.</summary>
    private sealed class FedCharge(CharRateLimiter.Reservation? reservation, long chars)
    {
        private volatile bool _fed;
        private long _chars = chars;
        private CharRateLimiter.Reservation? _more; // ChargeAsFed's, for the chars fed beyond the first charge
        private long _moreChars;

        /// <summary>Gives back the chars of the text that will not be fed (dropped by the session's Skip, a "\r\n"'s '\r' read as "\n"), before any is fed.</summary>
        public void NotFed(long skipped)
        {
            if (skipped <= 0 || reservation == null) return;
            CharRateLimiter.Refund(reservation, skipped);
            _chars -= skipped;
        }

        /// <summary>
        /// Makes the charge what the text feeds, before any is fed, where it was charged before the model's vocabulary said
        /// (OpenSession's prime, as the least it could feed): gives back the chars not fed, or charges the more a model whose
        /// vocabulary has '\r' is fed ("\r\n" as sent) through <paramref name="chargeMore"/> (RESOURCE_EXHAUSTED, as any charge).
        /// </summary>
        public void ChargeAsFed(long fed, Func<long, CharRateLimiter.Reservation?> chargeMore)
        {
            if (fed <= _chars) { NotFed(_chars - fed); return; }
            _more = chargeMore(fed - _chars);
            _moreChars = fed - _chars;
            _chars = fed;
        }

        /// <summary>Device thread: the first of the text has been fed (it stays charged from now on).</summary>
        public void Fed() => _fed = true;

        public void RefundUnlessFed()
        {
            if (_fed) return;
            if (reservation != null) CharRateLimiter.Refund(reservation, _chars - _moreChars);
            if (_more != null) CharRateLimiter.Refund(_more, _moreChars);
        }
    }

    /// <summary>
    /// NUL is in every vocabulary as padding (GetModel's vocabulary starts with it), not as text the model
    /// reads: it encodes without error, so it is refused here (<see cref="PaddingInText"/>, charrnn generate's rule too),
    /// as other characters the model cannot read are.
    /// </summary>
    private static void RefusePadding(string text, string field)
    {
        if (PaddingInText.In(text))
            throw ServerException.Invalid($"{field}: The text {PaddingInText.Problem}. Remove it; use only characters of the training corpus (see the model's vocabulary).");
    }

    /// <summary>
    /// What a session feeds of a request's text, and which characters it leaves out (how many times each), its "\r\n"
    /// first read as the model's corpus was (<see cref="Corpus.WithLineEndingsAsLearned"/>, as charrnn eval, neurons and
    /// generate read theirs): "\n" unless the vocabulary has '\r', so a prime pasted from a Windows client is not refused
    /// for (or, with an unknown symbol, fed) a '\r' the model never saw. The one place every prime and fed text
    /// (OpenSession, Generate, Feed, Interact) enters a session. Then under
    /// <see cref="UnknownCharPolicy.Refuse"/> the text as sent, once checked whole (INVALID_ARGUMENT naming the field
    /// for a character the model cannot read, before any charge); under <see cref="UnknownCharPolicy.Skip"/> the text
    /// without those characters nor the padding NUL, which is not text the model reads either (<see cref="KnownText"/>,
    /// as the model reads them: a lowercase model's either case; charrnn generate --skip-unknown's rule too). Any thread: a vocabulary does not change.
    /// </summary>
    /// <returns>The text fed, with which characters were left out and how many times each (none under Refuse).</returns>
    private static KnownText ReadableText(Vocabulary vocabulary, UnknownCharPolicy policy, string text, string field)
    {
        text = Corpus.WithLineEndingsAsLearned(vocabulary, text);
        if (policy == UnknownCharPolicy.Refuse)
        {
            Encodes(vocabulary, text, field);
            return new KnownText(text, []);
        }
        return KnownText.Of(vocabulary, text);
    }

    /// <summary>The same check without feeding: before a reset, which a refused text must not cause.</summary>
    private static void Encodes(GenerationSession engine, string text, string field) => Encodes(engine.Vocabulary, text, field);

    /// <summary>A text the vocabulary cannot encode is INVALID_ARGUMENT naming the field (any thread: a vocabulary does not change).</summary>
    private static void Encodes(Vocabulary vocabulary, string text, string field)
    {
        RefusePadding(text, field);
        try { vocabulary.Encode(text); }
        // The engine's words name the ways out it knows; a session has one more, which a client may never have heard of.
        catch (UnknownCharactersException e)
        {
            throw ServerException.Invalid($"{field}: {e.Message} Or let the session leave such characters out: unknown_chars = UNKNOWN_CHARS_SKIP (OpenSession, Configure).");
        }
    }

    /// <summary>Device thread: one Generate at a time per session.</summary>
    private void ClaimForGeneration(ServerSession session)
    {
        EnsureIdle(session);
        session.Generating = true;
    }

    /// <summary>
    /// Device thread: the session is still open (a close may have run since the handler found it),
    /// not streaming, and not being fed a long text by a call other than <paramref name="hold"/>'s.
    /// </summary>
    private void EnsureIdle(ServerSession session, object? hold = null)
    {
        worker.DropCancelled(session); // a call the client has just cancelled no longer holds it
        if (session.Closed && session.ClosedBecause is { } because)
            throw because.Again(); // a call between a long text's pieces learns why, as a streaming one does
        if (session.Closed)
            throw ServerException.NotFound($"Session '{session.Id}' was closed (by CloseSession or after {session.IdleTimeout.TotalSeconds:0} s idle); open a new session.",
                ErrorReasons.SessionNotFound, ("session_id", session.Id));
        if (session.Generating)
            throw ServerException.Precondition($"Session '{session.Id}' is generating; wait for that Generate call to end or cancel it.", ("session_id", session.Id));
        if (session.FedBy != null && session.FedBy != hold)
            throw ServerException.Precondition($"Session '{session.Id}' is being fed a long text by another call; wait for that call to end or cancel it.", ("session_id", session.Id));
    }
}
