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

    /// <summary>
    /// Gives <paramref name="to"/> the owner row <paramref name="from"/> has (owner, shared, created), in one transaction,
    /// replacing any row <paramref name="to"/> had (one of a model since gone); with none for <paramref name="from"/>, none
    /// for <paramref name="to"/>. The row of <paramref name="from"/> stays until <see cref="ForgetModel"/>: a rename copies,
    /// moves the folder, then forgets, so that the folder has its row at either name.
    /// </summary>
    public void CopyModel(string from, string to)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using (var forget = Command("DELETE FROM models WHERE name = $to", ("$to", to)))
                forget.ExecuteNonQuery();
            using (var copy = Command("INSERT INTO models(name, owner, shared, created) SELECT $to, owner, shared, created FROM models WHERE name = $from", ("$from", from), ("$to", to)))
                copy.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    /// <summary>
    /// The end of a rename, in one transaction: the row of <paramref name="from"/> forgotten (<see cref="CopyModel"/> made the
    /// new one) and the jobs that trained it named <paramref name="to"/>, so ListJobs and GetJob name the model as it is now.
    /// A rename waits for the model's own jobs to end, so these are ended ones.
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

    // Only the jobs of the model as it is: one that ended before its row was made (the copy of its first name's, made
    // when its first job or its import was stored) trained an earlier model of that name, deleted since, and keeps naming
    // that one. A model with no row (made outside the server) has every job of its name. Times are all "O" in UTC: they
    // compare as text.
    private void RenameJobsLocked(string from, string to)
    {
        using var rename = Command("""
            UPDATE jobs SET model_name = $to WHERE model_name = $from
                AND (ended IS NULL OR ended >= COALESCE((SELECT created FROM models WHERE name = $to), ''))
            """, ("$from", from), ("$to", to));
        rename.ExecuteNonQuery();
    }

    /// <summary>When the row of model <paramref name="name"/> was made (its first job or its import stored); null without one.</summary>
    public DateTimeOffset? ModelCreated(string name)
    {
        lock (_gate)
        {
            using var c = Command("SELECT created FROM models WHERE name = $name", ("$name", name));
            return c.ExecuteScalar() is string created ? Parse(created) : null;
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
}
