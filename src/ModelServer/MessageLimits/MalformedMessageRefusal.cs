using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using CharRnn.ModelServer.Security;

namespace CharRnn.ModelServer.MessageLimits;

/// <summary>
/// A request whose bytes do not parse as the method's request message is refused with INVALID_ARGUMENT naming that
/// message. grpc-dotnet reads a unary or server-streaming call's message before any interceptor runs, and a parse
/// error there became UNKNOWN "Exception was thrown by handler.": the client could not tell its own bad bytes from a
/// server fault. The failed call's status keeps the parse error (Status.DebugException); this rewrites the
/// trailers-only answer before it is sent. A stream's messages are read in the handler: ErrorMappingInterceptor uses
/// <see cref="Refusal"/> for those. Such a refusal is a client's fault: one warning line per address a minute
/// (<see cref="RefusalLog"/>), counted in charrnn_grpc_errors_total with reason "malformed_message". grpc-dotnet's
/// own "Error when executing service method" with a stack trace, for every call, is filtered out (ServerHost);
/// any other error it would have logged so, one that escaped the interceptors, is logged here instead (not the
/// cancellation of a call its client ended, nor the cut-off read or write of one whose client died).
/// </summary>
public sealed class MalformedMessageRefusal(RequestDelegate next, RefusalLog refusals, ILogger<MalformedMessageRefusal> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        if (context.Features.Get<IServerCallContextFeature>()?.ServerCallContext is not { Status.DebugException: { } error } call) return;
        if (error is not InvalidProtocolBufferException)
        {
            // A call its client ended (a watch detached, a stream abandoned) stops with OperationCanceledException, and one whose
            // client died mid-stream (its connection gone) with the IOException of the read or write it cut off: no fault.
            var clientLeft = error is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested;
            // A gzip message past the limit is a client's fault too, logged as a refusal (DecompressedMessageRefusal).
            if (error is not RpcException and not BoundedGzipDecompression.PastLimit && !clientLeft) logger.LogError(error, "Error when executing {Method}", call.Method);
            return;
        }
        var refusal = Refusal(context);
        Metrics.ServerMetrics.CountError(refusal.StatusCode, Metrics.ServerMetrics.MalformedMessageReason, Security.Caller.TryOf(call)?.Name); // a first message fails before the key check
        var requestId = refusals.Refused(call.Peer, call.Method, NotParsedReason);
        if (context.Response.HasStarted) return;
        call.Status = refusal;
        TrailersOnlyRefusal.Write(context.Response, refusal.StatusCode, refusal.Detail, Errors.ErrorReasons.MalformedMessage, requestId);
    }

    /// <summary>The reason <see cref="RefusalLog"/> gives: the same for every such call, so a client sending them in a loop is one line a minute.</summary>
    public const string NotParsedReason = "its request message does not parse (INVALID_ARGUMENT: a client built from other protos?)";

    /// <summary>The status for a request message that does not parse, naming the method and its request message.</summary>
    public static Status Refusal(HttpContext context)
    {
        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method;
        var message = method?.GetType().GetGenericArguments()[0].GetProperty("Descriptor")?.GetValue(null) is MessageDescriptor descriptor
            ? descriptor.FullName : "its request message";
        return new Status(StatusCode.InvalidArgument, $"The request could not be parsed as {message} (the request message of " +
            $"{method?.FullName ?? context.Request.Path}): its bytes are not a valid protobuf encoding of it. Check that the client " +
            "was built from this server's protos (charrnn/v1); retrying it cannot succeed.");
    }
}
