using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server;
using Grpc.Core;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// A request whose bytes do not parse as the method's request message is refused with INVALID_ARGUMENT naming that
/// message. grpc-dotnet reads a unary or server-streaming call's message before any interceptor runs, and a parse
/// error there became UNKNOWN "Exception was thrown by handler.": the client could not tell its own bad bytes from a
/// server fault. The failed call's status keeps the parse error (Status.DebugException); this rewrites the
/// trailers-only answer before it is sent. A stream's messages are read in the handler: ErrorMappingInterceptor uses
/// <see cref="Refusal"/> for those.
/// </summary>
public sealed class MalformedMessageRefusal(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        if (context.Response.HasStarted
            || context.Features.Get<IServerCallContextFeature>()?.ServerCallContext is not { Status.DebugException: InvalidProtocolBufferException } call)
            return;
        var refusal = Refusal(context);
        call.Status = refusal;
        context.Response.Headers["grpc-status"] = ((int)refusal.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = GrpcMessageEncoding.Encode(refusal.Detail);
    }

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
