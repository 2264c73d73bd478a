using Grpc.AspNetCore.Server;
using CharRnn.ModelServer.Security;

namespace CharRnn.ModelServer.MessageLimits;

/// <summary>
/// A unary or server-streaming call's gzip message that decompresses past the limit (<see cref="BoundedGzipDecompression"/>)
/// is read before any interceptor runs, so its refusal would carry no request id and no log line: this gives it both, as
/// <see cref="OversizedMessageRefusal"/> gives a message too large on the wire (one line per address and reason a minute,
/// <see cref="RefusalLog"/>). A stream's later message is read in the handler, where ErrorMappingInterceptor does it.
/// </summary>
public sealed class DecompressedMessageRefusal(RequestDelegate next, RefusalLog refusals)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        if (context.Features.Get<IServerCallContextFeature>()?.ServerCallContext is not { Status.DebugException: BoundedGzipDecompression.PastLimit past } call
            || context.Response.HasStarted) return;
        var requestId = refusals.Refused(call.Peer, call.Method, past.Message);
        TrailersOnlyRefusal.Write(context.Response, call.Status.StatusCode, call.Status.Detail, Errors.ErrorReasons.MessageTooLarge, requestId);
    }
}
