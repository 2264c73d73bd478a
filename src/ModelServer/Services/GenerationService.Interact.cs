using System.Threading.Channels;
using CharRnn.Engine.Sampling;
using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.Sessions;
using Grpc.Core;
using Api = CharRnn.Protos.V1;
using static CharRnn.ModelServer.Services.ProtocolLimits;

namespace CharRnn.ModelServer.Services;

/// <summary>Interact: a bidirectional stream of typed text in and predictions out, each prediction made in a fork and dropped when newer text arrives.</summary>
public sealed partial class GenerationService
{
    /// <summary>How an Interact text over a limit goes in instead.</summary>
    private const string InteractInPieces = "Send it in pieces, a message of this stream each (predict_chars 0 on all but the last).";

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
        var scores = new PendingTypedScores(); // char_scores fed and not yet sent
        var dropped = new PendingSkippedChars(); // unknown chars skipped and not yet told
        var writer = Task.Run(async () =>
        {
            long written = -1; // the newest request a message was sent for
            // A prediction is queued whole in a moment; on a slow link, what a newer request made stale is dropped here.
            // The scores go on the first message actually sent, so a dropped one takes none with it.
            await foreach (var response in outgoing.Reader.ReadAllAsync(context.CancellationToken))
                if (response.RequestIndex >= Volatile.Read(ref newest.Value))
                {
                    if (response.RequestIndex > written)
                    {
                        scores.Carry(response);
                        dropped.Carry(response);
                    }
                    written = response.RequestIndex;
                    await responseStream.WriteAsync(response, context.CancellationToken);
                }
        });

        ServerSession? session = null;
        IDisposable? open = null; // the stream keeps its session from expiring while the user pauses between keys
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
                {
                    session = Acting(request.SessionId, Caller.Of(context), context);
                    open?.Dispose();
                    open = session.Streaming();
                }
                CheckTextLimit(Caller.Of(context), request.Text, "text", InteractInPieces);
                var length = request.HasPredictChars ? request.PredictChars : 20;
                if (length is < 0 or > MaxPredictChars)
                    throw ServerException.Invalid($"predict_chars = {length} is not allowed; use 0 to {MaxPredictChars}.");

                await CancelStale(prediction);
                prediction = CancellationTokenSource.CreateLinkedTokenSource(call.Token);
                var current = session;
                // Before the charge: a text refused for its characters costs no quota, and dropped ones are not fed.
                var readable = ReadableText(current.Model.Trained.Vocabulary, current.UnknownChars, request.Text, "text");
                var text = readable.Text;
                CheckFitsTheMinute(Caller.Of(context), Runes(text), "text", InteractInPieces);
                var charge = ChargeFed(Caller.Of(context), text); // before anything of it is fed: a refused text leaves the session as it was
                CharRateLimiter.Reservation? reserved = null;
                ServerSession? fork;
                var typed = default(TextScore); // the text's per-char scores, from the pass that feeds it (char_scores)
                try
                {
                    var (rest, resetDone, hold, leading) = await FeedLeadingPieces(current, current.Generation, text, "text", request.Reset, call.Token, current.Owner, charge,
                        request.CharScores);
                    fork = await RunLetGo(current, hold, () =>
                    {
                        EnsureIdle(current);
                        if (request.Reset && !resetDone)
                        {
                            Encodes(current.Generation, rest, "text"); // a refused text leaves the session as it was, not reset
                            current.Generation.Reset();
                        }
                        typed = leading + Feed(current.Generation, rest, "text", current.Owner, request.CharScores);
                        charge.Fed();
                        current.Snapshot();
                        if (length == 0) return null;
                        // The typed text, counted above, is fed whatever the prediction's chars: the session stays with what the client typed.
                        reserved = rate.Reserve(Caller.Of(context), length);
                        var engine = current.Generation.Fork();
                        current.Model.Sessions++; // the fork holds the model too, until Predict frees it
                        return new ServerSession(current.Id + "/prediction", current.Owner, current.Model, engine, current.IdleTimeout, current.Time) { KeyHash = current.KeyHash };
                    }, context.CancellationToken);
                }
                catch
                {
                    if (reserved != null) CharRateLimiter.Refund(reserved, length);
                    charge.RefundUnlessFed();
                    throw;
                }
                scores.Fed(index, request.Reset, typed.Chars); // before the prediction can send its first message
                dropped.Fed(index, request.Reset, readable.Skipped);
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
            open?.Dispose();
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
            await foreach (var o in generation.Output.ReadAllAsync(cancellation))
            {
                await output.WriteAsync(ProtoMapper.ToInteractResponse(o, index), cancellation); // the skipped chars go on the first message sent
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // A newer keystroke made this prediction stale.
        }
        finally
        {
            // Counted after the close, a device command: no step is under way then, and the close has let the call go (a step
            // under way at the cancel may have added a char, charged then).
            try { await worker.Run(() => SessionCloser.Close(fork, worker, models), CancellationToken.None, fork.Owner); }
            finally { CharRateLimiter.Refund(reserved, length - generation.Delivered); }
        }
    }
}
