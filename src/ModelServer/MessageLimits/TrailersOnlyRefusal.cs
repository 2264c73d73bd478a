using Google.Protobuf;
using Grpc.Core;
using CharRnn.ModelServer.Errors;

namespace CharRnn.ModelServer.MessageLimits;

/// <summary>
/// A refusal made before any service runs, written as a trailers-only gRPC answer: its status, its message and the
/// same rich details (grpc-status-details-bin: an ErrorInfo reason) the services' errors carry, so a program can
/// tell a message too large (never retry) from a quota (retry later) here too; and a request id, as theirs do.
/// </summary>
public static class TrailersOnlyRefusal
{
    /// <param name="requestId">The id the server's log line for the refusal names (<see cref="Security.RefusalLog"/>).</param>
    public static void Write(HttpResponse response, StatusCode code, string message, string reason, string requestId)
    {
        response.Headers[ErrorMappingInterceptor.RequestIdTrailer] = requestId;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = GrpcMessageEncoding.Encode(message);
        response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(ErrorDetails.Refusal(code, message, reason).GetRpcStatus()!.ToByteArray());
    }
}
