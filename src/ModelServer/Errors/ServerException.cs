using Grpc.Core;

namespace CharRnn.ModelServer.Errors;

/// <summary>An error with the gRPC status a client should see; the message says what to do.</summary>
public sealed class ServerException(StatusCode code, string message) : Exception(message)
{
    public StatusCode Code { get; } = code;

    /// <summary>For a quota's RESOURCE_EXHAUSTED: the quota its message names (<see cref="QuotaLimits"/>); otherwise null.</summary>
    public string? Quota { get; private init; }

    public static ServerException Invalid(string message) => new(StatusCode.InvalidArgument, message);
    public static ServerException NotFound(string message) => new(StatusCode.NotFound, message);
    public static ServerException Exists(string message) => new(StatusCode.AlreadyExists, message);
    /// <param name="quota">The quota refused: one of <see cref="QuotaLimits"/>' constants (it labels a metric and keys a log).</param>
    public static ServerException Exhausted(string quota, string message) =>
        QuotaLimits.All.Contains(quota) ? new(StatusCode.ResourceExhausted, message) { Quota = quota } : throw new ArgumentException($"'{quota}' is not one of QuotaLimits.All.", nameof(quota));
    public static ServerException Precondition(string message) => new(StatusCode.FailedPrecondition, message);
    public static ServerException PermissionDenied(string message) => new(StatusCode.PermissionDenied, message);
    public static ServerException Unavailable(string message) => new(StatusCode.Unavailable, message);
}
