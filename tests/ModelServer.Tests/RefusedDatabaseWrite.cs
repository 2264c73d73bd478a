using Microsoft.Data.Sqlite;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// Stands in for a full disk under a running server: triggers, made through a connection of its own to the server's
/// database, refuse some kinds of write to a table (WHEN a condition on the row) as SQLite's full disk would
/// ("database or disk is full"), until disposed. A trigger cannot raise SQLITE_FULL's code (RAISE gives SQLITE_CONSTRAINT),
/// so its message also says the OS's "No space left on device", which the server reads as a full disk (DiskFault): the
/// call's refusal is then the one a real full disk gets (DISK_FULL, its words), not INTERNAL.
/// </summary>
public sealed class RefusedDatabaseWrite : IDisposable
{
    private readonly SqliteConnection _connection;

    private readonly int _triggers;

    /// <param name="when">The rows refused, in old./new. terms: "old.name = 'm'".</param>
    /// <param name="writes">BEFORE what, a trigger each: "DELETE ON models", "UPDATE ON models", ...</param>
    public RefusedDatabaseWrite(string modelsDirectory, string when, params string[] writes)
    {
        _connection = new SqliteConnection($"Data Source={Path.Combine(modelsDirectory, "charrnn.db")};Pooling=False");
        _connection.Open();
        foreach (var write in writes)
            Sql($"CREATE TRIGGER disk_full_{_triggers++} BEFORE {write} WHEN {when} BEGIN SELECT RAISE(ABORT, 'database or disk is full: No space left on device'); END");
    }

    private void Sql(string sql)
    {
        using var c = _connection.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    public void Dispose()
    {
        for (var i = 0; i < _triggers; i++) Sql($"DROP TRIGGER disk_full_{i}");
        _connection.Dispose();
    }
}
