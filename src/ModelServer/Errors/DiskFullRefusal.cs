using CharRnn.Engine.Storage;
using Microsoft.Data.Sqlite;

namespace CharRnn.ModelServer.Errors;

/// <summary>
/// A write the server's disk refused in a call with no refusal of its own for it (StartJob, ShareModel, RenameModel, ...:
/// the database's row, a rename's note): RESOURCE_EXHAUSTED, DISK_FULL, as UploadCorpus and ImportModel say it, not
/// INTERNAL "SqliteException. See the server log", which reads as a bug of the server and tells the caller nothing to do.
/// </summary>
public static class DiskFullRefusal
{
    // SQLite's result codes: SQLITE_FULL (the disk, or its quota, is full) and SQLITE_IOERR (the disk failed a read or write).
    private const int SqliteIoError = 10, SqliteFull = 13;

    public static bool Is(Exception e) => DiskFault.Is(e) || e is SqliteException { SqliteErrorCode: SqliteFull or SqliteIoError };

    /// <param name="method">The gRPC method's full name (/charrnn.v1.Training/StartJob).</param>
    public static ServerException For(string method) => ServerException.DiskFull(
        $"The server could not store what {method[(method.LastIndexOf('/') + 1)..]} changes: its disk is full (or over its quota, or failing). "
        + "Try again once the server's operator has made room.");
}
