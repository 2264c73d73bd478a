namespace CharRnn.ModelServer.Persistence;

/// <summary>The corpora table: who uploaded each corpus, and when DeleteCorpus deleted it.</summary>
public sealed partial class ServerDatabase
{
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
}
