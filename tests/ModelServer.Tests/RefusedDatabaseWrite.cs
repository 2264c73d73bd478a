using Microsoft.Data.Sqlite;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// Stands in for a full disk under a running server: a trigger, made through a connection of its own to the server's
/// database, refuses one kind of write to one table (WHEN a condition on its row) as SQLite's full disk would
/// (SQLITE_FULL: "database or disk is full"), until disposed.
/// </summary>
public sealed class RefusedDatabaseWrite : IDisposable
{
    private readonly SqliteConnection _connection;

    /// <param name="write">BEFORE what: "DELETE ON models", "UPDATE ON models", ...</param>
    /// <param name="when">The rows refused, in old./new. terms: "old.name = 'm'".</param>
    public RefusedDatabaseWrite(string modelsDirectory, string write, string when)
    {
        _connection = new SqliteConnection($"Data Source={Path.Combine(modelsDirectory, "charrnn.db")};Pooling=False");
        _connection.Open();
        Sql($"CREATE TRIGGER disk_full BEFORE {write} WHEN {when} BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    }

    private void Sql(string sql)
    {
        using var c = _connection.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    public void Dispose()
    {
        Sql("DROP TRIGGER disk_full");
        _connection.Dispose();
    }
}
