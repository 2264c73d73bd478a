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

    public void ForgetModel(string name)
    {
        lock (_gate)
        {
            using var c = Command("DELETE FROM models WHERE name = $name", ("$name", name));
            c.ExecuteNonQuery();
        }
    }
}
