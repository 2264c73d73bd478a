namespace CharRnn.ModelServer.Persistence;

/// <summary>The models table: who owns each model, and whether others may use it.</summary>
public sealed partial class ServerDatabase
{
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

    /// <summary>Makes <paramref name="owner"/> the model's owner, and sets whether it is <paramref name="shared"/>, in one write.</summary>
    public void SetModelOwner(string name, string owner, bool shared = false)
    {
        lock (_gate) SetModelOwnerLocked(name, owner, shared);
    }

    /// <summary>
    /// The owner row of a model made under <paramref name="name"/>, a name with no model (by a job or an import), and the name's
    /// ended jobs marked as of a deleted model, in one transaction, as <see cref="ForgetDeletedModel"/> marks them.
    /// </summary>
    public void SetNewModelOwner(string name, string owner, bool shared = false)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            SetNewModelOwnerLocked(name, owner, shared);
            transaction.Commit();
        }
    }

    // A name with no model: its ended jobs trained one deleted since, also where that delete could not be recorded (a hidden
    // delete, ModelStore.Delete) and marked none. The new model, renamed, leaves them behind.
    private void SetNewModelOwnerLocked(string name, string owner, bool shared = false)
    {
        MarkJobsOfDeletedModelLocked(name);
        SetModelOwnerLocked(name, owner, shared);
    }

    private void SetModelOwnerLocked(string name, string owner, bool shared = false)
    {
        using var c = Command("INSERT INTO models(name, owner, shared, created) VALUES($name, $owner, $shared, $now) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, shared = excluded.shared",
            ("$name", name), ("$owner", owner), ("$shared", shared ? 1 : 0), ("$now", Now()));
        c.ExecuteNonQuery();
    }

    /// <summary>
    /// Sets whether the model is <paramref name="shared"/>, and where it has no owner row (made outside the server) makes
    /// <paramref name="ownerIfNone"/> its owner, in one write: a disk refusing it leaves the model as it was, never owned but
    /// not shared (hidden from every other key) by a share the caller was told failed.
    /// </summary>
    public void SetShared(string name, bool shared, string ownerIfNone)
    {
        lock (_gate)
        {
            using var c = Command("INSERT INTO models(name, owner, shared, created) VALUES($name, $owner, $shared, $now) ON CONFLICT(name) DO UPDATE SET shared = excluded.shared",
                ("$name", name), ("$owner", ownerIfNone), ("$shared", shared ? 1 : 0), ("$now", Now()));
            c.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Gives <paramref name="to"/> the owner row <paramref name="from"/> has (owner, shared, created), in one transaction,
    /// replacing any row <paramref name="to"/> had (one of a model since gone), and marks the ended jobs of <paramref name="to"/> as of
    /// a deleted model; with no row for <paramref name="from"/>, none for <paramref name="to"/>. The row of <paramref name="from"/> stays until <see cref="ForgetModel"/>: a rename copies,
    /// moves the folder, then forgets, so that the folder has its row at either name.
    /// </summary>
    public void CopyModel(string from, string to)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using (var forget = Command("DELETE FROM models WHERE name = $to", ("$to", to)))
                forget.ExecuteNonQuery();
            // A rename's new name has no model: its ended jobs are a deleted one's (SetNewModelOwnerLocked).
            MarkJobsOfDeletedModelLocked(to);
            using (var copy = Command("INSERT INTO models(name, owner, shared, created) SELECT $to, owner, shared, created FROM models WHERE name = $from", ("$from", from), ("$to", to)))
                copy.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    /// <summary>
    /// The end of a rename, in one transaction: the row of <paramref name="from"/> forgotten (<see cref="CopyModel"/> made the
    /// new one) and the jobs that trained it named <paramref name="to"/>, so ListJobs and GetJob name the model as it is now.
    /// A rename waits for the model's own jobs to end, so these are ended ones; those of an earlier model of <paramref name="from"/>,
    /// deleted since, stay.
    /// </summary>
    public void FinishModelRename(string from, string to)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using (var forget = Command("DELETE FROM models WHERE name = $from", ("$from", from)))
                forget.ExecuteNonQuery();
            RenameJobsLocked(from, to);
            transaction.Commit();
        }
    }

    /// <summary>The jobs that trained <paramref name="from"/> named <paramref name="to"/>: a rename a stop cut short, finished at the start.</summary>
    public void RenameJobs(string from, string to)
    {
        lock (_gate) RenameJobsLocked(from, to);
    }

    // Only the jobs of the model as it is: one of an earlier model of that name, deleted since, is marked so (model_gone) and keeps
    // naming that one. Not told apart by time: a model renamed to a deleted one's name brings jobs older than that one's, and a row
    // made by a share can be younger than the model's own jobs.
    private void RenameJobsLocked(string from, string to)
    {
        using var rename = Command("UPDATE jobs SET model_name = $to WHERE model_name = $from AND model_gone = 0", ("$from", from), ("$to", to));
        rename.ExecuteNonQuery();
    }

    /// <summary>The ids of the stored jobs that trained the model named <paramref name="name"/> now (not an earlier one deleted since).</summary>
    public IReadOnlySet<string> JobIdsOfModel(string name)
    {
        lock (_gate)
        {
            using var c = Command("SELECT id FROM jobs WHERE model_name = $name AND model_gone = 0", ("$name", name));
            using var r = c.ExecuteReader();
            var ids = new HashSet<string>(StringComparer.Ordinal);
            while (r.Read()) ids.Add(r.GetString(0));
            return ids;
        }
    }

    /// <summary>
    /// A deleted model's row forgotten and its ended jobs marked as of a model gone, in one transaction: they keep its name, and a
    /// model made under that name later does not take them along when it is renamed (a delete waits for the model's jobs to end).
    /// </summary>
    public void ForgetDeletedModel(string name)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using (var forget = Command("DELETE FROM models WHERE name = $name", ("$name", name)))
                forget.ExecuteNonQuery();
            MarkJobsOfDeletedModelLocked(name);
            transaction.Commit();
        }
    }

    /// <summary>The ended jobs of <paramref name="name"/> marked as of a deleted model (a delete the server's stop cut short, finished at the start).</summary>
    public void MarkJobsOfDeletedModel(string name)
    {
        lock (_gate) MarkJobsOfDeletedModelLocked(name);
    }

    private void MarkJobsOfDeletedModelLocked(string name)
    {
        using var mark = Command("UPDATE jobs SET model_gone = 1 WHERE model_name = $name AND state NOT IN ('queued', 'running')", ("$name", name));
        mark.ExecuteNonQuery();
    }

    public void ForgetModel(string name)
    {
        lock (_gate)
        {
            using var c = Command("DELETE FROM models WHERE name = $name", ("$name", name));
            c.ExecuteNonQuery();
        }
    }
}
