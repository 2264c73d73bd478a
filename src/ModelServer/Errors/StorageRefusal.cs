using CharRnn.Engine.Storage;
using Microsoft.Data.Sqlite;

namespace CharRnn.ModelServer.Errors;

/// <summary>
/// A write the server's storage refused in a call with no refusal of its own for it (StartJob, ShareModel, RenameModel,
/// DeleteModel, ...: the database's row, a rename's note, a folder's move): a full disk is RESOURCE_EXHAUSTED, DISK_FULL, as
/// UploadCorpus and ImportModel say it; a models folder the server may not write (mounted read-only, its permissions)
/// FAILED_PRECONDITION. Not INTERNAL "SqliteException. See the server log", which reads as a bug of the server and tells
/// the caller nothing to do.
/// </summary>
public static class StorageRefusal
{
    // SQLite's result codes: SQLITE_READONLY, SQLITE_IOERR (the disk failed a read or write), SQLITE_FULL (the disk, or its quota, is full).
    private const int SqliteReadOnly = 8, SqliteIoError = 10, SqliteFull = 13;
    // Linux's errno for a read-only file system, which .NET puts in an IOException's HResult on Unix.
    private const int EROFS = 30;

    /// <summary>
    /// What stands after each call's refused write, where the call leaves the store as it was (each undoes what it did before
    /// the refused write, or the refused write was its only one); a call not listed says nothing it cannot vouch for. A call
    /// that is left part done passes its own words to <see cref="For"/>.
    /// </summary>
    private static readonly Dictionary<string, string> LeftAsItWas = new()
    {
        ["StartJob"] = "Nothing changed: no job was queued.",
        ["ShareModel"] = "Nothing changed: the model's owner and sharing are as they were.",
        ["RenameModel"] = "Nothing changed: the model keeps its old name.",
        ["DeleteModel"] = "Nothing changed: the model is still there.",
        ["DeleteCorpus"] = "Nothing changed: the corpus is still there.",
        ["UploadCorpus"] = "Nothing changed: no text was stored.",
        ["ImportModel"] = "Nothing changed: no model was stored.",
    };

    /// <param name="method">The gRPC method's full name (/charrnn.v1.Training/StartJob).</param>
    /// <param name="stands">What the call left done where it could not undo it all ("Model 'a' is …"); null: the call's
    /// own words from <see cref="LeftAsItWas"/>, if any.</param>
    /// <returns>The refusal to send instead of <paramref name="e"/>, or null where it is no refusal of the storage.</returns>
    public static ServerException? For(Exception e, string method, string? stands = null)
    {
        var call = method[(method.LastIndexOf('/') + 1)..];
        var changes = $"The server could not store what {call} changes";
        var outcome = (stands ?? LeftAsItWas.GetValueOrDefault(call)) is { } said ? " " + said : "";
        if (DiskFault.Is(e) || e is SqliteException { SqliteErrorCode: SqliteFull or SqliteIoError })
            return ServerException.DiskFull($"{changes}: its disk is full (or over its quota, or failing).{outcome} Try again once the server's operator has made room.");
        if (e is IOException { HResult: EROFS } && !OperatingSystem.IsWindows() || e is SqliteException { SqliteErrorCode: SqliteReadOnly })
            return ServerException.Precondition($"{changes}: it may not write to its models folder ({(e is SqliteException ? "its database is read-only" : "a read-only file system")}).{outcome} "
                + "Try again once the server's operator has made the folder writable.");
        // A read as well as a write (a checkpoint another user's umask left unreadable): said without "store".
        return e is UnauthorizedAccessException
            ? ServerException.Precondition($"The server may not read or write a file {call} needs in its models folder (permission denied).{outcome} "
                + "Try again once the server's operator has fixed the folder's permissions.")
            : null;
    }
}
