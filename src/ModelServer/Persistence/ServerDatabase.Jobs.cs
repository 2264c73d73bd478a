using System.Globalization;
using System.Text.Json;
using CharRnn.Engine.Checkpoints;
using Microsoft.Data.Sqlite;

namespace CharRnn.ModelServer.Persistence;

/// <summary>The jobs and job_events tables: jobs as queued, run and ended, and each job's events, so a restart can queue, resume and replay them.</summary>
public sealed partial class ServerDatabase
{
    /// <summary>
    /// A job's row, and with <paramref name="newModelOwner"/> the owner of the model it makes, in one
    /// transaction: a job stored without its model's owner would run after a restart into a model
    /// its caller could then neither resume nor delete (and the caller was told it failed). The name's ended jobs are then
    /// marked as of a deleted model (<see cref="SetNewModelOwner"/>).
    /// </summary>
    public void InsertJob(JobRecord job, string? newModelOwner = null)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            // Before the job's own row, which is of the new model, not of a deleted one.
            if (newModelOwner != null) SetNewModelOwnerLocked(job.ModelName, newModelOwner);
            using var c = Command("""
                INSERT INTO jobs(id, owner, model_name, state, plan, created, reason, key_hash) VALUES($id, $owner, $model, $state, $plan, $created, $reason, $key)
                ON CONFLICT(id) DO UPDATE SET state = excluded.state, reason = excluded.reason
                """,
                ("$id", job.Id), ("$owner", job.Owner), ("$model", job.ModelName), ("$state", job.State),
                ("$plan", JsonSerializer.Serialize(job.Plan, CheckpointFile.Json)), ("$created", Format(job.Created)), ("$reason", job.Reason), ("$key", (object?)job.KeyHash ?? DBNull.Value));
            c.ExecuteNonQuery();
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
}
