using System.Text;
using System.Threading.Channels;
using CharRnn.Engine.Text;
using CharRnn.Engine.Sampling;
using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.TrainedModels;
using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.Sessions;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Api = CharRnn.Protos.V1;
using static CharRnn.ModelServer.Services.ProtocolLimits;

namespace CharRnn.ModelServer.Services;

/// <summary>
/// Generation sessions. Every touch of a session's state runs on the device thread via
/// <see cref="DeviceWorker.Run{T}"/>; streaming calls read what the device loop produces.
/// </summary>
public sealed partial class GenerationService(SessionStore sessions, ModelStore models, Jobs.JobQueue jobs, DeviceWorker worker, CharRateLimiter rate, ServerLifetime lifetime, IOptions<ServerOptions> options,
    AdminSessionLog adminLog, ILogger<GenerationService> logger) : Api.Generation.GenerationBase
{
    private readonly ServerLimits _limits = options.Value.Limits;

    public override async Task<Api.Session> OpenSession(Api.OpenSessionRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var name = ModelNames.Validate(request.ModelName);
        jobs.ThrowIfUnsaved(name, caller);
        if (!models.CanRead(name, caller) || !models.Exists(name))
            throw models.NoModelFor(name, caller);
        var settings = ProtoMapper.FromProto(request.Sampling);
        var policy = ProtoMapper.FromProto(request.UnknownChars, "unknown_chars");
        CheckTextLimit(caller, request.Prime, "prime");
        sessions.EnsureRoom(caller);
        var charge = ChargeFed(caller, FewestCharsFed(request.Prime));
        ServerSession session;
        KnownText prime;
        try
        {
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
            try
            {
                prime = ReadableText(engine.Vocabulary, policy, request.Prime, "prime");
                // Charged before the model (its vocabulary) was at hand, as the least it could feed: skipped chars are not fed, a
                // model whose vocabulary has '\r' is fed "\r\n"'s.
                CheckFitsTheMinute(caller, Runes(prime.Text), "prime", PrimeInPieces);
                charge.ChargeAsFed(Runes(prime.Text), more => rate.ChargeFed(caller, more));
                // Nobody knows the session yet: the pieces need no check that it is free.
                var (rest, _, _, _) = await FeedLeadingPieces(null, engine, prime.Text, "prime", reset: false, context.CancellationToken, caller.Name, charge);
                session = await worker.Run(() =>
                {
                    sessions.EnsureRoom(caller); // again, with the add: the device thread orders concurrent opens and forks
                    Feed(engine, rest, "prime", caller.Name);
                    charge.Fed();
                    var s = new ServerSession(SessionStore.NewId(), caller.Name, model, engine, sessions.IdleTimeout, sessions.Time) { KeyHash = caller.KeyHash, UnknownChars = policy };
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
        }
        catch
        {
            charge.RefundUnlessFed(); // refused (no room, the prime's characters) or cancelled before any of it was fed
            throw;
        }
        await CloseIfAbandoned(session, context);
        logger.LogInformation("Session {SessionId} opened on model {Model} by {Owner} ({Peer})", session.Id, name, caller.Name, context.Peer);
        var opened = ProtoMapper.ToProto(session);
        // What a SKIP session dropped from the prime, told as Generate tells its prime's.
        opened.PrimeUnknownCharsSkipped = prime.SkippedCount;
        opened.PrimeSkippedChars.AddRange(prime.Skipped.Select(ProtoMapper.ToProto));
        return opened;
    }

    public override async Task Generate(Api.GenerateRequest request, IServerStreamWriter<Api.GenerateResponse> responseStream, ServerCallContext context)
    {
        if (request.MaxChars <= 0)
            throw ServerException.Invalid($"max_chars = {request.MaxChars} is not allowed; ask for 1 to {_limits.MaxCharsPerCall} characters.");
        if (request.MaxChars > _limits.MaxCharsPerCall)
            throw ServerException.Invalid($"max_chars = {request.MaxChars:N0} is more than this server generates per call ({_limits.MaxCharsPerCall:N0}, limit max_chars_per_call); continue with another call.");
        if (request.TopAlternatives is < 0 or > MaxAlternatives)
            throw ServerException.Invalid($"top_alternatives = {request.TopAlternatives} is not allowed; use 0 to {MaxAlternatives}.");
        if (StopString.TooLong(request.Stop) is { } tooLong)
            throw ServerException.Invalid($"stop {tooLong}");
        var caller = Caller.Of(context);
        if (request.MaxChars > _limits.MaxCharsPerMinutePerKey)
            throw ServerException.Invalid($"max_chars = {request.MaxChars:N0} is more than {QuotaHolder.PerMinute(caller.Name, "generate", _limits.MaxCharsPerMinutePerKey)}; ask for fewer.");
        var charsPerMessage = CharsPerMessage(request);
        CheckTextLimit(caller, request.Prime, "prime");
        var session = Acting(request.SessionId, caller, context);
        using var streaming = session.Streaming();
        CheckStop(request.Stop, session.Model.Trained.Vocabulary);
        // Before the charge: a prime refused for its characters costs no quota, and dropped ones are not fed.
        var readable = ReadableText(session.Model.Trained.Vocabulary, session.UnknownChars, request.Prime, "prime");
        var prime = readable.Text;
        var primeChars = Runes(prime);
        if (request.MaxChars + primeChars > _limits.MaxCharsPerMinutePerKey)
            throw ServerException.Invalid($"max_chars = {request.MaxChars:N0} and a prime of {primeChars:N0} characters make {request.MaxChars + primeChars:N0}, more than " +
                                          $"{QuotaHolder.PerMinute(caller.Name, "generate and feed", _limits.MaxCharsPerMinutePerKey)}; ask for fewer or prime with less.");
        // One step: taken apart, the reservation and the prime's charge could each fit and never both.
        var reserved = rate.Reserve(caller, request.MaxChars, primeChars);
        var charge = new FedCharge(reserved, primeChars);

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
        var generation = new GenerationRequest(session, request.MaxChars, request.Stop, request.TopAlternatives, deadline.Token, charsPerMessage) { PrimeSkipped = readable.Skipped };
        try
        {
            var (rest, _, hold, _) = await FeedLeadingPieces(session, session.Generation, prime, "prime", reset: false, context.CancellationToken, session.Owner, charge);
            await RunLetGo(session, hold, () =>
            {
                ClaimForGeneration(session);
                try { Feed(session.Generation, rest, "prime", session.Owner); }
                catch { session.Generating = false; throw; }
                charge.Fed();
                worker.Start(generation);
                return true;
            }, context.CancellationToken);
        }
        catch
        {
            CharRateLimiter.Refund(reserved, request.MaxChars);
            charge.RefundUnlessFed();
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
            // Counted once the loop has let the call go: a step under way at the cancel may still add a char, charged then.
            // Where the loop has let go already, at once, so a client retrying at once finds its quota back.
            void Refund() => CharRateLimiter.Refund(reserved, request.MaxChars - generation.Delivered);
            var refunded = generation.LetGo.IsCompleted ? Task.CompletedTask : generation.LetGo.ContinueWith(_ => Refund(), TaskScheduler.Default);
            if (refunded.IsCompleted) Refund();
            // At our deadline the status must reach the client before its own deadline (Stream waited for the loop as
            // long as it could): the refund follows when the loop lets go. Otherwise the call ends after its refund.
            if (!timer.IsCancellationRequested) await refunded;
        }
    }

    public override async Task<Api.FeedResponse> Feed(Api.FeedRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        CheckTextLimit(caller, request.Text, "text", FeedInPieces);
        if (request.TopAlternatives is < 0 or > MaxAlternatives)
            throw ServerException.Invalid($"top_alternatives = {request.TopAlternatives} is not allowed; use 0 to {MaxAlternatives}.");
        var session = Acting(request.SessionId, caller, context);
        // Before the charge: a text refused for its characters costs no quota, and dropped ones are not fed.
        var readable = ReadableText(session.Model.Trained.Vocabulary, session.UnknownChars, request.Text, "text");
        var text = readable.Text;
        CheckFitsTheMinute(caller, Runes(text), "text", FeedInPieces);
        var charge = ChargeFed(caller, text);
        try
        {
            var (rest, _, hold, leading) = await FeedLeadingPieces(session, session.Generation, text, "text", reset: false, context.CancellationToken, session.Owner, charge,
                request.CharScores);
            return await RunLetGo(session, hold, () =>
            {
                EnsureIdle(session);
                var score = leading + Feed(session.Generation, rest, "text", session.Owner, request.CharScores);
                charge.Fed();
                session.Snapshot();
                var response = new Api.FeedResponse
                {
                    CharactersSeen = session.CharactersSeen, Loss = score.Loss, CharactersScored = score.Characters, Accuracy = score.Accuracy,
                    UnknownCharsSkipped = readable.SkippedCount,
                };
                response.SkippedChars.AddRange(readable.Skipped.Select(ProtoMapper.ToProto));
                if (score.Chars != null) response.Chars.AddRange(score.Chars.Select(ProtoMapper.ToProto));
                if (request.TopAlternatives > 0)
                    response.Next.AddRange(ProtoMapper.ToProto(CharSampler.Top(session.Generation.NextLogits, request.TopAlternatives)
                        .Select(t => (session.Generation.Vocabulary[t.Id], t.Probability))));
                return response;
            }, context.CancellationToken);
        }
        catch
        {
            charge.RefundUnlessFed(); // the session busy or closed, or the call cancelled, before any of the text was fed
            throw;
        }
    }

    public override async Task<Api.Session> Fork(Api.ForkRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var source = Acting(request.SessionId, caller, context);
        sessions.EnsureRoom(caller);
        // A share taken back stops new sessions on the model, forks included (the source session itself lives on).
        // Checked here, not in the device command: it reads the database, which the device thread must not wait on.
        // The caller named a session, not a model: the answer says what became of the session's model.
        if (!models.CanRead(source.Model.Name, caller))
            throw ServerException.NotFound($"Session '{source.Id}' cannot be forked: its model '{source.Model.Name}' is no longer shared with key '{caller.Name}'. " +
                                           "The session itself still works (Generate, Feed); new sessions on the model, forks included, need it shared again.",
                                           ErrorReasons.ModelNotFound, ("model", source.Model.Name));
        // A fork is a new session on the model, which OpenSession would refuse once the model is deleted (the source lives on).
        // Renamed (again, perhaps): the name it is at now, if it still is a model; a model made since under the old name is another one.
        if (models.RenamedTo(source.Model) is { } renamed)
            throw ServerException.NotFound($"Session '{source.Id}' cannot be forked: its model '{source.Model.Name}' was renamed {(renamed == source.Model.Name ? "and renamed back" : $"to '{renamed}'")} (RenameModel) after the session opened. " +
                                           $"The session itself still works (Generate, Feed); open a new session on '{renamed}' (OpenSession) to fork from.",
                                           ErrorReasons.ModelNotFound, ("model", source.Model.Name));
        if (!models.Exists(source.Model.Name))
            throw ServerException.NotFound($"Session '{source.Id}' cannot be forked: its model '{source.Model.Name}' no longer exists (it was deleted). " +
                                           "The session itself still works (Generate, Feed); new sessions on the model, forks included, need the model.",
                                           ErrorReasons.ModelNotFound, ("model", source.Model.Name));
        var fork = await worker.Run(() =>
        {
            // Deleted and made again under its name: the fork would copy the old model's weights, which are no model's now.
            // Checked here, next to the copy (an in-memory read): checked before the command, a delete and a new model
            // in between would still have forked the old weights.
            if (models.Incarnation(source.Model.Name) != source.Model.Incarnation)
                throw ServerException.NotFound($"Session '{source.Id}' cannot be forked: its model '{source.Model.Name}' was deleted after the session opened, " +
                                               "and the model now under that name is another one. The session itself still works (Generate, Feed) on the deleted model's " +
                                               "weights; open a new session (OpenSession) to use the new model.",
                                               ErrorReasons.ModelNotFound, ("model", source.Model.Name));
            EnsureIdle(source);
            sessions.EnsureRoom(caller); // again: the device thread orders concurrent opens and forks
            var engine = source.Generation.Fork();
            source.Model.Sessions++;
            var s = new ServerSession(SessionStore.NewId(), caller.Name, source.Model, engine, sessions.IdleTimeout, sessions.Time) { KeyHash = caller.KeyHash, UnknownChars = source.UnknownChars };
            s.Snapshot();
            sessions.Add(s);
            return s;
        }, context.CancellationToken, caller.Name);
        await CloseIfAbandoned(fork, context);
        return ProtoMapper.ToProto(fork);
    }

    public override async Task<Api.Session> Reset(Api.ResetRequest request, ServerCallContext context)
    {
        var session = Acting(request.SessionId, Caller.Of(context), context);
        await worker.Run(() =>
        {
            EnsureIdle(session);
            session.Generation.Reset();
            session.Snapshot();
        }, context.CancellationToken, session.Owner);
        return ProtoMapper.ToProto(session);
    }

    public override async Task<Api.Session> Configure(Api.ConfigureRequest request, ServerCallContext context)
    {
        var session = Acting(request.SessionId, Caller.Of(context), context);
        _ = ProtoMapper.FromProto(request.Sampling, session.Generation.Settings); // bad settings are INVALID_ARGUMENT, busy or not
        var policy = request.HasUnknownChars ? ProtoMapper.FromProto(request.UnknownChars, "unknown_chars") : session.UnknownChars;
        await worker.Run(() =>
        {
            EnsureIdle(session);
            // A seed sent restarts the sequence even if it is the current one: that is how a client replays.
            session.Generation.Configure(ProtoMapper.FromProto(request.Sampling, session.Generation.Settings), restartRandom: request.Sampling?.HasSeed == true);
            session.UnknownChars = policy;
            session.Snapshot();
        }, context.CancellationToken, session.Owner);
        return ProtoMapper.ToProto(session);
    }

    /// <summary>
    /// A session of the caller's for a call that reads or changes its text (<see cref="SessionStore.Get"/>): an admin
    /// acting on another key's session is on the record (<see cref="AdminSessionLog"/>).
    /// </summary>
    private ServerSession Acting(string sessionId, Caller caller, ServerCallContext context)
    {
        var session = sessions.Get(sessionId, caller);
        adminLog.Acted(caller, session, context.Method);
        return session;
    }

    public override Task<Api.Session> GetSession(Api.GetSessionRequest request, ServerCallContext context) =>
        Task.FromResult(ProtoMapper.ToProto(sessions.Get(request.SessionId, Caller.Of(context))));

    public override Task<Api.ListSessionsResponse> ListSessions(Api.ListSessionsRequest request, ServerCallContext context)
    {
        var response = new Api.ListSessionsResponse();
        response.Sessions.AddRange(sessions.VisibleTo(Caller.Of(context)).Select(ProtoMapper.ToProto));
        return Task.FromResult(response);
    }

    public override async Task<Api.CloseSessionResponse> CloseSession(Api.CloseSessionRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var session = sessions.Get(request.SessionId, caller);
        if (sessions.Remove(session.Id, out _))
            await worker.Run(() => SessionCloser.Close(session, worker, models), CancellationToken.None, session.Owner);
        // Another key's session (an admin's sessions close ID) says by whom: its owner's client only learns it was closed.
        if (caller.Name == session.Owner) logger.LogInformation("Session {SessionId} closed ({Summary})", session.Id, session.Summary());
        else logger.LogInformation("Session {SessionId} closed ({Summary}) by key {Caller}", session.Id, session.Summary(), caller.Name);
        return new Api.CloseSessionResponse();
    }

    /// <summary>A stop string with a char the model never generates could never match: the call would run to max_chars instead.</summary>
    private static void CheckStop(string stop, Vocabulary vocabulary)
    {
        if (StopString.NeverGenerated(stop, vocabulary) is { } never)
            throw ServerException.Invalid($"stop {never} Use characters of the model's vocabulary (GetModel lists it).");
    }

    /// <summary>How a prime over a limit goes in instead; Feed and Interact say their own way.</summary>
    private const string PrimeInPieces = "Send it in pieces with Feed.";
    private const string FeedInPieces = "Send it in pieces, a Feed call each.";

    /// <param name="inPieces">How the call takes a longer text (either limit's): a prime is fed first with Feed; Feed and Interact say their own way.</param>
    private void CheckTextLimit(Caller caller, string text, string field, string inPieces = PrimeInPieces)
    {
        // Characters as everywhere in the API: Unicode scalar values, not UTF-16 code units.
        if (text.Length > _limits.MaxPrimeChars && Runes(text) is var count && count > _limits.MaxPrimeChars)
            throw ServerException.Invalid($"{field} has {count:N0} characters; this server feeds at most {_limits.MaxPrimeChars:N0} per call (limit max_prime_chars). {inPieces}");
        // Before the model is at hand, the least the text can feed: a "\r\n" a session reads as "\n" is one char. What it
        // feeds is checked again once the model's vocabulary says (a model whose vocabulary has '\r' is fed it).
        if (text.Length > _limits.MaxCharsPerMinutePerKey) CheckFitsTheMinute(caller, FewestCharsFed(text), field, inPieces);
    }

    /// <summary>Fed text counts against the key's chars a minute: a text larger than the whole minute could never be fed.</summary>
    private void CheckFitsTheMinute(Caller caller, long chars, string field, string inPieces)
    {
        if (chars > _limits.MaxCharsPerMinutePerKey)
            throw ServerException.Invalid($"{field} has {chars:N0} characters, more than {QuotaHolder.PerMinute(caller.Name, "feed", _limits.MaxCharsPerMinutePerKey)}. {inPieces}");
    }

}
