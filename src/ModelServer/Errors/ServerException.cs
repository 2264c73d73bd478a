using System.Text.RegularExpressions;
using Grpc.Core;

namespace CharRnn.ModelServer.Errors;

/// <summary>An error with the gRPC status a client should see; the message says what to do, <see cref="Reason"/> and the rest say it to programs.</summary>
public sealed partial class ServerException(StatusCode code, string message) : Exception(message)
{
    public StatusCode Code { get; } = code;

    /// <summary>For a quota's RESOURCE_EXHAUSTED: the quota its message names (<see cref="QuotaLimits"/>); otherwise null.</summary>
    public string? Quota { get; private init; }

    /// <summary>The machine code sent in ErrorInfo (<see cref="ErrorReasons"/>); null: the status code's generic one.</summary>
    public string? Reason { get; private init; }

    /// <summary>ErrorInfo's metadata: what the error is about (the quota, the model), for programs.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; private init; }

    /// <summary>How long to wait before the same call can succeed (RetryInfo), where the server knows it.</summary>
    public TimeSpan? RetryAfter { get; private init; }

    /// <summary>For INVALID_ARGUMENT: the request field at fault (BadRequest), as the proto names it ("sampling.temperature").</summary>
    public string? Field { get; private init; }

    /// <param name="field">The field at fault; null: the one the message starts with, for messages name it first by convention ("max_chars = 0 is not allowed").</param>
    public static ServerException Invalid(string message, string? field = null) =>
        (field ?? LeadingField(message)) is { } named
            ? new(StatusCode.InvalidArgument, message) { Field = named, Reason = ErrorReasons.InvalidField, Metadata = new Dictionary<string, string> { ["field"] = named } }
            : new(StatusCode.InvalidArgument, message);

    /// <param name="reason">One of <see cref="ErrorReasons"/>' *_NOT_FOUND codes.</param>
    /// <param name="what">What was not found, as ErrorInfo metadata (key: the kind, "model"; value: its name).</param>
    public static ServerException NotFound(string message, string? reason = null, (string Kind, string Name)? what = null) =>
        new(StatusCode.NotFound, message) { Reason = reason, Metadata = what is { } w ? About([w]) : null };

    /// <param name="about">What the error is about, as ErrorInfo metadata: the keys NOT_FOUND uses ("model", "corpus", "session_id", "job_id").</param>
    public static ServerException Exists(string message, params (string Kind, string Name)[] about) =>
        new(StatusCode.AlreadyExists, message) { Metadata = About(about) };

    /// <param name="quota">The quota refused: one of <see cref="QuotaLimits"/>' constants (it labels a metric, keys a log and names the reason).</param>
    /// <param name="retryAfter">When the call may succeed again, where the quota knows it (a minute's chars).</param>
    public static ServerException Exhausted(string quota, string message, TimeSpan? retryAfter = null) =>
        QuotaLimits.All.Contains(quota)
            ? new(StatusCode.ResourceExhausted, message)
            {
                Quota = quota, Reason = ErrorReasons.Quota(quota), RetryAfter = retryAfter, Metadata = new Dictionary<string, string> { ["quota"] = quota },
            }
            : throw new ArgumentException($"'{quota}' is not one of QuotaLimits.All.", nameof(quota));

    /// <summary>RESOURCE_EXHAUSTED for a write the server's disk refused (<see cref="Engine.Storage.DiskFault"/>): not the caller's quota, the server's room.</summary>
    public static ServerException DiskFull(string message) => new(StatusCode.ResourceExhausted, message) { Reason = ErrorReasons.DiskFull };

    /// <param name="reason">One of <see cref="ErrorReasons"/>' UNAUTHENTICATED_* codes.</param>
    public static ServerException Unauthenticated(string message, string reason) => new(StatusCode.Unauthenticated, message) { Reason = reason };

    /// <summary>The same error, new, for another call to throw (one kept to say why a session closed).</summary>
    public ServerException Again() => new(Code, Message) { Quota = Quota, Reason = Reason, Metadata = Metadata, RetryAfter = RetryAfter, Field = Field };

    /// <param name="about">As <see cref="Exists"/>'s.</param>
    public static ServerException Precondition(string message, params (string Kind, string Name)[] about) =>
        new(StatusCode.FailedPrecondition, message) { Metadata = About(about) };

    /// <param name="about">As <see cref="Exists"/>'s.</param>
    public static ServerException PermissionDenied(string message, params (string Kind, string Name)[] about) =>
        new(StatusCode.PermissionDenied, message) { Metadata = About(about) };

    private static Dictionary<string, string>? About((string Kind, string Name)[] about) =>
        about.Length == 0 ? null : about.ToDictionary(a => a.Kind, a => a.Name);
    public static ServerException Unavailable(string message) => new(StatusCode.Unavailable, message);

    /// <summary>The proto field a message opens with: a lower-case path ("options.epochs", "hyperparameters[lr]") before " = ", " is ", " has ", " '" or ":".</summary>
    internal static string? LeadingField(string message) => LeadingFieldPattern().Match(message) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex(@"^([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*|\[[^\]\s]{1,64}\])*)(?: = | is | has | '|:)")]
    private static partial Regex LeadingFieldPattern();
}
