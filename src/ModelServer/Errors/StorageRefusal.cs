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

    /// <param name="method">The gRPC method's full name (/charrnn.v1.Training/StartJob).</param>
    /// <returns>The refusal to send instead of <paramref name="e"/>, or null where it is no refusal of the storage.</returns>
    public static ServerException? For(Exception e, string method)
    {
        var call = method[(method.LastIndexOf('/') + 1)..];
        var changes = $"The server could not store what {call} changes";
        if (DiskFault.Is(e) || e is SqliteException { SqliteErrorCode: SqliteFull or SqliteIoError })
            return ServerException.DiskFull($"{changes}: its disk is full (or over its quota, or failing). Try again once the server's operator has made room.");
        if (e is IOException { HResult: EROFS } && !OperatingSystem.IsWindows() || e is SqliteException { SqliteErrorCode: SqliteReadOnly })
            return ServerException.Precondition($"{changes}: it may not write to its models folder ({(e is SqliteException ? "its database is read-only" : "a read-only file system")}). "
                + "Try again once the server's operator has made the folder writable.");
        // A read as well as a write (a checkpoint another user's umask left unreadable): said without "store".
        return e is UnauthorizedAccessException
            ? ServerException.Precondition($"The server may not read or write a file {call} needs in its models folder (permission denied). "
                + "Try again once the server's operator has fixed the folder's permissions.")
            : null;
    }
}
