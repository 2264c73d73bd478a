using CharRnn.Engine.Sampling;
using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Errors;
using Grpc.Core;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>Generate's response stream: chars as the device loop makes them, gathered per message as asked, ended cleanly before the client's deadline.</summary>
public sealed partial class GenerationService
{
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
            await foreach (var output in generation.Output.ReadAllAsync(deadline.Token))
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
            await UntilTheLoopLetsGo(generation, flushUntil, context.Deadline);
            var unsent = generation.Delivered - sent;
            var lost = unsent > 0 ? $"; {unsent} more were generated but could not be sent in time, and the session's state is past them" : "";
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"The call's deadline passed after {sent} of {request.MaxChars} characters{lost}; the session keeps its state for the next call."));
        }
    }

    /// <summary>
    /// Waits (at most a quarter of the time left after the flush, a step's time many times over) for the loop to drop the
    /// cancelled call, so that the status counts a char a step under way at the deadline added: the session's state is
    /// past it (once seen in a test: 8512 chars seen, the status told of 8511 sent and none unsent).
    /// </summary>
    private async Task UntilTheLoopLetsGo(GenerationRequest generation, DateTime flushUntil, DateTime clientDeadline)
    {
        if (generation.LetGo.IsCompleted) return;
        worker.Wake(); // a loop asleep behind a full lead would drop the call only at its next wake-up
        var wait = clientDeadline == DateTime.MaxValue ? TimeSpan.FromMilliseconds(50) : (clientDeadline - flushUntil) / 4 - (DateTime.UtcNow - flushUntil);
        if (wait > TimeSpan.Zero) await generation.LetGo.WaitAsync(wait).ContinueWith(_ => { }, TaskScheduler.Default); // a timeout is an answer too: count as things stand
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
            await foreach (var output in generation.Output.ReadAllAsync(limit.Token))
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
        if (request.Coalesce) output = GenerationRequest.JoinReady(output, generation.Output);
        responseStream.WriteOptions = generation.Output.TryPeek(out _) ? FlushLater : null;
        var message = ProtoMapper.ToProto(output, request.IncludeProbabilities);
        var skipped = generation.TakePrimeSkipped();
        message.PrimeUnknownCharsSkipped = skipped.Sum(c => c.Count);
        message.PrimeSkippedChars.AddRange(skipped.Select(ProtoMapper.ToProto));
        await responseStream.WriteAsync(message, context.CancellationToken);
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
            throw ServerException.Invalid("coalesce cannot go with include_probabilities or top_alternatives, which describe one char per message; turn coalesce off for those.",
                field: "coalesce"); // its message opens with no "field =" to read the field from
        return n;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(int.MaxValue - 1);
}
