using System.Globalization;
using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using Grpc.Core;

namespace CharRnn.Tui.Repl;

/// <summary>The REPL's generation commands: use, gen, feed, fork, back, reset, set, compare.</summary>
public sealed partial class CommandRunner
{
    private async Task Use(Command c, CancellationToken ct)
    {
        var model = c.Arg(0) ?? throw new CommandException($"Which model? {CommandCatalog.Find("use")!.Usage} (models lists them).");
        // The settings carry over, but not a seed the server drew: each new session gets fresh text unless seed= was asked for.
        var start = _sampling.Clone();
        if (!_seedChosen) start.ClearSeed();
        // Opened before the old sessions close: a typo in the name or a refused setting leaves the session in use as it was.
        var unknown = UnknownCharsFrom(c) ?? _unknownChars;
        var opened = await client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = model, Sampling = await SamplingFrom(c, start, ct), UnknownChars = unknown },
            cancellationToken: ct);
        NoteSeed(c);
        await CloseAll(CancellationToken.None);
        Session = opened;
        _sampling = Session.Sampling.Clone();
        _unknownChars = unknown;
        output.SessionChanged(Session);
        output.Line($"using {model} ({Session.Architecture}{(Session.GenerationPrecision == "bf16" ? ", bf16 generation" : "")}) · {Describe(_sampling)}{UnknownCharsNote}");
    }

    /// <summary>What every command that needs a session says without one (gen, feed, fork, reset, compare).</summary>
    internal const string NoModelInUse = "No model in use: use MODEL first (models lists them).";

    /// <summary>The session in use, or the error that says how to open one.</summary>
    private Session InUse => Session ?? throw new CommandException(NoModelInUse);

    private async Task Generate(Command c, CancellationToken ct)
    {
        _ = InUse;
        var (count, prime) = CountAndPrime(c, 0, await MostChars(ct));
        await CheckWithinServerLimits(c.Verb, count, prime, ct, primeInPieces: true);
        if (HasSampling(c)) await Configure(SeedOnlyIfGiven(c, await SamplingFrom(c, _sampling, ct)), ct);
        NoteSeed(c);
        var session = InUse; // after Configure, which reopens a lost session
        // A prime longer than the server takes in one call goes in pieces, as `charrnn generate` reads any length:
        // all but the last fed, the last sent with the request (and shown as its prime).
        var pieces = await InServerPieces(prime, ct);
        var skipped = new List<SkippedChar>(); // the prime's chars the session's unknown=skip dropped
        foreach (var piece in pieces[..^1])
        {
            var fed = await client.Generation.FeedAsync(new FeedRequest { SessionId = session.Id, Text = piece }, cancellationToken: ct);
            skipped.AddRange(SkippedOf(fed.SkippedChars, fed.UnknownCharsSkipped));
        }
        prime = pieces[^1];
        var request = new GenerateRequest { SessionId = session.Id, MaxChars = count, Prime = prime, Stop = c.Option("stop") ?? "", IncludeProbabilities = true };
        var (chars, stopped, primeSkipped) = (0, false, (IReadOnlyList<SkippedChar>)[]);
        await Stoppable(ct, async stop => (chars, stopped, primeSkipped) = await Stream(0, session.ModelName, request, stop));
        // How it ended, as a stop by Esc says "stopped" (interactive: headless, the text alone goes to stdout, and what
        // unknown=skip left out of the prime to stderr, as charrnn generate --skip-unknown says it).
        var skippedNote = SkippedNote([.. skipped, .. primeSkipped], "the prime");
        if (interactive)
            output.Line((stopped ? $"generated {chars} chars, up to stop={CommandParser.Quote(request.Stop)}" : $"generated {chars} chars") + skippedNote);
        else NoteHeadless(skippedNote);
    }

    /// <summary>Under --exec, a note that the interactive REPL adds to a command's last line (" · …"), on its own.</summary>
    private void NoteHeadless(string note)
    {
        if (note.StartsWith(" · ", StringComparison.Ordinal)) output.Note(note[" · ".Length..]);
    }

    /// <summary>
    /// [N] ["PRIME"] from the positional words from <paramref name="first"/> on, or ["PRIME"] N: an unquoted number
    /// first, or last after a prime, is the count; a quoted word is always the prime, and a number between quoted
    /// words is refused (which it meant is unclear).
    /// </summary>
    /// <param name="most">The most chars a gen may ask for: the server's max_chars_per_call, or the REPL's own MaxChars where it
    /// says none; null before the server is asked (--exec's first check), which checks the count's form alone.</param>
    private static (int Count, string Prime) CountAndPrime(Command c, int first, int? most)
    {
        var words = c.Positional.Skip(first).ToList();
        bool IsCount(int word) => !c.IsQuoted(first + word) && words[word].All(char.IsAsciiDigit);
        // "1,000", "1e3", "500." or "-5" in a count's place meant a count: refused, not quietly made the prime.
        bool LooksLikeCount(int word) => !c.IsQuoted(first + word) && words[word].Any(char.IsAsciiDigit) && words[word].All(ch => char.IsAsciiDigit(ch) || ch is ',' or '.' or '_' or 'e' or 'E' or '+' or '-');
        foreach (var place in words.Count > 1 ? [0, words.Count - 1] : words.Count == 1 ? new[] { 0 } : [])
            if (LooksLikeCount(place) && !IsCount(place))
                throw new CommandException(words[place] is ['-', .. var digits] && digits.All(char.IsAsciiDigit)
                    ? $"{c.Verb} count {words[place]} is not allowed; give {CountRange(most)}."
                    : $"{c.Verb} count '{words[place]}' is not a whole number; give {CountRange(most)}, in digits only (put a prime that is a number in quotes: \"{words[place]}\").");
        if (words.Count > 1 && IsCount(0) && IsCount(words.Count - 1))
            throw new CommandException($"Two counts given, {words[0]} and {words[^1]}; give one (put a prime that is a number in quotes: \"{words[^1]}\").");
        // gen "the" 10 "wil": a number amid quoted words looks like a count, not a part of the prime they quote.
        if (Enumerable.Range(0, words.Count).Any(w => c.IsQuoted(first + w)) && Enumerable.Range(1, Math.Max(0, words.Count - 2)).FirstOrDefault(IsCount) is > 0 and var amid)
            throw new CommandException($"'{words[amid]}' stands amid the prime's words, one of them quoted, so it is neither clearly the count nor the prime: the count goes before or after the prime " +
                                       $"({c.Verb} N \"PRIME\" or {c.Verb} \"PRIME\" N), and a prime with a number in it goes in one pair of quotes (\"{string.Join(" ", words)}\").");
        int? count = null;
        if (words.Count > 0 && IsCount(0))
        {
            count = Count(c.Verb, words[0], most);
            words.RemoveAt(0);
        }
        else if (words.Count > 1 && IsCount(words.Count - 1))
        {
            count = Count(c.Verb, words[^1], most);
            words.RemoveAt(words.Count - 1);
        }
        return (count ?? 200, string.Join(" ", words));
    }

    /// <summary>A count in range; one out of it (0, or over <paramref name="most"/>) is refused naming the verb's count, the value and the range.</summary>
    private static int Count(string verb, string word, int? most) =>
        int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 && n <= (most ?? int.MaxValue)
            ? n
            : throw new CommandException(CountRefusal(verb, word, most) + (most is null or MaxChars ? " (put a prime that is a number in quotes: \"1984\")." : "."));

    /// <summary>
    /// What a gen or compare count may be: 1 to the server's max_chars_per_call (<paramref name="most"/>), or the REPL's own
    /// MaxChars where it says none; null before the server is asked, when its limit is not known yet and may be above the REPL's own.
    /// </summary>
    private static string CountRange(int? most) => most switch
    {
        null => "1 to what the server gives per gen (its max_chars_per_call)",
        MaxChars => $"1 to {MaxChars}",
        _ => $"1 to {most}, what this server gives per gen (its max_chars_per_call)",
    };

    /// <summary>A gen or compare count out of range, refused in the terms typed ("gen count 0 is not allowed; give 1 to 100000, …").</summary>
    private static string CountRefusal(string verb, string count, int? most) => $"{verb} count {count} is not allowed; give {CountRange(most)}";

    /// <summary>
    /// The most chars a gen may ask for of this server: its max_chars_per_call where it says one (gen 2000000 was refused
    /// as "ask for 1 to 1000000", and gen 1000000 then by the server's 100000), else the REPL's own.
    /// </summary>
    private async Task<int> MostChars(CancellationToken ct) => (await ServerLimits(ct)).MaxCharsPerCall is > 0 and var most ? most : MaxChars;

    private const int MaxChars = Cli.GenerateCommand.MaxChars; // the command line's -n range too

    /// <summary>
    /// Runs a generation that Esc, or the next command typed, stops; stopping it is not an error, but
    /// the rest of the line is skipped (<see cref="LineStopped"/>).
    /// </summary>
    private async Task Stoppable(CancellationToken ct, Func<CancellationToken, Task> generate)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, _lineStop);
        try
        {
            await generate(stop.Token);
        }
        // Once asked to stop, how the call ends is cancellation's doing: usually CANCELLED, but a cancel that
        // races the stream's own reads can surface as another status (a rare CI run ended without "stopped").
        catch (Exception e) when (stop.IsCancellationRequested && !ct.IsCancellationRequested
                                  && e is OperationCanceledException or RpcException or IOException)
        {
            output.Line("stopped");
            throw new LineStopped();
        }
    }

    /// <summary>A generation was stopped by the user: the rest of its line does not run.</summary>
    private sealed class LineStopped : Exception;

    /// <summary>Streams a Generate call into a pane; a session lost to a server restart is reopened once.</summary>
    /// <returns>The chars generated, whether the text ended at the request's stop string before its count, and the prime's chars the session's unknown=skip dropped.</returns>
    private async Task<(int Chars, bool AtStop, IReadOnlyList<SkippedChar> PrimeSkipped)> Stream(int pane, string label, GenerateRequest request, CancellationToken ct)
    {
        output.GenerationStarted(pane, label, request.Prime, request.MaxChars);
        var chars = 0;
        var atStop = false;
        var primeSkipped = new List<SkippedChar>();
        void Add(GenerateResponse piece)
        {
            output.Generated(pane, piece.Text, piece.Probability);
            chars += piece.Text.EnumerateRunes().Count();
            atStop = piece.FinishReason == GenerateResponse.Types.FinishReason.Stop;
            primeSkipped.AddRange(SkippedOf(piece.PrimeSkippedChars, piece.PrimeUnknownCharsSkipped));
        }
        (int, bool, IReadOnlyList<SkippedChar>) Result() => (chars, atStop, primeSkipped);
        try
        {
            using var call = client.Generation.Generate(request, cancellationToken: ct);
            await foreach (var piece in call.ResponseStream.ReadAllAsync(ct)) Add(piece);
            return Result();
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && pane == 0 && Session != null && request.SessionId == Session.Id)
        {
            output.GenerationEnded(pane); // the notice on a line of its own (--exec's stdout), the text started again under it
            await ReopenSession(null, ct);
            request.SessionId = Session!.Id;
            output.GenerationStarted(pane, label, request.Prime, request.MaxChars);
            (chars, atStop) = (0, false);
            primeSkipped.Clear();
            using var call = client.Generation.Generate(request, cancellationToken: ct);
            await foreach (var piece in call.ResponseStream.ReadAllAsync(ct)) Add(piece);
            return Result();
        }
        finally
        {
            output.GenerationEnded(pane);
        }
    }

    /// <summary><paramref name="text"/> in pieces this server takes in one call (its max_prime_chars), at least one.</summary>
    private async Task<List<string>> InServerPieces(string text, CancellationToken ct)
    {
        var limit = (await ServerLimits(ct)).MaxPrimeChars;
        return limit > 0 ? Pieces(text, limit) : [text];
    }

    /// <summary><paramref name="text"/> cut into pieces of at most <paramref name="chars"/> characters (runes: a pair of surrogates is one), at least one.</summary>
    internal static List<string> Pieces(string text, int chars)
    {
        var pieces = new List<string>();
        int start = 0, end = 0, inPiece = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (inPiece == chars) { pieces.Add(text[start..end]); (start, inPiece) = (end, 0); }
            end += rune.Utf16SequenceLength;
            inPiece++;
        }
        if (end > start || pieces.Count == 0) pieces.Add(text[start..end]);
        return pieces;
    }

    private async Task Feed(Command c, CancellationToken ct)
    {
        _ = InUse;
        var text = string.Join(" ", c.Positional);
        if (text.Length == 0) throw new CommandException("Usage: " + CommandCatalog.Find("feed")!.Usage);
        var show = c.Option("show");
        if (show != null && !show.Equals("surprise", StringComparison.OrdinalIgnoreCase))
            throw new CommandException(Cli.NumberRefusal.NotAllowed($"show={show}", "surprise (marks the chars the model found hardest)"));
        // Text longer than the server takes in one call goes in pieces, as gen's prime does; the last one asks for the next chars.
        var pieces = await InServerPieces(text, ct);
        FeedRequest Piece(int i) => new() { SessionId = Session!.Id, Text = pieces[i], TopAlternatives = i == pieces.Count - 1 ? 3 : 0, CharScores = show != null };
        FeedResponse response;
        try { response = await client.Generation.FeedAsync(Piece(0), cancellationToken: ct); }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            await ReopenSession(null, ct); // as gen does, after a restart or an expiry
            response = await client.Generation.FeedAsync(Piece(0), cancellationToken: ct);
        }
        // Each call scores its own piece: the text's score is their sum, weighted by the chars each scored.
        var (lossSum, correct, scored, skipped) = (0.0, 0.0, 0L, new List<SkippedChar>());
        var chars = new List<CharScore>();
        for (var i = 0; ; i++)
        {
            chars.AddRange(response.Chars);
            (lossSum, correct, scored) = (lossSum + response.Loss * response.CharactersScored, correct + response.Accuracy * response.CharactersScored, scored + response.CharactersScored);
            skipped.AddRange(SkippedOf(response.SkippedChars, response.UnknownCharsSkipped));
            if (i + 1 == pieces.Count) break;
            response = await client.Generation.FeedAsync(Piece(i + 1), cancellationToken: ct);
        }
        var next = string.Join("  ", response.Next.Select(a => $"{VisibleText.Character(a.Text)} {a.Probability:P0}"));
        var score = scored > 0 ? " · " + PredictionScoreText.Describe(lossSum / scored, correct / scored) : "";
        var fed = text.EnumerateRunes().Count() - skipped.Sum(c => c.Count);
        output.Line($"fed {fed} {(fed == 1 ? "char" : "chars")} ({response.CharactersSeen} in the session){SkippedNote(skipped, "the text")}{score}; next: {next}");
        foreach (var line in SurpriseText.Lines(chars)) output.Line(line);
    }

    private async Task Fork(CancellationToken ct)
    {
        Session fork;
        try { fork = await client.Generation.ForkAsync(new ForkRequest { SessionId = InUse.Id }, cancellationToken: ct); }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            await ReopenSession(null, ct); // the Generate tab's Fork keeps working after a restart or an expiry
            fork = await client.Generation.ForkAsync(new ForkRequest { SessionId = InUse.Id }, cancellationToken: ct);
        }
        var session = InUse;
        _forks.Push(session);
        Session = fork;
        output.SessionChanged(fork, "fork");
        output.Line($"forked: generating in a copy ({_forks.Count} level(s)); back returns to the original");
    }

    private async Task Back(CancellationToken ct)
    {
        if (_forks.Count == 0) throw new CommandException("Not in a fork: nothing to go back to.");
        await CloseQuietly(Session, ct);
        Session = _forks.Pop();
        if (Session.Sampling is { } kept) _sampling = kept.Clone(); // the original's settings, not the fork's
        _unknownChars = Session.UnknownChars == UnknownChars.Skip ? UnknownChars.Skip : UnknownChars.Refuse; // and its policy (a set in the fork changed the fork's)
        output.SessionChanged(Session, "back from the fork");
        output.Line("back to the session before the fork");
    }

    private async Task Reset(CancellationToken ct)
    {
        var session = InUse;
        try
        {
            Session = await client.Generation.ResetAsync(new ResetRequest { SessionId = session.Id }, cancellationToken: ct);
            output.SessionChanged(Session);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            await ReopenSession(_sampling, ct); // a new session is a reset one: with the lost one's seed, as a reset restarts its sequence
        }
        output.Line("session reset");
    }

    private async Task Set(Command c, CancellationToken ct)
    {
        var unknown = UnknownCharsFrom(c);
        if (!HasSampling(c) && unknown == null) { output.Line(Describe(_sampling) + UnknownCharsNote); return; }
        var settings = await SamplingFrom(c, _sampling, ct);
        if (Session != null) await Configure(SeedOnlyIfGiven(c, settings), ct, unknown);
        else _sampling = settings;
        _unknownChars = unknown ?? _unknownChars;
        NoteSeed(c);
        output.Line(Describe(_sampling) + UnknownCharsNote);
    }

    /// <param name="unknown">The session's unknown-character policy to set; null keeps it.</param>
    private async Task Configure(SamplingSettings settings, CancellationToken ct, UnknownChars? unknown = null)
    {
        try
        {
            var request = new ConfigureRequest { SessionId = Session!.Id, Sampling = settings };
            if (unknown is { } policy) request.UnknownChars = policy;
            Session = await client.Generation.ConfigureAsync(request, cancellationToken: ct);
            output.SessionChanged(Session);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && Session != null)
        {
            if (unknown is { } asked) _unknownChars = asked; // the new session takes the policy asked for too
            await ReopenSession(settings, ct); // the Generate tab's buttons set, then gen: both go on
        }
        _sampling = Session.Sampling.Clone();
    }

    /// <summary>
    /// Opens a new session on the current model when the server no longer has the one in use (closed elsewhere, a
    /// restart, or it expired): with <paramref name="settings"/>, or the lost one's, less a seed the server drew, which
    /// would give the new session the old one's text again.
    /// </summary>
    private async Task ReopenSession(SamplingSettings? settings, CancellationToken ct)
    {
        output.Line("The session is gone (closed by an admin or another client of your key, expired, or the server restarted); opening a new one on the same model.");
        if (settings == null)
        {
            settings = _sampling.Clone();
            if (!_seedChosen) settings.ClearSeed();
        }
        Session = await client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = Session!.ModelName, Sampling = settings, UnknownChars = _unknownChars },
            cancellationToken: ct);
        _sampling = Session.Sampling.Clone();
        output.SessionChanged(Session);
    }

    /// <summary>
    /// What compare's sessions skipped of the prime (unknown=skip), as gen says it: once where both skipped the same (one
    /// model, or two that read the same chars), else each model's own.
    /// </summary>
    internal static string PrimeSkippedNote((string Model, IReadOnlyList<SkippedChar> Skipped) left, (string Model, IReadOnlyList<SkippedChar> Skipped) right)
    {
        var (l, r) = (SkippedNote(left.Skipped, "the prime"), SkippedNote(right.Skipped, "the prime"));
        return l == r ? l : SkippedNote(left.Skipped, $"{left.Model}'s prime") + SkippedNote(right.Skipped, $"{right.Model}'s prime");
    }

    /// <summary>The current model and settings against another model or temperature, on the same prime and seed.</summary>
    private async Task Compare(Command c, CancellationToken ct)
    {
        var session = Session ?? throw new CommandException(NoModelInUse + " Then compare OTHER_MODEL or compare t=1.2.");
        // compare [MODEL] [N] ["PRIME"] [t=X]: the model is an unquoted first word that is not a count.
        var named = GenerationCount(c)!.Value.Named;
        if (!named && !HasSampling(c))
        {
            // The line as typed (quotes kept), so each suggestion can be run as it stands.
            var typed = string.Concat(c.Positional.Select((p, i) => " " + (c.IsQuoted(i) ? $"\"{p}\"" : p)));
            throw new CommandException($"compare needs something to set against {session.ModelName} as it samples now: another model " +
                                       $"(compare OTHER_MODEL{typed}) or other sampling (compare{typed} t=1.2). Usage: {CommandCatalog.Find("compare")!.Usage}.");
        }
        var otherModel = named ? c.Positional[0] : session.ModelName;
        var (count, prime) = CountAndPrime(c, named ? 1 : 0, await MostChars(ct));
        await CheckWithinServerLimits(c.Verb, count, prime, ct);
        var otherSampling = await SamplingFrom(c, _sampling, ct);
        Session? left = null, right = null;
        try
        {
            left = await client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = session.ModelName, Sampling = _sampling, UnknownChars = _unknownChars }, cancellationToken: ct);
            right = await client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = otherModel, Sampling = otherSampling, UnknownChars = _unknownChars }, cancellationToken: ct);
            var (l, r) = (left, right);
            var (leftLabel, rightLabel) = ($"{session.ModelName} {Describe(_sampling)}", $"{otherModel} {Describe(otherSampling)}");
            var streamed = Array.Empty<(int Chars, bool AtStop, IReadOnlyList<SkippedChar> PrimeSkipped)>();
            await Stoppable(ct, async stop => streamed = await Task.WhenAll(
                Stream(0, leftLabel, new GenerateRequest { SessionId = l.Id, MaxChars = count, Prime = prime, IncludeProbabilities = true }, stop),
                Stream(1, rightLabel, new GenerateRequest { SessionId = r.Id, MaxChars = count, Prime = prime, IncludeProbabilities = true }, stop)));
            // How it ended, as gen says (its echo was the log's last line: nothing told a finished compare from one streaming).
            var skippedNote = PrimeSkippedNote((session.ModelName, streamed[0].PrimeSkipped), (otherModel, streamed[1].PrimeSkipped));
            if (interactive)
            {
                var (lc, rc) = (streamed[0].Chars, streamed[1].Chars);
                output.Line((lc == rc ? $"compared {lc} chars each" : $"compared {lc} and {rc} chars") + $": {leftLabel} and {rightLabel}" + skippedNote);
            }
            else NoteHeadless(skippedNote);
        }
        finally
        {
            await CloseQuietly(left, CancellationToken.None);
            await CloseQuietly(right, CancellationToken.None);
        }
    }
}
