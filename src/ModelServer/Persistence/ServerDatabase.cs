using System.Globalization;
using System.Text.Json;
using CharRnn.Engine.Checkpoints;
using CharRnn.ModelServer.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Persistence;

/// <summary>
/// A job as stored: enough to queue it again after a restart, and to tell how it ended when its end event was lost
/// (<paramref name="StoppedOnRequest"/>: stopped by StopJob, not a time budget or a shutdown).
/// </summary>
public sealed record JobRecord(
    string Id, string Owner, string ModelName, string State, JobRecordPlan Plan, DateTimeOffset Created,
    DateTimeOffset? Started, DateTimeOffset? Ended, string Reason, long Step, long TotalSteps, double? BestValidLoss, double RunSeconds = 0,
    string? KeyHash = null, bool StoppedOnRequest = false);

/// <summary>What a job trains: a new model (architecture, hyperparameters) or a resumed one, with its effective options.</summary>
public sealed record JobRecordPlan(string? Architecture, Dictionary<string, double>? HyperParameters, Engine.Training.TrainingOptions Options,
    string CorpusName, bool UploadedCorpus, bool Resume);

/// <summary>One of a job's events as stored: <paramref name="Payload"/> is its JSON (the Jobs layer reads and writes it).</summary>
public sealed record StoredJobEvent(string JobId, long Sequence, DateTimeOffset Time, long Step, string Payload);

/// <summary>Who owns a model, and whether others may read (use) it.</summary>
public sealed record ModelRecord(string Name, string Owner, bool Shared);

/// <summary>
/// The server's SQLite database (charrnn.db in the models folder): jobs (queue, state, owner,
/// plan, progress), their events, and model ownership. Checkpoints stay files. One connection, serialized by a
/// lock: writes are small (job transitions, a job's progress every few seconds, its events in
/// batches from a background writer).
/// </summary>
public sealed class ServerDatabase : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly FileStream _lock;
    private readonly object _gate = new();

    /// <param name="logger">Where making a missing models folder is said; none in tests that open a database of their own.</param>
    public ServerDatabase(IOptions<ServerOptions> options, ILogger<ServerDatabase>? logger = null)
    {
        var folder = Path.GetFullPath(options.Value.ModelsDirectory);
        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder);
            // Said once, as it is made: a typo in the path would otherwise look like a server with no models yet.
            logger?.LogInformation("Created the models folder {Folder} (it was missing)", folder);
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
        }
        catch (Exception e)
        {
            _connection?.Dispose();
            _lock.Dispose(); // a failed start must not keep the folder locked
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
            throw new ArgumentException($"Another charrnn process is using the models folder {folder} (it holds {path}): a server, " +
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
    public static IDisposable? HoldIfServed(string modelsFolder)
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
            throw new ArgumentException($"A charrnn server is using the models folder {modelsFolder} (it holds {path}); " +
                                        "train through it (charrnn, or charrnn --server HOST:PORT), or stop it first.");
        }
    }


    private void AddColumn(string table, string column, string definition)
    {
        using var c = Command($"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = $column", ("$column", column));
        if (Convert.ToInt64(c.ExecuteScalar(), CultureInfo.InvariantCulture) == 0) Execute($"ALTER TABLE {table} ADD COLUMN {column} {definition}");
    }

    // ---- models -------------------------------------------------------------------------

    public ModelRecord? Model(string name)
    {
        lock (_gate)
        {
            using var c = Command("SELECT name, owner, shared FROM models WHERE name = $name", ("$name", name));
            using var r = c.ExecuteReader();
            return r.Read() ? new ModelRecord(r.GetString(0), r.GetString(1), r.GetInt64(2) != 0) : null;
        }
    }

    /// <summary>Names of the models <paramref name="owner"/> owns, or owned: rows of models since gone are not removed by every path.</summary>
    public IReadOnlyList<string> ModelNamesOwnedBy(string owner)
    {
        lock (_gate)
        {
            using var c = Command("SELECT name FROM models WHERE owner = $owner", ("$owner", owner));
            using var r = c.ExecuteReader();
            var names = new List<string>();
            while (r.Read()) names.Add(r.GetString(0));
            return names;
        }
    }

    public void SetModelOwner(string name, string owner)
    {
        lock (_gate) SetModelOwnerLocked(name, owner);
    }

    private void SetModelOwnerLocked(string name, string owner)
    {
        using var c = Command("INSERT INTO models(name, owner, shared, created) VALUES($name, $owner, 0, $now) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, shared = 0",
            ("$name", name), ("$owner", owner), ("$now", Now()));
        c.ExecuteNonQuery();
    }

    public void SetShared(string name, bool shared)
    {
        lock (_gate)
        {
            using var c = Command("UPDATE models SET shared = $shared WHERE name = $name", ("$name", name), ("$shared", shared ? 1 : 0));
            c.ExecuteNonQuery();
        }
    }

    public void ForgetModel(string name)
    {
        lock (_gate)
        {
            using var c = Command("DELETE FROM models WHERE name = $name", ("$name", name));
            c.ExecuteNonQuery();
        }
    }

    // ---- uploaded corpora -----------------------------------------------------------------

    /// <summary>The key that uploaded a corpus; null when no row names one (a file put in the uploads folder by hand) or it was deleted.</summary>
    public string? CorpusOwner(string name)
    {
        lock (_gate)
        {
            using var c = Command("SELECT owner FROM corpora WHERE name = $name AND deleted IS NULL", ("$name", name));
            return c.ExecuteScalar() as string;
        }
    }

    public void SetCorpusOwner(string name, string owner)
    {
        lock (_gate)
        {
            using var c = Command("INSERT INTO corpora(name, owner, created) VALUES($name, $owner, $now) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, deleted = NULL",
                ("$name", name), ("$owner", owner), ("$now", Now()));
            c.ExecuteNonQuery();
        }
    }

    public void MarkCorpusDeleted(string name)
    {
        lock (_gate)
        {
            using var c = Command("UPDATE corpora SET deleted = $now WHERE name = $name", ("$name", name), ("$now", Now()));
            c.ExecuteNonQuery();
        }
    }

    /// <summary>When DeleteCorpus deleted the upload of that name; null for a name never uploaded, or stored again since.</summary>
    public DateTimeOffset? CorpusDeletedAt(string name)
    {
        lock (_gate)
        {
            using var c = Command("SELECT deleted FROM corpora WHERE name = $name AND deleted IS NOT NULL", ("$name", name));
            return c.ExecuteScalar() is string at ? Parse(at) : null;
        }
    }

    public void ForgetCorpus(string name)
    {
        lock (_gate)
        {
            using var c = Command("DELETE FROM corpora WHERE name = $name", ("$name", name));
            c.ExecuteNonQuery();
        }
    }

    // ---- jobs ---------------------------------------------------------------------------

    /// <summary>
    /// A job's row, and with <paramref name="newModelOwner"/> the owner of the model it makes, in one
    /// transaction: a job stored without its model's owner would run after a restart into a model
    /// its caller could then neither resume nor delete (and the caller was told it failed).
    /// </summary>
    public void InsertJob(JobRecord job, string? newModelOwner = null)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using var c = Command("""
                INSERT INTO jobs(id, owner, model_name, state, plan, created, reason, key_hash) VALUES($id, $owner, $model, $state, $plan, $created, $reason, $key)
                ON CONFLICT(id) DO UPDATE SET state = excluded.state, reason = excluded.reason
                """,
                ("$id", job.Id), ("$owner", job.Owner), ("$model", job.ModelName), ("$state", job.State),
                ("$plan", JsonSerializer.Serialize(job.Plan, CheckpointFile.Json)), ("$created", Format(job.Created)), ("$reason", job.Reason), ("$key", (object?)job.KeyHash ?? DBNull.Value));
            c.ExecuteNonQuery();
            if (newModelOwner != null) SetModelOwnerLocked(job.ModelName, newModelOwner);
            transaction.Commit();
        }
    }

    /// <param name="runTime">How long the job has trained, over all its runs: a time budget counts it across restarts.</param>
    /// <param name="stoppedOnRequest">A stopped job's JobStopped.OnRequest, for its end rebuilt from this row if its event is lost.</param>
    public void UpdateJob(string id, string state, string reason, long step, long totalSteps, double? bestValidLoss, DateTimeOffset? started, DateTimeOffset? ended,
        TimeSpan runTime, bool stoppedOnRequest = false)
    {
        lock (_gate)
        {
            using var c = Command("""
                UPDATE jobs SET state = $state, reason = $reason, step = $step, total_steps = $total, best_valid_loss = $best,
                    started = COALESCE($started, started), ended = $ended, run_seconds = MAX(run_seconds, $run), stopped_on_request = $onRequest WHERE id = $id
                """,
                ("$id", id), ("$onRequest", stoppedOnRequest ? 1 : 0), ("$state", state), ("$reason", reason), ("$step", step), ("$total", totalSteps), ("$run", runTime.TotalSeconds),
                ("$best", bestValidLoss is { } b && double.IsFinite(b) ? b : DBNull.Value),
                ("$started", started is { } s ? Format(s) : DBNull.Value), ("$ended", ended is { } e ? Format(e) : DBNull.Value));
            c.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// A running job's progress, for a restart. A no-op once the job has ended: written off the
    /// device thread, a late one must not undo the end stored after it.
    /// </summary>
    public void UpdateProgress(string id, long step, long totalSteps, double? bestValidLoss, TimeSpan runTime)
    {
        lock (_gate)
        {
            using var c = Command("""
                UPDATE jobs SET step = $step, total_steps = $total, best_valid_loss = $best, run_seconds = MAX(run_seconds, $run)
                WHERE id = $id AND state = 'running'
                """,
                ("$id", id), ("$step", step), ("$total", totalSteps), ("$run", runTime.TotalSeconds),
                ("$best", bestValidLoss is { } b && double.IsFinite(b) ? b : DBNull.Value));
            c.ExecuteNonQuery();
        }
    }

    /// <summary>Each key's <paramref name="count"/> jobs that ended last, newest first (rows whose plan cannot be read are left out).</summary>
    public IReadOnlyList<JobRecord> EndedJobs(int count)
    {
        lock (_gate)
        {
            using var c = Command($"SELECT {JobColumns} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY owner ORDER BY ended DESC) AS newest " +
                                  "FROM jobs WHERE state IN ('finished', 'stopped', 'failed')) WHERE newest <= $count ORDER BY ended DESC", ("$count", count));
            using var r = c.ExecuteReader();
            var jobs = new List<JobRecord>();
            while (r.Read())
            {
                if (Read(r, out _) is { } job) jobs.Add(job);
            }
            return jobs;
        }
    }

    public void ForgetJob(string id)
    {
        lock (_gate)
        {
            using var c = Command("DELETE FROM job_events WHERE job_id = $id; DELETE FROM jobs WHERE id = $id", ("$id", id));
            c.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Stores events, and a number at least as high as any each job has given out (<paramref name="lastSequences"/>:
    /// watchers saw events that were not stored too), in one transaction. Events of jobs no longer in the
    /// database (forgotten meanwhile) are left out, as is an event whose number is stored already.
    /// </summary>
    public void AppendJobEvents(IReadOnlyList<StoredJobEvent> events, IReadOnlyDictionary<string, long>? lastSequences = null)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using var insert = Command("""
                INSERT OR IGNORE INTO job_events(job_id, sequence, time, step, payload)
                SELECT $job, $sequence, $time, $step, $payload WHERE EXISTS (SELECT 1 FROM jobs WHERE id = $job)
                """, ("$job", ""), ("$sequence", 0L), ("$time", ""), ("$step", 0L), ("$payload", ""));
            insert.Transaction = transaction;
            foreach (var e in events)
            {
                insert.Parameters["$job"].Value = e.JobId;
                insert.Parameters["$sequence"].Value = e.Sequence;
                insert.Parameters["$time"].Value = Format(e.Time);
                insert.Parameters["$step"].Value = e.Step;
                insert.Parameters["$payload"].Value = e.Payload;
                insert.ExecuteNonQuery();
            }
            using var mark = Command("UPDATE jobs SET last_sequence = MAX(last_sequence, $sequence) WHERE id = $job", ("$job", ""), ("$sequence", 0L));
            mark.Transaction = transaction;
            foreach (var (job, sequence) in lastSequences ?? new Dictionary<string, long>())
            {
                mark.Parameters["$job"].Value = job;
                mark.Parameters["$sequence"].Value = sequence;
                mark.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    /// <summary>A job's stored events, in order, and the number its next event gets (past every number it gave out, stored or not).</summary>
    public (IReadOnlyList<StoredJobEvent> Events, long NextSequence) JobEvents(string jobId)
    {
        lock (_gate)
        {
            using var c = Command("SELECT sequence, time, step, payload FROM job_events WHERE job_id = $job ORDER BY sequence", ("$job", jobId));
            var events = new List<StoredJobEvent>();
            using (var r = c.ExecuteReader())
                while (r.Read()) events.Add(new StoredJobEvent(jobId, r.GetInt64(0), Parse(r.GetString(1)), r.GetInt64(2), r.GetString(3)));
            using var last = Command("SELECT last_sequence FROM jobs WHERE id = $job", ("$job", jobId));
            var given = last.ExecuteScalar() is long l ? l : -1;
            return (events, Math.Max(given, events.Count > 0 ? events[^1].Sequence : -1) + 1);
        }
    }

    private const string JobColumns = "id, owner, model_name, state, plan, created, started, ended, reason, step, total_steps, best_valid_loss, run_seconds, key_hash, stopped_on_request";

    /// <summary>A row of <see cref="JobColumns"/>; null, with why, when its stored plan cannot be read.</summary>
    private static JobRecord? Read(SqliteDataReader r, out string? problem)
    {
        JobRecordPlan plan;
        try { plan = JsonSerializer.Deserialize<JobRecordPlan>(r.GetString(4), CheckpointFile.Json)!; }
        catch (JsonException e) { problem = e.Message; return null; }
        problem = null;
        return new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), plan,
            Parse(r.GetString(5)), r.IsDBNull(6) ? null : Parse(r.GetString(6)), r.IsDBNull(7) ? null : Parse(r.GetString(7)),
            r.GetString(8), r.GetInt64(9), r.GetInt64(10), r.IsDBNull(11) ? null : r.GetDouble(11), r.GetDouble(12), r.IsDBNull(13) ? null : r.GetString(13),
            r.GetInt64(14) != 0);
    }

    /// <summary>Jobs that were queued or running when the server last stopped, oldest first; rows whose plan cannot be read are marked failed.</summary>
    public IReadOnlyList<JobRecord> UnfinishedJobs()
    {
        lock (_gate)
        {
            using var c = Command($"SELECT {JobColumns} FROM jobs WHERE state IN ('queued', 'running') ORDER BY state = 'running' DESC, created"); // what ran goes on first
            using var r = c.ExecuteReader();
            var jobs = new List<JobRecord>();
            var unreadable = new List<(string Id, string Reason)>();
            while (r.Read())
            {
                if (Read(r, out var problem) is { } job) jobs.Add(job);
                else unreadable.Add((r.GetString(0), problem!)); // one bad row must not stop the server
            }
            r.Close();
            foreach (var (id, reason) in unreadable)
            {
                using var fail = Command("UPDATE jobs SET state = 'failed', reason = $reason, ended = $now WHERE id = $id",
                    ("$id", id), ("$reason", $"could not be recovered after a restart: its stored plan is unreadable ({reason})"), ("$now", Now()));
                fail.ExecuteNonQuery();
            }
            return jobs;
        }
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
    }
}
