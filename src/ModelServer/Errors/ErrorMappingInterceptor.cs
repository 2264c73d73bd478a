using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace CharRnn.ModelServer.Errors;

/// <summary>
/// The one place exceptions become gRPC statuses: server errors keep their code, the engine's
/// input errors become INVALID_ARGUMENT, a broken model file FAILED_PRECONDITION, and anything
/// unexpected INTERNAL (logged with its stack, shown to the client without it). Callers who are
/// not admins read messages without the server's paths (<see cref="PathRedaction"/>). Every status that leaves
/// here carries its details for programs (<see cref="ErrorDetails"/>: a reason code, a wait, the field at fault),
/// and a request id (<see cref="RequestIdTrailer"/>) that the server's log line for the failed call names too, so
/// that an operator handed a client's error finds its line.
/// </summary>
public sealed class ErrorMappingInterceptor(PathRedaction paths, Security.KeyRevocations revocations, Security.QuotaRefusalLog quotaRefusals,
    Security.RefusalLog refusals, ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context); }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && request is Grpc.Health.V1.HealthCheckRequest health
                                     && Translate(UnknownHealthService.Refusal(health.Service), context) is { } status) { throw status; }
        catch (Exception e) when (Translate(e, context) is { } status) { throw status; }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(request, responseStream, context); }
        catch (Exception e) when (Translate(e, context) is { } status) { throw status; }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(requestStream, responseStream, context); }
        catch (Exception e) when (Translate(e, context) is { } status) { throw status; }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(requestStream, context); }
        catch (Exception e) when (Translate(e, context) is { } status) { throw status; }
    }

    /// <summary>
    /// Counts the error by its status code (not CANCELLED) and, for a quota's refusal, the quota, which is logged too;
    /// returns the status to throw instead (with its details), or null to let the exception through.
    /// </summary>
    private RpcException? Translate(Exception e, ServerCallContext context)
    {
        // A stream's later message that does not parse is a refusal RefusalLog logs once a minute: its line's id, so that the line is found by it too.
        if (e is not ServerException && !context.CancellationToken.IsCancellationRequested && StorageRefusal.For(e, context.Method) is { } refusal)
        {
            // The operator's to see (the server's path, SQLite's words); the caller gets what it can act on.
            logger.LogWarning("{Method} by {Caller} not done: the disk refused a write: {Reason}", context.Method,
                Security.Caller.TryOf(context)?.Name ?? "an unknown caller", e.Message);
            e = refusal;
        }
        var malformed = e is Google.Protobuf.InvalidProtocolBufferException && !context.CancellationToken.IsCancellationRequested;
        var requestId = malformed ? refusals.Refused(context.Peer, context.Method, MessageLimits.MalformedMessageRefusal.NotParsedReason)
            : Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        var mapped = Map(e, context, requestId);
        if ((mapped ?? e as RpcException) is { StatusCode: not StatusCode.Cancelled } status
            && Capped(Security.Caller.TryOf(context) is { } caller ? paths.ForCaller(status.Status.Detail, caller.Admin) : status.Status.Detail) is var detail)
            // Built from the message as the caller reads it: the details repeat it (BadRequest's description), paths redacted.
            mapped = e is ServerException s ? ErrorDetails.Of(s, detail) : ErrorDetails.Of(status, detail);
        var code = mapped?.StatusCode ?? (e as RpcException)?.StatusCode ?? StatusCode.Cancelled;
        if (context.CancellationToken.IsCancellationRequested)
        {
            // A client that leaves (a watcher closed, Ctrl+C) is no failure of the server: counted, it would trip alerts.
            // Nor is what its call met after it left: a Generate cancelled, then its session closed at once, ends NOT_FOUND.
            // But a fault of the server's own is one however the call ended (Map logged it), and a call whose deadline
            // passed ended DEADLINE_EXCEEDED for its client (gRPC sent it), whatever its handler met after.
            if (code == StatusCode.Internal) Count(context, StatusCode.Internal, "");
            else if (context.Deadline <= DateTime.UtcNow) DeadlinePassed(context, "gRPC ended it at the deadline", requestId);
            return Identified(mapped, requestId);
        }
        if (code == StatusCode.DeadlineExceeded)
        {
            DeadlinePassed(context, mapped?.Status.Detail ?? "", requestId);
            return Identified(mapped, requestId);
        }
        var quota = (e as ServerException)?.Quota;
        if (code != StatusCode.Cancelled) Count(context, code, MetricReason(code, quota, malformed, (e as ServerException)?.Reason));
        if (quota != null) quotaRefusals.Refused(Security.Caller.TryOf(context)?.Name ?? "", quota, context.Method, e.Message);
        // One line a failed call, with its reason, not its message: the client has that, and it may echo what was sent.
        // The reason only where it says more than the code ("failed UNAVAILABLE UNAVAILABLE" said it twice).
        if (code is not StatusCode.Cancelled and not StatusCode.Internal) // INTERNAL is logged with its stack, the id in it (Map)
            logger.LogInformation("{Method} by {Caller} ({Peer}) failed {Code}{Reason} (request {RequestId})", context.Method,
                Security.Caller.TryOf(context)?.Name ?? "an unknown caller", context.Peer, ErrorReasons.Of(code),
                mapped == null || ErrorDetails.ReasonOf(mapped) == ErrorReasons.Of(code) ? "" : " " + ErrorDetails.ReasonOf(mapped), requestId);
        return Identified(mapped, requestId);
    }

    /// <summary>The trailer a failed call's request id travels in (the proto's conventions name it).</summary>
    public const string RequestIdTrailer = "charrnn-request-id";

    private static RpcException? Identified(RpcException? status, string requestId)
    {
        status?.Trailers.Add(RequestIdTrailer, requestId);
        return status;
    }

    private static void Count(ServerCallContext context, StatusCode code, string reason) =>
        Metrics.ServerMetrics.CountError(code, reason, Security.Caller.TryOf(context)?.Name); // which key keeps meeting it (a quota, a deadline)

    /// <summary>
    /// A call whose client's deadline passed, ended by our own timer just before it (Generate) or by gRPC at it: counted
    /// with its own reason and logged once, as information, for a deadline too short for the work asked is the client's
    /// choice, not a fault of the server, yet an operator asked why a client failed should find it.
    /// </summary>
    private void DeadlinePassed(ServerCallContext context, string detail, string requestId)
    {
        Count(context, StatusCode.DeadlineExceeded, Metrics.ServerMetrics.DeadlineReason);
        logger.LogInformation("{Method} by {Caller} ({Peer}) ended DEADLINE_EXCEEDED: {Detail} (request {RequestId})", context.Method,
            Security.Caller.TryOf(context)?.Name ?? "an unknown caller", context.Peer, detail, requestId);
    }

    /// <summary>
    /// charrnn_grpc_errors_total's reason, as deploy.md lists them: every UNAUTHENTICATED is about the API key ("auth"),
    /// a call ended because its key was removed included, as AuthInterceptor's refusals are; a full disk is "disk_full".
    /// </summary>
    private static string MetricReason(StatusCode code, string? quota, bool malformed, string? reason) =>
        malformed ? Metrics.ServerMetrics.MalformedMessageReason
        : reason == ErrorReasons.DiskFull ? Metrics.ServerMetrics.DiskFullReason
        : quota ?? (code == StatusCode.Unauthenticated ? Metrics.ServerMetrics.AuthReason : "");

    /// <summary>
    /// The most UTF-8 bytes of a status's detail. It travels twice: percent-encoded (up to 3 bytes each) in grpc-message,
    /// and in grpc-status-details-bin (base64, beside a field violation's shortened copy); clients cap the trailers at 8 KiB or so.
    /// </summary>
    public const int MaxDetailBytes = 1536;

    /// <summary>
    /// A last resort: messages quote what was sent shortened (<see cref="Echo"/>), but one that still runs
    /// long is cut here, for a client refuses a status too big for its headers (RESOURCE_EXHAUSTED instead).
    /// </summary>
    internal static string Capped(string detail)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(detail) <= MaxDetailBytes) return detail;
        var end = Math.Min(detail.Length, MaxDetailBytes / 3 * 2); // chars, not bytes: room for the non-ASCII ones (a short text of them is over the bytes too)
        while (end > 64 && System.Text.Encoding.UTF8.GetByteCount(detail.AsSpan(0, end)) > MaxDetailBytes - 64) end -= 64;
        if (char.IsHighSurrogate(detail[end - 1])) end--;
        return detail[..end] + $"… (cut: the message had {detail.Length:N0} characters)";
    }

    /// <summary>The status for an exception, or null to let it through (RpcException, cancellation by the client).</summary>
    private RpcException? Map(Exception e, ServerCallContext context, string requestId)
    {
        switch (e)
        {
            case RpcException { Status.DebugException: MessageLimits.BoundedGzipDecompression.PastLimit past }: // an upload's reads: worded for its method
                return ErrorDetails.Refusal(StatusCode.ResourceExhausted, past.Detail(context.Method), ErrorReasons.MessageTooLarge);
            case RpcException:
                return null;
            case OperationCanceledException when !context.CancellationToken.IsCancellationRequested && revocations.IsRevoked(Security.Caller.TryOf(context)):
                return ErrorDetails.Refusal(StatusCode.Unauthenticated, $"The API key '{Security.Caller.TryOf(context)!.Name}' was removed from this server; the call ended. " +
                    "Retrying with this key cannot succeed: ask the server's operator for a new key.",
                    ErrorReasons.KeyRemoved);
            case OperationCanceledException or IOException when context.CancellationToken.IsCancellationRequested:
                return null; // the client left or its deadline passed (a read or write cut off): gRPC reports CANCELLED or DEADLINE_EXCEEDED itself
            case ServerException s:
                return new RpcException(new Status(s.Code, s.Message));
            case Google.Protobuf.InvalidProtocolBufferException: // a stream's later message, read in the handler
                return MessageLimits.MalformedMessageRefusal.Refusal(context.GetHttpContext()) is var refusal
                    ? ErrorDetails.Refusal(refusal.StatusCode, refusal.Detail, ErrorReasons.MalformedMessage) : null;
            case CheckpointException c:
                return new RpcException(new Status(StatusCode.FailedPrecondition, c.Message));
            case CorpusException c:
                return new RpcException(new Status(StatusCode.FailedPrecondition, c.Message));
            case Engine.Sampling.ModelDivergedException d: // the model's state, not the request, is at fault
                return new RpcException(new Status(StatusCode.FailedPrecondition, d.Message));
            case ArgumentException a: // HyperParameterException, UnknownCharactersException, option validation
                return new RpcException(new Status(StatusCode.InvalidArgument, a.Message));
            default:
                logger.LogError(e, "Unhandled error in {Method} (request {RequestId})", context.Method, requestId);
                return new RpcException(new Status(StatusCode.Internal, $"The server failed to handle {context.Method}: {e.GetType().Name}. See the server log (request {requestId})."));
        }
    }
}
