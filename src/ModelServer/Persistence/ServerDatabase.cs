using System.Globalization;
using CharRnn.ModelServer.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Persistence;

/// <summary>
/// The server's SQLite database (charrnn.db in the models folder): jobs (queue, state, owner,
/// plan, progress), their events, and model ownership. Checkpoints stay files. One connection, serialized by a
/// lock: writes are small (job transitions, a job's progress every few seconds, its events in
/// batches from a background writer). This file opens it and keeps its schema; each table's reads and writes are in
/// ServerDatabase.Models.cs, .Corpora.cs and .Jobs.cs.
/// </summary>
public sealed partial class ServerDatabase : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly FileStream _lock;
    private readonly object _gate = new();
    private MadeModelsFolder? _madeFolder; // until the server has started

    /// <param name="logger">Where making a missing models folder is said; none in tests that open a database of their own.</param>
    /// <param name="lifetime">The server's, whose start keeps a models folder this made; without it (a database opened on its own) the folder always stays.</param>
    public ServerDatabase(IOptions<ServerOptions> options, ILogger<ServerDatabase>? logger = null, IHostApplicationLifetime? lifetime = null)
    {
        var folder = Path.GetFullPath(options.Value.ModelsDirectory);
        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder);
            // Said once, as it is made: a typo in the path would otherwise look like a server with no models yet.
            logger?.LogInformation("Created the models folder {Folder} (it was missing)", folder);
            if (lifetime != null)
            {
                _madeFolder = new MadeModelsFolder(folder, logger);
                lifetime.ApplicationStarted.Register(() => _madeFolder = null); // started: the folder is the server's now
            }
        }
        _lock = LockFolder(folder);
        try
        {
            FilePath = Path.Combine(folder, "charrnn.db");
            // One connection for the server's life: no pool, which would keep a closed one's file open (a damaged
            // database moved aside would still be the one a restart in this process opens).
            _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = FilePath, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
            _connection.Open();
            ReadSmallTables(); // before anything is written: a damaged file is refused as it was found
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
            Execute("""
                CREATE TABLE IF NOT EXISTS models(name TEXT PRIMARY KEY, owner TEXT NOT NULL, shared INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS jobs(id TEXT PRIMARY KEY, owner TEXT NOT NULL, model_name TEXT NOT NULL, state TEXT NOT NULL, plan TEXT NOT NULL,
                    created TEXT NOT NULL, started TEXT, ended TEXT, reason TEXT NOT NULL DEFAULT '', step INTEGER NOT NULL DEFAULT 0,
                    total_steps INTEGER NOT NULL DEFAULT 0, best_valid_loss REAL, run_seconds REAL NOT NULL DEFAULT 0,
                    last_sequence INTEGER NOT NULL DEFAULT -1);
                CREATE TABLE IF NOT EXISTS job_events(job_id TEXT NOT NULL, sequence INTEGER NOT NULL, time TEXT NOT NULL, step INTEGER NOT NULL,
                    payload TEXT NOT NULL, PRIMARY KEY(job_id, sequence)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS corpora(name TEXT PRIMARY KEY, owner TEXT NOT NULL, created TEXT NOT NULL);
                """);
            AddColumn("jobs", "run_seconds", "REAL NOT NULL DEFAULT 0"); // databases made before it
            AddColumn("jobs", "last_sequence", "INTEGER NOT NULL DEFAULT -1");
            AddColumn("jobs", "key_hash", "TEXT"); // the SHA-256 of the API key that started it (as the keys file has it), null without keys
            AddColumn("jobs", "stopped_on_request", "INTEGER NOT NULL DEFAULT 0"); // rows ended before it read as not on request, as they did
            AddColumn("corpora", "deleted", "TEXT"); // when DeleteCorpus deleted it (its row stays, to say so to a resume); null while stored
            // 1 for a job of a model deleted since (RenameModel leaves it naming that one). Rows from before it are marked as renames told
            // them apart then: a job that ended before its name's model row was made trained an earlier model.
            if (AddColumn("jobs", "model_gone", "INTEGER NOT NULL DEFAULT 0"))
            {
                Execute("UPDATE jobs SET model_gone = 1 WHERE ended IS NOT NULL AND ended < COALESCE((SELECT created FROM models WHERE models.name = jobs.model_name), '')");
                MarkJobsOfModelsGoneFrom(folder);
            }
        }
        catch (Exception e)
        {
            _connection?.Dispose();
            _lock.Dispose(); // a failed start must not keep the folder locked
            _madeFolder?.RemoveIfUnused();
            if (e is SqliteException s && IsDamage(s)) throw Damaged(s);
            throw;
        }
    }

    /// <summary>
    /// Reads the schema and every row of models and jobs, as each start does anyway (the jobs' recovery), so that a damaged page
    /// of theirs stops the start here with <see cref="Damaged"/>, before the switch to WAL or a migration writes to the file, rather
    /// than as a raw SQLite error from the recovery's reads of the same pages. Not a pass over the whole file
    /// (quick_check took 10 s on a team server's 335 MB): job_events, nearly all of it, is read a job at a time (a recovery, a
    /// watch), and a damaged page there costs that job's history only.
    /// </summary>
    private void ReadSmallTables()
    {
        var tables = new List<string>();
        using (var schema = Command("SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('models', 'jobs')"))
        using (var r = schema.ExecuteReader())
            while (r.Read()) tables.Add(r.GetString(0));
        foreach (var table in tables)
        {
            using var rows = Command($"SELECT * FROM {table}");
            using var r = rows.ExecuteReader();
            while (r.Read())
                for (var i = 0; i < r.FieldCount; i++) r.GetValue(i); // every column: a long value's overflow pages too
        }
    }

    /// <summary>SQLITE_CORRUPT (11), SQLITE_NOTADB (26): the file's bytes are bad, not what was asked of it.</summary>
    private static bool IsDamage(SqliteException e) => e.SqliteErrorCode is 11 or 26;

    /// <summary>What a damaged database stops the start with. Not recreated: without its ownership rows every
    /// model would be readable by every key.</summary>
    private InvalidDataException Damaged(SqliteException e) =>
        new($"The server database {FilePath} is damaged ({e.Message}). Move it aside to start with an empty one: " +
            "the models stay, but job history and who owns which model are lost (each is then unowned: every key may read it, only admins change it).", e);

    public string FilePath { get; }

    /// <summary>
    /// One server per models folder: two would both recover and train the same jobs into the same
    /// files. The lock (an flock, which .NET takes for FileShare.None) goes with the process, even after kill -9.
    /// </summary>
    private static FileStream LockFolder(string folder)
    {
        var path = Path.Combine(folder, "charrnn.lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (Engine.Storage.FileLock.IsHeldElsewhere(e)) // not a full disk, a read-only folder...
        {
            throw new ModelsFolderInUseException(folder, path, $"Another charrnn process is using the models folder {folder} (it holds {path}): a server, " +
                                        "or a charrnn train/resume into it. Connect to a server (charrnn --server HOST:PORT), " +
                                        "wait for or stop the other process, or pass another --models.");
        }
    }

    /// <summary>
    /// For training outside a server (charrnn train/resume) into a folder a server keeps: refused
    /// while that server runs (both would write the same checkpoints), and the folder held meanwhile
    /// so that none starts. Held shared: two such runs into different model folders of it go
    /// together (each model folder has its own lock against a second run into it). Null where no
    /// server ever kept the folder (no charrnn.lock): nothing to hold.
    /// </summary>
    /// <param name="throughIt">What to do through that server instead, said in the refusal (an import's is its REPL import).</param>
    public static IDisposable? HoldIfServed(string modelsFolder, string throughIt = "train through it (charrnn, or charrnn --server HOST:PORT)")
    {
        var path = Path.Combine(modelsFolder, "charrnn.lock");
        if (!File.Exists(path)) return null;
        try
        {
            // Read-only and sharing: .NET takes a shared flock, which the server's exclusive one waits out, and the reverse.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (IOException e) when (Engine.Storage.FileLock.IsHeldElsewhere(e))
        {
            throw new ArgumentException($"A charrnn server is using the models folder {modelsFolder} (it holds {path}); {throughIt}, or stop it first.");
        }
    }


    /// <summary>
    /// At model_gone's migration: the ended jobs of a name with neither a row nor a folder trained a model deleted since, which the
    /// row of a later model of that name (made when it is) would have told apart by time; with no row yet, only the folder says so.
    /// </summary>
    private void MarkJobsOfModelsGoneFrom(string folder)
    {
        var names = new List<string>();
        using (var c = Command("SELECT DISTINCT model_name FROM jobs WHERE ended IS NOT NULL AND model_gone = 0 AND model_name NOT IN (SELECT name FROM models)"))
        using (var r = c.ExecuteReader())
            while (r.Read()) names.Add(r.GetString(0));
        foreach (var name in names.Where(n => !Directory.Exists(Path.Combine(folder, n))))
        {
            using var mark = Command("UPDATE jobs SET model_gone = 1 WHERE model_name = $name AND ended IS NOT NULL", ("$name", name));
            mark.ExecuteNonQuery();
        }
    }

    /// <returns>Whether the column was added (the database was made before it).</returns>
    private bool AddColumn(string table, string column, string definition)
    {
        using var c = Command($"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = $column", ("$column", column));
        if (Convert.ToInt64(c.ExecuteScalar(), CultureInfo.InvariantCulture) != 0) return false;
        Execute($"ALTER TABLE {table} ADD COLUMN {column} {definition}");
        return true;
    }

    private void Execute(string sql)
    {
        using var c = _connection.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var c = _connection.CreateCommand();
        c.CommandText = sql;
        foreach (var (name, value) in parameters) c.Parameters.AddWithValue(name, value);
        return c;
    }

    private static string Now() => Format(DateTimeOffset.UtcNow);
    private static string Format(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);
    private static DateTimeOffset Parse(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture);

    public void Dispose()
    {
        lock (_gate) _connection.Dispose(); // not under a write still running (the event writer's, at shutdown)
        _lock.Dispose();
        _madeFolder?.RemoveIfUnused(); // a start refused after this was made (a port in use) leaves no folder behind
    }
}
