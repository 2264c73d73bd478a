using Grpc.Core;

namespace CharRnn.ModelServer.Errors;

/// <summary>
/// The machine codes a failed call carries in its google.rpc.ErrorInfo (<see cref="ErrorDetails"/>), so clients in any
/// language branch on a code, not on English. A small fixed set, documented in the proto and docs/errors.md: a code,
/// once published, keeps its meaning. An error without a specific one carries its status code's name.
/// </summary>
public static class ErrorReasons
{
    /// <summary>ErrorInfo.domain: the proto package, whose contract these codes are part of.</summary>
    public const string Domain = "charrnn.v1";

    /// <summary>INVALID_ARGUMENT naming the field at fault (BadRequest says which).</summary>
    public const string InvalidField = "INVALID_FIELD";

    /// <summary>RESOURCE_EXHAUSTED for a message (or its gzip'd content) over the server's size limit: sending it again fails again.</summary>
    public const string MessageTooLarge = "MESSAGE_TOO_LARGE";

    /// <summary>RESOURCE_EXHAUSTED for a write the server's disk refused (full, over its quota, failing): the message says what stands (<see cref="StorageRefusal"/>); retry once its operator has made room, unless it says not to (a call left part done).</summary>
    public const string DiskFull = "DISK_FULL";

    /// <summary>A request message that is not a valid protobuf encoding of the method's request: a client built from other protos. Never retry.</summary>
    public const string MalformedMessage = "MALFORMED_MESSAGE";

    public const string ModelNotFound = "MODEL_NOT_FOUND", SessionNotFound = "SESSION_NOT_FOUND", JobNotFound = "JOB_NOT_FOUND",
        CorpusNotFound = "CORPUS_NOT_FOUND";

    public const string NoKey = "UNAUTHENTICATED_NO_KEY", UnknownKey = "UNAUTHENTICATED_UNKNOWN_KEY", KeyRemoved = "UNAUTHENTICATED_KEY_REMOVED",
        NoKeys = "UNAUTHENTICATED_NO_KEYS", NotLocalClient = "UNAUTHENTICATED_NOT_LOCAL_CLIENT",
        UnsupportedScheme = "UNAUTHENTICATED_UNSUPPORTED_SCHEME", KeysFileInvalid = "KEYS_FILE_INVALID";

    /// <summary>A quota's refusal: QUOTA_ and its <see cref="QuotaLimits"/> name (QUOTA_MAX_SESSIONS_PER_KEY). The caller may retry once it has room.</summary>
    public static string Quota(string quota) => "QUOTA_" + quota.ToUpperInvariant();

    /// <summary>The code for an error with no specific one: its status code's name (INVALID_ARGUMENT, FAILED_PRECONDITION).</summary>
    public static string Of(StatusCode code) => code switch
    {
        StatusCode.OK => "OK",
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.Unimplemented => "UNIMPLEMENTED",
        StatusCode.Unavailable => "UNAVAILABLE",
        StatusCode.DataLoss => "DATA_LOSS",
        StatusCode.Unauthenticated => "UNAUTHENTICATED",
        StatusCode.Cancelled => "CANCELLED",
        StatusCode.Aborted => "ABORTED",
        StatusCode.Internal => "INTERNAL",
        _ => "UNKNOWN",
    };
}
