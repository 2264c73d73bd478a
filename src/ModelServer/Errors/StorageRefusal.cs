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

    /// <summary>
    /// What a call left part done says instead of <see cref="LeftAsItWas"/>'s words and "Try again once …", which it cannot vouch
    /// for: <paramref name="Stands"/>, what it left done ("Model 'a' is …"); <paramref name="NotAgain"/>, why a retry would not
    /// help ("a delete finds no model 'a' now"); <paramref name="NextStart"/> where only the server's next start finishes it.
    /// </summary>
    public sealed record PartDone(string Stands, string NotAgain, bool NextStart = false);

    /// <summary>The fault's words, and what the server's operator does about it (done and to do).</summary>
    private sealed record Fault(string Says, string Done, string ToDo);

    /// <param name="method">The gRPC method's full name (/charrnn.v1.Training/StartJob).</param>
    /// <param name="partDone">What the call left done where it could not undo it all; null: the call's own words from
    /// <see cref="LeftAsItWas"/>, if any, and the advice to try again.</param>
    /// <returns>The refusal to send instead of <paramref name="e"/>, or null where it is no refusal of the storage.</returns>
    public static ServerException? For(Exception e, string method, PartDone? partDone = null)
    {
        var call = method[(method.LastIndexOf('/') + 1)..];
        var changes = $"The server could not store what {call} changes";
        var diskFull = DiskFault.Is(e) || e is SqliteException { SqliteErrorCode: SqliteFull or SqliteIoError };
        Fault? fault = diskFull ? new($"{changes}: its disk is full (or over its quota, or failing).", "made room", "make room")
            : e is IOException { HResult: EROFS } && !OperatingSystem.IsWindows() || e is SqliteException { SqliteErrorCode: SqliteReadOnly }
                ? new($"{changes}: it may not write to its models folder ({(e is SqliteException ? "its database is read-only" : "a read-only file system")}).",
                    "made the folder writable", "make the folder writable")
                // A read as well as a write (a checkpoint another user's umask left unreadable): said without "store".
                : e is UnauthorizedAccessException
                    ? new($"The server may not read or write a file {call} needs in its models folder (permission denied).",
                        "fixed the folder's permissions", "fix the folder's permissions")
                    : null;
        if (fault == null) return null;
        var said = partDone == null
            ? (LeftAsItWas.GetValueOrDefault(call) is { } outcome ? $" {outcome}" : "") + $" Try again once the server's operator has {fault.Done}."
            : $" {partDone.Stands} Do not try again ({partDone.NotAgain}); the server's operator should {fault.ToDo}"
              + (partDone.NextStart ? " and start the server again." : ".");
        return diskFull ? ServerException.DiskFull(fault.Says + said) : ServerException.Precondition(fault.Says + said);
    }
}
