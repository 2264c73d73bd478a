using System.Text;
using System.Threading.Channels;
using CharRnn.Engine.Text;
using CharRnn.Engine.Sampling;
using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Models;
using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.Sessions;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>
/// Generation sessions. Every touch of a session's state runs on the device thread via
/// <see cref="DeviceWorker.Run{T}"/>; streaming calls read what the device loop produces.
/// </summary>
public sealed class GenerationService(SessionStore sessions, ModelStore models, Jobs.JobQueue jobs, DeviceWorker worker, CharRateLimiter rate, ServerLifetime lifetime, IOptions<ServerOptions> options,
    ILogger<GenerationService> logger) : Api.Generation.GenerationBase
{
    private const int MaxAlternatives = 10;
    private const int MaxPredictChars = 200;
    private const int MaxStopLength = 1000;
    private readonly ServerLimits _limits = options.Value.Limits;

    public override async Task<Api.Session> OpenSession(Api.OpenSessionRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var name = ModelStore.ValidateName(request.ModelName);
        jobs.ThrowIfUnsaved(name, caller);
        if (!models.CanRead(name, caller) || !models.Exists(name))
            throw models.NoModelFor(name, caller);
        var settings = ProtoMapper.FromProto(request.Sampling);
        CheckTextLimit(request.Prime, "prime");
        sessions.EnsureRoom(caller);
        // A model not on the device yet is read and built here, off the device thread (streams go on
        // meanwhile), by one open at a time: the next finds it on the device.
        using var loadTurn = models.IsOnDevice(name) ? null : await models.HoldLoadTurn(name, context.CancellationToken);
        var preloaded = await Task.Run(() => models.Preload(name, worker.Device));
        var taken = false;
        LoadedModel model;
        GenerationSession engine;
        try
        {
            (model, engine) = await worker.Run(() =>
            {
                sessions.EnsureRoom(caller);
                taken = true; // Acquire takes it, or disposes it
                var model = models.Acquire(name, worker.Device, preloaded);
                try { return (model, new GenerationSession(model.Trained.Model, model.Trained.Vocabulary, settings)); }
                catch { models.Release(model); throw; }
            }, context.CancellationToken, caller.Name);
        }
        finally
        {
            if (!taken) preloaded?.Dispose(); // never handed on: cancelled, refused, or the server stopping
            loadTurn?.Dispose(); // the model is on the device (or failed to be): the next open may go on
        }
        ServerSession session;
        try
        {
            // Nobody knows the session yet: the pieces need no check that it is free.
            var (rest, _, _) = await FeedLeadingPieces(null, engine, request.Prime, "prime", reset: false, context.CancellationToken, caller.Name);
            session = await worker.Run(() =>
            {
                sessions.EnsureRoom(caller); // again, with the add: the device thread orders concurrent opens and forks
                Feed(engine, rest, "prime");
                var s = new ServerSession(SessionStore.NewId(), caller.Name, model, engine, sessions.IdleTimeout, sessions.Time) { KeyHash = caller.KeyHash };
                s.Snapshot();
                sessions.Add(s);
                return s;
            }, context.CancellationToken, caller.Name);
        }
        catch
        {
            try { await worker.Run(() => { engine.Dispose(); models.Release(model); }, CancellationToken.None, caller.Name); }
            catch (ServerException) { } // shutting down: the process frees it
            throw;
        }
        await CloseIfAbandoned(session, context);
        logger.LogInformation("Session {SessionId} opened on model {Model} by {Peer}", session.Id, name, context.Peer);
        return ProtoMapper.ToProto(session);
    }

    public override async Task Generate(Api.GenerateRequest request, IServerStreamWriter<Api.GenerateResponse> responseStream, ServerCallContext context)
    {
        if (request.MaxChars <= 0)
            throw ServerException.Invalid($"max_chars = {request.MaxChars} is not allowed; ask for 1 to {_limits.MaxCharsPerCall} characters.");
        if (request.MaxChars > _limits.MaxCharsPerCall)
            throw ServerException.Invalid($"max_chars = {request.MaxChars:N0} is more than this server generates per call ({_limits.MaxCharsPerCall:N0}, limit max_chars_per_call); continue with another call.");
        if (request.TopAlternatives is < 0 or > MaxAlternatives)
            throw ServerException.Invalid($"top_alternatives = {request.TopAlternatives} is not allowed; use 0 to {MaxAlternatives}.");
        if (request.Stop.Length > MaxStopLength)
            throw ServerException.Invalid($"stop has {request.Stop.Length} UTF-16 code units; use at most {MaxStopLength}.");
        if (request.MaxChars > _limits.MaxCharsPerMinutePerKey)
            throw ServerException.Invalid($"max_chars = {request.MaxChars:N0} is more than a key may generate in a minute on this server ({_limits.MaxCharsPerMinutePerKey:N0}, limit max_chars_per_minute_per_key); ask for fewer.");
        var charsPerMessage = CharsPerMessage(request);
        CheckTextLimit(request.Prime, "prime");
        var caller = Caller.Of(context);
        var session = sessions.Get(request.SessionId, caller);
        using var streaming = session.Streaming();
        CheckStop(request.Stop, session.Model.Trained.Vocabulary);
        var reserved = rate.Reserve(caller, request.MaxChars);

        // End the stream ourselves just before the client's deadline, with a clean DEADLINE_EXCEEDED
        // status: left to the framework, a stream still being written at the deadline is reset, which
        // a client may see as UNAVAILABLE.
        using var timer = new CancellationTokenSource();
        var flushUntil = DateTime.MaxValue;
        if (context.Deadline < DateTime.MaxValue)
        {
            var left = context.Deadline - DateTime.UtcNow;
            var margin = TimeSpan.FromMilliseconds(Math.Clamp(left.TotalMilliseconds * 0.2, 50, 250)); // room to send the status first
            if (left - margin < MaxTimerDelay) timer.CancelAfter(Max(TimeSpan.Zero, left - margin)); // beyond ~49 days a timer cannot be set, nor needed
            flushUntil = context.Deadline - margin * 0.75; // queued chars go out in the margin's first quarter
        }
        // The caller's key removed ends the stream too: its sessions are closed, but a key may stream another's (an admin).
        using var call = lifetime.Link(context);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(call.Token, timer.Token);
        var generation = new GenerationRequest(session, request.MaxChars, request.Stop, request.TopAlternatives, deadline.Token, charsPerMessage);
        try
        {
            var (rest, _, hold) = await FeedLeadingPieces(session, session.Engine, request.Prime, "prime", reset: false, context.CancellationToken, session.Owner);
            await RunLetGo(session, hold, () =>
            {
                ClaimForGeneration(session);
                try { Feed(session.Engine, rest, "prime"); }
                catch { session.Generating = false; throw; }
                worker.Start(generation);
                return true;
            }, context.CancellationToken);
        }
        catch
        {
            CharRateLimiter.Refund(reserved, request.MaxChars);
            throw;
        }

        using var _ = logger.BeginScope("session {SessionId}", session.Id); // a template: the console log prints it as written
        try
        {
            await Stream(generation, request, responseStream, context, deadline, timer, flushUntil);
        }
        finally
        {
            // However the stream ended (a failed write, too), the loop must stop stepping for it and
            // free the session: otherwise it stays "generating" for good. A finished call is gone already.
            await deadline.CancelAsync();
            worker.Wake();
            CharRateLimiter.Refund(reserved, request.MaxChars - generation.Delivered);
        }
    }

    private async Task Stream(GenerationRequest generation, Api.GenerateRequest request, IServerStreamWriter<Api.GenerateResponse> responseStream,
        ServerCallContext context, CancellationTokenSource deadline, CancellationTokenSource timer, DateTime flushUntil)
    {
        var sent = 0;
        var finished = false; // the message with a finish_reason has gone: the call ends OK, whatever the timer
        GenerationOutput? held = null; // read from the channel as the deadline came: SendTheRest sends it first
        try
        {
            // Only the wait is cut short at our deadline: cancelling a write in progress resets the stream.
            // ReadAllAsync checks its token only when the channel runs dry, and a fast model keeps it
            // full, so the deadline is checked before each write too.
            await foreach (var output in generation.Output.Reader.ReadAllAsync(deadline.Token))
            {
                if (deadline.Token.IsCancellationRequested) { held = output; deadline.Token.ThrowIfCancellationRequested(); }
                (var chars, finished) = await Send(output, generation, request, responseStream, context);
                sent += chars;
            }
        }
        catch (OperationCanceledException) when (lifetime.Stopping.IsCancellationRequested)
        {
            throw lifetime.Unavailable();
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested)
        {
            if (finished) return; // the deadline came as the last message was written, or the channel's end was read
            var (rest, restFinished) = await SendTheRest(generation, held, request, responseStream, context, flushUntil);
            sent += rest;
            if (restFinished) return; // every char reached the client in time: the call did what it asked
            var unsent = generation.Delivered - sent;
            var lost = unsent > 0 ? $"; {unsent} more were generated but could not be sent in time, and the session's state is past them" : "";
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"The call's deadline passed after {sent} of {request.MaxChars} characters{lost}; the session keeps its state for the next call."));
        }
    }

    /// <summary>
    /// At our deadline, sends the chars already generated and queued for this stream: the session's
    /// state is past them, so a client that continues in the next call would otherwise miss them.
    /// Returns how many it sent before <paramref name="flushUntil"/>, and whether the last had a finish_reason.
    /// </summary>
    private static async Task<(int Sent, bool Finished)> SendTheRest(GenerationRequest generation, GenerationOutput? held, Api.GenerateRequest request,
        IServerStreamWriter<Api.GenerateResponse> responseStream, ServerCallContext context, DateTime flushUntil)
    {
        var (sent, finished) = (0, false);
        using var limit = new CancellationTokenSource(Max(TimeSpan.Zero, flushUntil - DateTime.UtcNow));
        try
        {
            if (held is { } first && !limit.IsCancellationRequested) (sent, finished) = await Send(first, generation, request, responseStream, context);
            // The device loop ends the channel within a step of the deadline, and may add a char until then.
            await foreach (var output in generation.Output.Reader.ReadAllAsync(limit.Token))
            {
                if (limit.IsCancellationRequested) break; // the client has no time left to read more before its deadline
                (var chars, finished) = await Send(output, generation, request, responseStream, context);
                sent += chars;
            }
        }
        catch (OperationCanceledException)
        {
            // The channel ended with the call's cancellation, after its last char; or time ran out.
        }
        return (sent, finished);
    }

    /// <summary>
    /// Writes one message (with coalesce, joined with the outputs waiting behind it); returns the chars it held, and whether it ended the call.
    /// A message with another already waiting behind it is not flushed: the last of a burst flushes them
    /// all, one write to the connection instead of one per char (still one message each). A stream that
    /// keeps up, as one alone does, has nothing waiting and flushes every char at once.
    /// </summary>
    private static async Task<(int Chars, bool Finished)> Send(GenerationOutput output, GenerationRequest generation, Api.GenerateRequest request,
        IServerStreamWriter<Api.GenerateResponse> responseStream, ServerCallContext context)
    {
        if (request.Coalesce) output = GenerationRequest.JoinReady(output, generation.Output.Reader);
        responseStream.WriteOptions = generation.Output.Reader.TryPeek(out _) ? FlushLater : null;
        await responseStream.WriteAsync(ProtoMapper.ToProto(output, request.IncludeProbabilities), context.CancellationToken);
        return (output.Chars, output.Finish != GenerationFinish.None);
    }

    private static readonly WriteOptions FlushLater = new(WriteFlags.BufferHint);

    private static int CharsPerMessage(Api.GenerateRequest request)
    {
        var n = request.CharsPerMessage == 0 ? 1 : request.CharsPerMessage;
        if (n is < 1 or > GenerationRequest.MaxCharsPerMessage)
            throw ServerException.Invalid($"chars_per_message = {request.CharsPerMessage} is not allowed; use 1 to {GenerationRequest.MaxCharsPerMessage} (0 means 1).");
        if (n > 1 && (request.IncludeProbabilities || request.TopAlternatives > 0))
            throw ServerException.Invalid($"chars_per_message = {n} cannot go with include_probabilities or top_alternatives, which describe one char per message; use chars_per_message 1 for those.");
        if (request.Coalesce && (request.IncludeProbabilities || request.TopAlternatives > 0))
            throw ServerException.Invalid("coalesce cannot go with include_probabilities or top_alternatives, which describe one char per message; turn coalesce off for those.");
        return n;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(int.MaxValue - 1);

    public override async Task<Api.FeedResponse> Feed(Api.FeedRequest request, ServerCallContext context)
    {
        CheckTextLimit(request.Text, "text");
        if (request.TopAlternatives is < 0 or > MaxAlternatives)
            throw ServerException.Invalid($"top_alternatives = {request.TopAlternatives} is not allowed; use 0 to {MaxAlternatives}.");
        var session = sessions.Get(request.SessionId, Caller.Of(context));
        var (rest, _, hold) = await FeedLeadingPieces(session, session.Engine, request.Text, "text", reset: false, context.CancellationToken, session.Owner);
        return await RunLetGo(session, hold, () =>
        {
            EnsureIdle(session);
            Feed(session.Engine, rest, "text");
            session.Snapshot();
            var response = new Api.FeedResponse { CharactersSeen = session.CharactersSeen };
            if (request.TopAlternatives > 0)
                response.Next.AddRange(ProtoMapper.ToProto(CharSampler.Top(session.Engine.NextLogits, request.TopAlternatives)
                    .Select(t => (session.Engine.Vocabulary[t.Id], t.Probability))));
            return response;
        }, context.CancellationToken);
    }

    public override async Task<Api.Session> Fork(Api.ForkRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var source = sessions.Get(request.SessionId, caller);
        sessions.EnsureRoom(caller);
        // A share taken back stops new sessions on the model, forks included (the source session itself lives on).
        // Checked here, not in the device command: it reads the database, which the device thread must not wait on.
        if (!models.CanRead(source.Model.Name, caller))
            throw ModelStore.NoModel(source.Model.Name);
        var fork = await worker.Run(() =>
        {
            EnsureIdle(source);
            sessions.EnsureRoom(caller); // again: the device thread orders concurrent opens and forks
            var engine = source.Engine.Fork();
            source.Model.Sessions++;
            var s = new ServerSession(SessionStore.NewId(), caller.Name, source.Model, engine, sessions.IdleTimeout, sessions.Time) { KeyHash = caller.KeyHash };
            s.Snapshot();
            sessions.Add(s);
            return s;
        }, context.CancellationToken, caller.Name);
        await CloseIfAbandoned(fork, context);
        return ProtoMapper.ToProto(fork);
    }

    public override async Task<Api.Session> Reset(Api.ResetRequest request, ServerCallContext context)
    {
        var session = sessions.Get(request.SessionId, Caller.Of(context));
        await worker.Run(() =>
        {
            EnsureIdle(session);
            session.Engine.Reset();
            session.Snapshot();
        }, context.CancellationToken, session.Owner);
        return ProtoMapper.ToProto(session);
    }

    public override async Task<Api.Session> Configure(Api.ConfigureRequest request, ServerCallContext context)
    {
        var session = sessions.Get(request.SessionId, Caller.Of(context));
        _ = ProtoMapper.FromProto(request.Sampling, session.Engine.Settings); // bad settings are INVALID_ARGUMENT, busy or not
        await worker.Run(() =>
        {
            EnsureIdle(session);
            // A seed sent restarts the sequence even if it is the current one: that is how a client replays.
            session.Engine.Configure(ProtoMapper.FromProto(request.Sampling, session.Engine.Settings), restartRandom: request.Sampling?.HasSeed == true);
            session.Snapshot();
        }, context.CancellationToken, session.Owner);
        return ProtoMapper.ToProto(session);
    }

    public override Task<Api.Session> GetSession(Api.GetSessionRequest request, ServerCallContext context) =>
        Task.FromResult(ProtoMapper.ToProto(sessions.Get(request.SessionId, Caller.Of(context))));

    public override async Task<Api.CloseSessionResponse> CloseSession(Api.CloseSessionRequest request, ServerCallContext context)
    {
        var session = sessions.Get(request.SessionId, Caller.Of(context));
        if (sessions.Remove(session.Id, out _))
            await worker.Run(() => SessionCloser.Close(session, worker, models), CancellationToken.None, session.Owner);
        logger.LogInformation("Session {SessionId} closed", session.Id);
        return new Api.CloseSessionResponse();
    }

    /// <summary>
    /// Type with the model. Requests are read as they come; each one advances the session over
    /// the typed text and starts a prediction on a fork, cancelling the previous prediction.
    /// All responses go through one channel to the stream's single writer.
    /// </summary>
    public override async Task Interact(IAsyncStreamReader<Api.InteractRequest> requestStream, IServerStreamWriter<Api.InteractResponse> responseStream,
        ServerCallContext context)
    {
        using var call = lifetime.Link(context);
        // Bounded, dropping the oldest: a client that types on but never reads must not grow the server's
        // memory by a prediction per keystroke (what is dropped first is stale by then).
        var outgoing = Channel.CreateBounded<Api.InteractResponse>(new BoundedChannelOptions(4 * MaxPredictChars) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest });
        var newest = new System.Runtime.CompilerServices.StrongBox<long>(-1); // the latest request read
        var writer = Task.Run(async () =>
        {
            // A prediction is queued whole in a moment; on a slow link, what a newer request made stale is dropped here.
            await foreach (var response in outgoing.Reader.ReadAllAsync(context.CancellationToken))
                if (response.RequestIndex >= Volatile.Read(ref newest.Value))
                    await responseStream.WriteAsync(response, context.CancellationToken);
        });

        ServerSession? session = null;
        CancellationTokenSource? prediction = null;
        var predictions = new List<Task>();
        long index = -1;
        try
        {
            await foreach (var request in requestStream.ReadAllAsync(call.Token))
            {
                index++;
                Volatile.Write(ref newest.Value, index);
                if (session == null || (request.SessionId.Length > 0 && request.SessionId != session.Id))
                    session = sessions.Get(request.SessionId, Caller.Of(context));
                CheckTextLimit(request.Text, "text");
                var length = request.HasPredictChars ? request.PredictChars : 20;
                if (length is < 0 or > MaxPredictChars)
                    throw ServerException.Invalid($"predict_chars = {length} is not allowed; use 0 to {MaxPredictChars}.");

                await CancelStale(prediction);
                prediction = CancellationTokenSource.CreateLinkedTokenSource(call.Token);
                var current = session;
                CharRateLimiter.Reservation? reserved = null;
                ServerSession? fork;
                var (rest, resetDone, hold) = await FeedLeadingPieces(current, current.Engine, request.Text, "text", request.Reset, call.Token, current.Owner);
                try
                {
                    fork = await RunLetGo(current, hold, () =>
                    {
                        EnsureIdle(current);
                        if (request.Reset && !resetDone)
                        {
                            Encodes(current.Engine, rest, "text"); // a refused text leaves the session as it was, not reset
                            current.Engine.Reset();
                        }
                        Feed(current.Engine, rest, "text");
                        current.Snapshot();
                        if (length == 0) return null;
                        // The typed text is fed whatever the quota (the session stays with what the client typed);
                        // only the prediction counts against the key's chars.
                        reserved = rate.Reserve(Caller.Of(context), length);
                        var engine = current.Engine.Fork();
                        current.Model.Sessions++; // the fork holds the model too, until Predict frees it
                        return new ServerSession(current.Id + "/prediction", current.Owner, current.Model, engine, current.IdleTimeout, current.Time) { KeyHash = current.KeyHash };
                    }, context.CancellationToken);
                }
                catch
                {
                    if (reserved != null) CharRateLimiter.Refund(reserved, length);
                    throw;
                }
                // A long typing session must not keep a task and a token registration per keystroke: each
                // prediction frees its own when done.
                var source = prediction;
                if (fork == null) source.Dispose();
                else predictions.Add(Predict(fork, length, index, outgoing.Writer, reserved!, source.Token).ContinueWith(t => { source.Dispose(); return t; }, TaskScheduler.Default).Unwrap());
                predictions.RemoveAll(p => p.IsCompletedSuccessfully);
                if (predictions.FirstOrDefault(p => p.IsFaulted) is { } failed) await failed; // reported now, not when the client stops typing
                if (writer.IsFaulted) await writer; // a write that failed other than by cancellation ends the call, not every later prediction silently
            }
            if (prediction != null) await Task.WhenAll(predictions);
        }
        catch (OperationCanceledException) when (lifetime.Stopping.IsCancellationRequested)
        {
            throw lifetime.Unavailable();
        }
        finally
        {
            await CancelStale(prediction);
            await Task.WhenAll(predictions.Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default)));
            outgoing.Writer.TryComplete();
            await writer.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// A client that gave up (deadline, cancel) while its session was being made never learns its id:
    /// the session is closed rather than left to hold a place in the quotas until it expires.
    /// </summary>
    private async Task CloseIfAbandoned(ServerSession session, ServerCallContext context)
    {
        if (!context.CancellationToken.IsCancellationRequested) return;
        if (sessions.Remove(session.Id, out _))
            await worker.Run(() => SessionCloser.Close(session, worker, models), CancellationToken.None, session.Owner);
        context.CancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Characters fed per device command. A long text goes in pieces, so that other sessions'
    /// streams and the training job run between them: fed at once, a 20,000-char prime held an
    /// LSTM server's device for seconds.
    /// </summary>
    internal const int FeedPiece = 256;

    /// <summary>
    /// Feeds all but the last piece of a long <paramref name="text"/>, a device command each, and
    /// returns the rest for the caller's own command (<see cref="RunLetGo{T}"/>) to feed along with
    /// what must follow it at once (a snapshot, a generation's start). The whole text is checked
    /// first, so an unknown character moves nothing; with <paramref name="reset"/> the session is
    /// reset before the first piece and ResetDone says so. From the first piece to the caller's
    /// command, <paramref name="session"/> (null while it is being opened: nobody knows it yet) is
    /// held by Hold: other calls on it are refused, so none lands between two pieces. A text of one
    /// piece comes back as it is, nothing done, nothing held. A call that fails or is cancelled
    /// midway lets the session go and leaves the pieces fed so far fed (characters_seen says how many).
    /// </summary>
    private async Task<(string Tail, bool ResetDone, object? Hold)> FeedLeadingPieces(ServerSession? session, GenerationSession engine, string text, string field,
        bool reset, CancellationToken cancellation, string owner)
    {
        if (text.Length <= FeedPiece) return (text, false, null);
        var pieces = Pieces(text);
        if (pieces.Count == 1) return (text, false, null);
        var hold = new object();
        try
        {
            for (var i = 0; i < pieces.Count - 1; i++)
            {
                var (piece, first) = (pieces[i], i == 0);
                await worker.Run(() =>
                {
                    if (session != null)
                    {
                        EnsureIdle(session, hold);
                        session.FedBy = hold;
                    }
                    if (first)
                    {
                        Encodes(engine, text, field);
                        if (reset) engine.Reset();
                    }
                    Feed(engine, piece, field);
                    session?.Snapshot();
                }, cancellation, owner);
            }
        }
        catch
        {
            if (session != null) await LetGo(session, hold);
            throw;
        }
        return (pieces[^1], reset, hold);
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

    /// <summary><paramref name="text"/> cut every <see cref="FeedPiece"/> characters (runes: a surrogate pair stays whole).</summary>
    private static List<string> Pieces(string text)
    {
        var pieces = new List<string>();
        int start = 0, end = 0, count = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            end += rune.Utf16SequenceLength;
            if (++count < FeedPiece) continue;
            pieces.Add(text[start..end]);
            (start, count) = (end, 0);
        }
        if (end > start) pieces.Add(text[start..end]);
        return pieces;
    }

    /// <summary>
    /// Feeds a request's text; a character the model does not know is INVALID_ARGUMENT naming the
    /// field (Feed encodes the whole text before it moves the state, so a refused one moves nothing).
    /// </summary>
    private static void Feed(GenerationSession engine, string text, string field)
    {
        try { engine.Feed(text); }
        catch (UnknownCharactersException e) { throw ServerException.Invalid($"{field}: {e.Message}"); }
    }

    /// <summary>The same check without feeding: before a reset, which a refused text must not cause.</summary>
    private static void Encodes(GenerationSession engine, string text, string field)
    {
        try { engine.Vocabulary.Encode(text); }
        catch (UnknownCharactersException e) { throw ServerException.Invalid($"{field}: {e.Message}"); }
    }

    /// <summary>Stops the previous keystroke's prediction; one that already ended has freed its token source.</summary>
    private static async Task CancelStale(CancellationTokenSource? prediction)
    {
        if (prediction == null) return;
        try { await prediction.CancelAsync(); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>Streams a greedy-or-sampled continuation from a fork, then frees the fork.</summary>
    private async Task Predict(ServerSession fork, int length, long index, ChannelWriter<Api.InteractResponse> output, CharRateLimiter.Reservation reserved,
        CancellationToken cancellation)
    {
        var generation = new GenerationRequest(fork, length, "", 0, cancellation);
        try
        {
            await worker.Run(() => { fork.Generating = true; worker.Start(generation); }, cancellation, fork.Owner);
            await foreach (var o in generation.Output.Reader.ReadAllAsync(cancellation))
            {
                await output.WriteAsync(new Api.InteractResponse
                {
                    RequestIndex = index,
                    Text = o.Text,
                    Probability = o.Last.Probability,
                    Done = o.Finish != GenerationFinish.None,
                    CharactersSeen = o.CharactersSeen,
                }, cancellation);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // A newer keystroke made this prediction stale.
        }
        finally
        {
            CharRateLimiter.Refund(reserved, length - generation.Delivered);
            await worker.Run(() => SessionCloser.Close(fork, worker, models), CancellationToken.None, fork.Owner);
        }
    }

    /// <summary>A stop string with a char the model never generates could never match: the call would run to max_chars instead.</summary>
    private static void CheckStop(string stop, Vocabulary vocabulary)
    {
        // NUL is in every vocabulary as padding, and never generated.
        var never = stop.EnumerateRunes().Where(r => r.Value == 0 || !vocabulary.Contains(r)).Distinct().ToList();
        if (never.Count == 0) return;
        var shown = string.Join(", ", never.Take(10).Select(Vocabulary.Describe));
        var lowercase = vocabulary.Lowercase && never.Any(Rune.IsUpper) ? " (it was trained on lowercased text)" : "";
        throw ServerException.Invalid($"stop has {never.Count} character(s) this model never generates{lowercase}: {shown}; it could never match. " +
                                      "Use characters of the model's vocabulary (GetModel lists it).");
    }

    private void CheckTextLimit(string text, string field)
    {
        // Characters as everywhere in the API: Unicode scalar values, not UTF-16 code units.
        if (text.Length > _limits.MaxPrimeChars && text.EnumerateRunes().Count() is var count && count > _limits.MaxPrimeChars)
            throw ServerException.Invalid($"{field} has {count:N0} characters; this server feeds at most {_limits.MaxPrimeChars:N0} per call (limit max_prime_chars). Send it in pieces with Feed.");
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
            throw new ServerException(because.Code, because.Message); // a call between a long text's pieces learns why, as a streaming one does
        if (session.Closed)
            throw ServerException.NotFound($"Session '{session.Id}' was closed (by CloseSession or after {session.IdleTimeout.TotalSeconds:0} s idle); open a new session.");
        if (session.Generating)
            throw ServerException.Precondition($"Session '{session.Id}' is generating; wait for that Generate call to end or cancel it.");
        if (session.FedBy != null && session.FedBy != hold)
            throw ServerException.Precondition($"Session '{session.Id}' is being fed a long text by another call; wait for that call to end or cancel it.");
    }
}
