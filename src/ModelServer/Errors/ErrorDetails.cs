using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace CharRnn.ModelServer.Errors;

/// <summary>
/// What a failed call tells a program (the standard google.rpc rich error model, sent as grpc-status-details-bin):
/// the same code and message, an ErrorInfo with a stable reason (<see cref="ErrorReasons"/>), a RetryInfo when the
/// server knows how long to wait, and a BadRequest naming the field for an INVALID_ARGUMENT that knows it.
/// </summary>
public static class ErrorDetails
{
    /// <summary>The call's status with its details: <paramref name="reason"/> null means the status code's generic one.</summary>
    public static RpcException Refusal(StatusCode code, string message, string? reason, IReadOnlyDictionary<string, string>? metadata = null,
        TimeSpan? retryAfter = null, string? field = null)
    {
        var info = new ErrorInfo { Reason = reason ?? ErrorReasons.Of(code), Domain = ErrorReasons.Domain };
        // Values echo what was sent (a session id, a model name): shortened as messages quote them, or a 70,000-char id
        // swelled the trailer past what clients take (grpc-js gave no answer at all).
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>()) info.Metadata[key] = Engine.Text.Echo.Of(value);
        var status = new Google.Rpc.Status { Code = (int)code, Message = message, Details = { Any.Pack(info) } };
        if (retryAfter is { } wait) status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(wait) }));
        if (field != null)
            status.Details.Add(Any.Pack(new BadRequest { FieldViolations = { new BadRequest.Types.FieldViolation { Field = field, Description = Description(message) } } }));
        return status.ToRpcException();
    }

    /// <summary>The most UTF-8 bytes of a field violation's description.</summary>
    public const int MaxDescriptionBytes = 256;

    /// <summary>
    /// The message again, shortened: it already travels twice (grpc-message and the Status's own message), and the
    /// whole trailer must stay under the ~8 KiB clients accept.
    /// </summary>
    internal static string Description(string message)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(message) <= MaxDescriptionBytes) return message;
        const string cut = "… (the status message has it all)";
        var end = Math.Min(message.Length, (MaxDescriptionBytes - System.Text.Encoding.UTF8.GetByteCount(cut)) / 3); // 3 bytes a char at most
        if (char.IsHighSurrogate(message[end - 1])) end--;
        return message[..end] + cut;
    }

    /// <summary>The ErrorInfo reason a status carries, or its code's generic one.</summary>
    public static string ReasonOf(RpcException e) => e.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason ?? ErrorReasons.Of(e.StatusCode);

    /// <summary>A server error's status with the details it carries.</summary>
    public static RpcException Of(ServerException e, string message) => Refusal(e.Code, message, e.Reason, e.Metadata, e.RetryAfter, e.Field);

    /// <summary>
    /// A status raised as RpcException below the services (a later message over the size limit, a gzip bomb) gets its
    /// ErrorInfo here. Such a RESOURCE_EXHAUSTED is never a quota (those are ServerExceptions): it is a message's size.
    /// One that carries details already keeps them.
    /// </summary>
    public static RpcException Of(RpcException e, string message) =>
        e.GetRpcStatus() is { } status ? WithMessage(status, message)
        : Refusal(e.StatusCode, message, e.StatusCode == StatusCode.ResourceExhausted ? ErrorReasons.MessageTooLarge : null);

    private static RpcException WithMessage(Google.Rpc.Status status, string message)
    {
        status.Message = message;
        return status.ToRpcException();
    }
}
