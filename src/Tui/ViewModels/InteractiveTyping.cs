using System.Threading.Channels;
using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using Grpc.Core;

namespace CharRnn.Tui.ViewModels;

/// <summary>
/// "Type with the model" over the Interact stream: each typed piece goes to the server, which
/// advances the session's state by one step per character and streams back a predicted
/// continuation. Only the prediction for the newest piece is kept (older ones are stale).
/// Each piece asks for its chars' scores too (char_scores), which come on the first message sent of
/// its prediction or, when that prediction went stale unsent, of a later one, with the scores of every
/// piece since: how surprised the model was by each typed char (<see cref="LossesFor"/>).
/// Thread-safe: keystrokes come from the UI thread, predictions from the stream.
/// </summary>
public sealed class InteractiveTyping : IAsyncDisposable
{
    private readonly CharRnnClient _client;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _send = new(1, 1);
    private AsyncDuplexStreamingCall<InteractRequest, InteractResponse>? _call;
    private Task _reader = Task.CompletedTask;
    private long _requests;
    private long _predictionFor = -1;
    private string _prediction = "";
    private int _version;
    private bool _broken; // the stream or its session failed: the next keystroke starts again
    private long _queued, _handled; // keystrokes queued, and taken by the pump: a prediction is for the text only once they are equal

    // Keystrokes queue here and one pump sends them in order (starting the stream first when needed).
    private readonly Channel<(string Model, InteractRequest Request)> _queue = Channel.CreateUnbounded<(string, InteractRequest)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _pump;
    private readonly CancellationTokenSource _closing = new(); // cancels the pump's calls when typing is disposed

    public InteractiveTyping(CharRnnClient client)
    {
        _client = client;
        _pump = Task.Run(Pump);
    }

    /// <summary>Queues newly typed text for <paramref name="model"/> (returns at once; never blocks the UI).</summary>
    public void Type(string model, string text) => Queue(model, new InteractRequest { Text = text });

    /// <summary>Queues a retype of the whole text from a reset state (after a deletion).</summary>
    public void Retype(string model, string whole) => Queue(model, new InteractRequest { Text = whole, Reset = true });

    private void Queue(string model, InteractRequest request)
    {
        lock (_gate)
        {
            _queued++; // from now the shown prediction is for older text: Tab must not accept it
            _scores.Edit(model, request.Text, request.Reset);
        }
        _queue.Writer.TryWrite((model, request));
    }

    private readonly TypedScores _scores = new(); // under _gate

    /// <summary>
    /// How surprised the model was by each char of <paramref name="typed"/> (the text as the view shows it): its
    /// loss in nats (-ln p), or null for a char not scored yet, left out, or typed while no text was queued here.
    /// </summary>
    public double?[] LossesFor(string typed)
    {
        lock (_gate) return _scores.LossesFor(typed);
    }

    /// <summary>
    /// <see cref="LossesFor(string)"/> where they are <paramref name="model"/>'s: none while the text was last queued for
    /// another (the model in use changed and nothing was typed since), whose stream still delivers its late replies.
    /// </summary>
    public double?[] LossesFor(string typed, string model)
    {
        lock (_gate) return _scores.Model == model ? _scores.LossesFor(typed) : new double?[typed.EnumerateRunes().Count()];
    }

    private async Task Pump()
    {
        var typed = ""; // everything typed so far, to retype into a new session
        await foreach (var (model, piece) in _queue.Reader.ReadAllAsync())
        {
            typed = piece.Reset ? piece.Text : typed + piece.Text;
            try
            {
                // A new model, or a stream that broke (server restarted, session expired): a new session, retyped from the start.
                var restart = Model != model || SessionId == null || Volatile.Read(ref _broken);
                if (restart) await StartAsync(model, _closing.Token);
                var text = Readable(piece.Text, out var left);
                var retype = restart || piece.Reset;
                var sent = retype ? Tail(typed) : piece.Text; // the chars the request's scores are of, as typed
                await SendAsync(retype ? new InteractRequest { Text = Readable(sent, out _), Reset = true } : new InteractRequest { Text = text },
                    new TypedScores.Sent(model, typed, typed.EnumerateRunes().Count() - sent.EnumerateRunes().Count(), sent));
                if (!Volatile.Read(ref _broken)) // the word on chars left out lasts until the next keystroke; they stay out of what the model reads
                    Error = left.Count == 0 ? null : $"{model} never saw {string.Join(", ", left.Select(Engine.Text.Vocabulary.Describe))}: left out of what it reads; type on";
            }
            catch (Exception e) // any error is shown, and typing goes on: an escape would end the pump and every later keystroke would go nowhere
            {
                Error = e is RpcException r ? ErrorText.Describe(r) : e.Message;
            }
            finally
            {
                lock (_gate) _handled++;
                Interlocked.Increment(ref _version);
            }
        }
    }

    /// <summary>Characters of the text a retype sends (after Backspace, a new model, a reconnect).</summary>
    public const int RetypeChars = 4000;

    /// <summary>
    /// The end of the text that a retype sends: the model's state hangs on the last few hundred
    /// characters, and a server refuses a text longer than its max_prime_chars (20,000 by default),
    /// which a long session of typing (or of Tab, 24 chars a press) reaches.
    /// </summary>
    private static string Tail(string typed)
    {
        if (typed.Length <= RetypeChars) return typed;
        var start = typed.Length - RetypeChars;
        if (char.IsLowSurrogate(typed[start])) start++; // never half a character
        return typed[start..];
    }

    public string? Model { get; private set; }
    public string? SessionId { get; private set; }
    public int PredictChars { get; set; } = 24;
    public int Version => Volatile.Read(ref _version);
    public string? Error { get; private set; }

    /// <summary>The continuation predicted after everything typed so far (may still be arriving).</summary>
    public string Prediction
    {
        get { lock (_gate) return _queued == _handled && _predictionFor == _requests - 1 ? _prediction : ""; }
    }

    /// <summary>
    /// <see cref="Prediction"/> where it is <paramref name="model"/>'s: the stream on the model typed with before stays
    /// open until the next keystroke (which starts one on the new model), and Tab must not accept its prediction meanwhile.
    /// </summary>
    public string PredictionFor(string model)
    {
        lock (_gate) return Model == model && _queued == _handled && _predictionFor == _requests - 1 ? _prediction : "";
    }

    /// <summary>
    /// The characters of <paramref name="text"/> the model can read: one outside its vocabulary would make the
    /// server refuse the text, and every retype after it, until deleted. Its own chars, a lowercased model's
    /// either case, and all of them for a model that maps unknown chars to one symbol (min_freq > 1).
    /// </summary>
    private string Readable(string text, out List<System.Text.Rune> left)
    {
        left = [];
        if (_vocabulary is not { } known) return text;
        var kept = new System.Text.StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value == 0 || !known.Contains(_lowercase ? System.Text.Rune.ToLowerInvariant(rune) : rune))
            {
                if (!left.Contains(rune)) left.Add(rune);
                continue;
            }
            kept.Append(rune.ToString());
        }
        return kept.ToString();
    }

    private HashSet<System.Text.Rune>? _vocabulary; // null: every char is read (an unknown symbol, or a model that could not be asked)
    private bool _lowercase;

    /// <summary>
    /// Opens a greedy session on the model and the stream to it. The session skips what its model cannot read
    /// (UNKNOWN_CHARS_SKIP): <see cref="Readable"/> leaves such chars out first, to name them, but a char it lets
    /// through (its vocabulary read before a change of the model, its case folding not quite the server's) must
    /// not end the stream and fail every retype after it.
    /// </summary>
    public async Task StartAsync(string model, CancellationToken cancellation = default)
    {
        await StopAsync();
        lock (_gate) { _prediction = ""; _predictionFor = -1; } // the old session's: a failed start must not leave it for Tab to accept
        var details = await _client.Catalog.GetModelAsync(new GetModelRequest { Name = model }, cancellationToken: cancellation);
        _vocabulary = details.Vocabulary.Contains('\uFFFD') ? null : [.. details.Vocabulary.EnumerateRunes()];
        _lowercase = details.Summary.Lowercase;
        var session = await _client.Generation.OpenSessionAsync(new OpenSessionRequest
        {
            ModelName = model, Sampling = new SamplingSettings { Temperature = 0 }, UnknownChars = UnknownChars.Skip,
        }, cancellationToken: cancellation);
        Model = model;
        SessionId = session.Id;
        Error = null;
        Volatile.Write(ref _broken, false);
        lock (_gate) { _requests = 0; _sent.Clear(); } // a new call numbers its requests from 0
        _endedWith = null;
        _call = _client.Generation.Interact(cancellationToken: cancellation);
        var call = _call;
        _reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var r in call.ResponseStream.ReadAllAsync())
                {
                    lock (_gate)
                    {
                        // A stale prediction's scores still hold for the text they were of, while that text is still there.
                        if (r.TypedScores.Count > 0)
                        {
                            _scores.Apply([.. _sent.Where(s => s.Key >= r.TypedScoresFrom && s.Key <= r.RequestIndex).OrderBy(s => s.Key).Select(s => s.Value)], r.TypedScores);
                            Interlocked.Increment(ref _version); // redrawn in their colours
                        }
                        // Messages come in order: no scores for this request or one before it are still to come.
                        foreach (var done in _sent.Keys.Where(k => k <= r.RequestIndex).ToList()) _sent.Remove(done);
                        if (r.RequestIndex != _requests - 1) continue; // stale
                        if (_predictionFor != r.RequestIndex) { _predictionFor = r.RequestIndex; _prediction = ""; }
                        _prediction += r.Text;
                    }
                    Interlocked.Increment(ref _version);
                }
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
            {
                _endedWith = e;
                Error = WhatNext(e);
                Volatile.Write(ref _broken, true);
                Interlocked.Increment(ref _version);
            }
            catch (RpcException)
            {
            }
        });
    }

    /// <summary>
    /// The error, and what typing on does: a lost session or server is opened again at the next
    /// keystroke, but text the model cannot read (a char outside its vocabulary) fails every retype
    /// until it is deleted.
    /// </summary>
    private static string WhatNext(RpcException e) => e.StatusCode == StatusCode.InvalidArgument
        ? $"{ErrorText.Describe(e)} Delete it to type on."
        : $"{ErrorText.Clause(e)}; type on to reconnect";

    private async Task SendAsync(InteractRequest request, TypedScores.Sent sent)
    {
        if (_call == null || SessionId == null) return;
        request.SessionId = SessionId;
        request.PredictChars = PredictChars;
        request.CharScores = true;
        await _send.WaitAsync();
        try
        {
            lock (_gate)
            {
                _requests++;
                _prediction = "";
                if (request.Reset) _sent.Clear(); // the server drops the scores of text before a reset
                _sent[_requests - 1] = sent;
            }
            Interlocked.Increment(ref _version);
            await _call.RequestStream.WriteAsync(request);
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            // A server that ends the call during this write (a message over its size limit) fails the write CANCELLED, or
            // "the call is complete": why it ended is the call's status, which its response stream ends with.
            var ended = await EndedWith();
            Error = (ended ?? e as RpcException) is { } r ? WhatNext(r) : e.Message + "; type on to reconnect";
            Volatile.Write(ref _broken, true);
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>What each request since the last message fed, by its index, until its scores come (on a later request's message when its prediction went stale unsent).</summary>
    private readonly Dictionary<long, TypedScores.Sent> _sent = [];

    private RpcException? _endedWith; // the status the current call's response stream ended with, unless CANCELLED

    /// <summary>The status the call ended with, once its response stream has read it (a call whose write failed is ending); null if none came.</summary>
    private async Task<RpcException?> EndedWith()
    {
        try { await _reader.WaitAsync(TimeSpan.FromSeconds(5)); } // a bound, should the stream not end: the write's own error is shown then
        catch (TimeoutException) { }
        return _endedWith;
    }

    public async Task StopAsync()
    {
        if (_call != null)
        {
            try { await _call.RequestStream.CompleteAsync(); } catch (Exception e) when (e is RpcException or InvalidOperationException) { }
            _call.Dispose();
            try { await _reader; } catch (RpcException) { }
            _call = null;
        }
        if (SessionId != null)
        {
            try { await _client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = SessionId }); }
            catch (Exception e) when (e is RpcException or ObjectDisposedException) { } // gone already, or the app is closing its channel
            SessionId = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The pump's calls end first, so that its StartAsync cannot open a session after StopAsync has closed this one.
        _queue.Writer.TryComplete();
        await _closing.CancelAsync();
        try { await _pump.WaitAsync(TimeSpan.FromSeconds(5)); } catch (TimeoutException) { }
        await StopAsync();
        _closing.Dispose();
    }
}
