using System.Text;
using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using Grpc.Core;

namespace CharRnn.Tui.ViewModels;

/// <summary>
/// The outcome of one round: both guesses, the truth, and how sure the model was. Characters are
/// runes, as the model's vocabulary counts them: a char outside the Basic Multilingual Plane is one.
/// </summary>
public sealed record Round(Rune Actual, Rune Player, string Model, float ModelConfidence, float ProbabilityOfActual);

/// <summary>
/// "Beat the model": you and the model each guess the next character of held-out text. The
/// model's guess is its most likely next char after the text so far (one Feed per round); a
/// point for each right guess. Thread-safe reads for the render loop.
/// </summary>
public sealed class BeatTheModelGame(CharRnnClient client)
{
    public const int ContextChars = 40;
    private readonly object _gate = new();
    private string? _sessionId;
    private IList<Alternative> _next = [];
    private int _version;

    public string Model { get; private set; } = "";
    /// <summary>The held-out text, rune by rune.</summary>
    public IReadOnlyList<Rune> Passage { get; private set; } = [];
    /// <summary>Characters (runes) of the passage revealed so far.</summary>
    public int Position { get; private set; }
    public int PlayerScore { get; private set; }
    public int ModelScore { get; private set; }
    public List<Round> Rounds { get; } = [];
    public string Message { get; private set; } = "Press Enter to start: held-out text is revealed one character at a time, and you and the model each guess the next one.";
    public int Version => Volatile.Read(ref _version);
    public bool Playing => _sessionId != null && Position < Passage.Count;

    /// <summary>The server session the game plays on (null between games).</summary>
    internal string? SessionId => _sessionId;

    /// <summary>A game is being set up (a passage fetched, a session opened and fed): Enter and guesses wait for it.</summary>
    public bool Starting => Volatile.Read(ref _starting) != 0;
    private int _starting;

    /// <summary>The model's guess for the next char and its probability.</summary>
    public (string Text, float Probability) ModelGuess
    {
        get { lock (_gate) return _next.Count > 0 ? (_next[0].Text, _next[0].Probability) : ("?", 0f); }
    }

    /// <summary>A new game on <paramref name="model"/> over a held-out passage; a failure shows as the game's message.</summary>
    public async Task StartAsync(string model, bool lowercase, CancellationToken cancellation = default)
    {
        if (Interlocked.Exchange(ref _starting, 1) != 0) return; // one start at a time: a second Enter would open a second session
        try
        {
            lock (_gate) Message = $"Starting a game with {model}…";
            Interlocked.Increment(ref _version);
            await StartGameAsync(model, lowercase, cancellation);
        }
        catch (Exception e) when (e is RpcException or GameCannotStartException)
        {
            lock (_gate) Message = $"{(e is RpcException ? ErrorText.Describe(e) : e.Message)}. {NextStep(e)}";
            Interlocked.Increment(ref _version);
        }
        finally
        {
            Volatile.Write(ref _starting, 0);
        }
    }

    // A model that is gone, or whose corpus the key may not read (another key's shared model trained on an
    // upload), refuses every retry: only another model gets a game going.
    private static string NextStep(Exception e) => e is RpcException { StatusCode: StatusCode.NotFound or StatusCode.PermissionDenied }
        ? "Use another model (F2 lists them), then press Enter here."
        : "Press Enter to try again.";

    private async Task StartGameAsync(string model, bool lowercase, CancellationToken cancellation)
    {
        await StopAsync();
        var passage = await client.Catalog.GetPassageAsync(new GetPassageRequest { ModelName = model, Length = 400 }, cancellationToken: cancellation);
        var text = (lowercase ? passage.Text.ToLowerInvariant() : passage.Text).EnumerateRunes().ToArray();
        if (text.Length <= ContextChars)
            throw new GameCannotStartException($"corpus {passage.CorpusName} gave a passage of {text.Length} characters; a game needs more than {ContextChars} (a larger corpus, or one with a longer held-out part)");
        var session = await OpenGreedySession(model, cancellation);
        FeedResponse fed;
        try { fed = await client.Generation.FeedAsync(new FeedRequest { SessionId = session.Id, Text = Concat(text, ContextChars), TopAlternatives = 3 }, cancellationToken: cancellation); }
        catch (RpcException)
        {
            // A passage the model cannot read (chars outside its vocabulary): each retry must not leave a session open.
            try { await client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id }); } catch (RpcException) { }
            throw;
        }
        lock (_gate)
        {
            Model = model;
            Passage = text;
            Position = ContextChars;
            PlayerScore = ModelScore = 0;
            Rounds.Clear();
            _sessionId = session.Id;
            _next = fed.Next;
            Message = "Type your guess for the next character.";
        }
        Interlocked.Increment(ref _version);
    }

    /// <summary>
    /// Scores a guess, reveals the char and moves the model on by it. Guesses typed faster than
    /// the model's Feed answers wait their turn, so each is scored against the prediction for its own position.
    /// </summary>
    public async Task GuessAsync(Rune guess, CancellationToken cancellation = default)
    {
        await _turn.WaitAsync(cancellation);
        try { await ScoreAsync(guess, cancellation); }
        finally { _turn.Release(); }
    }

    private readonly SemaphoreSlim _turn = new(1, 1);

    private async Task ScoreAsync(Rune guess, CancellationToken cancellation)
    {
        if (!Playing) return;
        Round round;
        string actualText;
        lock (_gate)
        {
            var actual = Passage[Position];
            actualText = actual.ToString();
            var model = _next.Count > 0 ? _next[0] : new Alternative { Text = "?" };
            var pActual = _next.FirstOrDefault(a => a.Text == actualText)?.Probability ?? 0;
            round = new Round(actual, guess, model.Text, model.Probability, pActual);
            Rounds.Add(round);
            if (guess == actual) PlayerScore++;
            if (model.Text == actualText) ModelScore++;
            Position++;
            Message = $"It was '{VisibleText.Character(actualText)}': you said '{VisibleText.Character(guess.ToString())}', the model '{VisibleText.Character(model.Text)}' ({model.Probability:P0} sure).";
        }
        Interlocked.Increment(ref _version);
        try
        {
            FeedResponse fed;
            try { fed = await client.Generation.FeedAsync(new FeedRequest { SessionId = _sessionId, Text = actualText, TopAlternatives = 3 }, cancellationToken: cancellation); }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                // The session expired (idle too long) or the server restarted: a new one reads the passage so far, and the game goes on.
                var session = await OpenGreedySession(Model, cancellation);
                _sessionId = session.Id;
                fed = await client.Generation.FeedAsync(new FeedRequest { SessionId = session.Id, Text = Concat(Passage, Position), TopAlternatives = 3 }, cancellationToken: cancellation);
            }
            lock (_gate) _next = fed.Next;
        }
        catch (RpcException e)
        {
            // The server is unreachable, or no new session could be had: this game is over.
            string? left;
            lock (_gate)
            {
                left = _sessionId;
                _sessionId = null;
                Message = $"{ErrorText.Describe(e)}. The game stopped: press Enter to start another.";
            }
            Interlocked.Increment(ref _version);
            // A session reopened for the game whose first feed failed would hold a place in the key's quota until it expired.
            if (left != null)
                try { await client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = left }, cancellationToken: cancellation); }
                catch (Exception closing) when (closing is RpcException or OperationCanceledException) { }
            return;
        }
        if (!Playing) lock (_gate) Message = $"Passage done: you {PlayerScore}, the model {ModelScore}. Press Enter for another.";
        Interlocked.Increment(ref _version);
    }

    /// <summary>The model's guess is its most likely char: a greedy session.</summary>
    private async Task<Session> OpenGreedySession(string model, CancellationToken cancellation) =>
        await client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = model, Sampling = new SamplingSettings { Temperature = 0 } }, cancellationToken: cancellation);

    public async Task StopAsync()
    {
        if (_sessionId == null) return;
        try { await client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = _sessionId }); } catch (RpcException) { }
        _sessionId = null;
    }

    /// <summary>The first <paramref name="count"/> runes of <paramref name="runes"/> as text.</summary>
    private static string Concat(IReadOnlyList<Rune> runes, int count)
    {
        var text = new StringBuilder(count);
        for (var i = 0; i < count; i++) text.Append(runes[i].ToString());
        return text.ToString();
    }
}

/// <summary>A game that cannot start for a reason the player can act on (shown as its message).</summary>
public sealed class GameCannotStartException(string message) : Exception(message);
