using CharRnn.ModelServer.Persistence;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// What a rename or a delete did in the models folder but could not record in the database (its last write refused, its
/// folder not moved back): a rename that stands leaves its old name's row, and its jobs' rows naming that name; a hidden delete
/// leaves its name's row and its jobs unmarked. Such a row is no model's owner meanwhile: a model made under that name outside
/// the server (charrnn train) belongs to nobody, as any made so. Every call that writes the rows of one of those names (a rename
/// from or to it, a delete, a new model by a job or an import, a share) records the change first, so that what it writes is
/// not mixed with what was left: a rename back or on takes the model's jobs along; a model made again there is not the old
/// owner's. Where the disk still refuses, that call is refused as the disk's refusal, nothing changed. The next start records what is left.
/// </summary>
public sealed partial class ModelStore
{
    private sealed record UnrecordedChange(string StaleRowOf, string? ModelNowAt, Action Record);

    private readonly List<UnrecordedChange> _unrecorded = []; // under its own lock

    /// <summary>A change that stands unrecorded: <paramref name="staleRowOf"/>'s row names no model there now, until <paramref name="record"/> runs.</summary>
    private void LeftUnrecorded(string staleRowOf, string? modelNowAt, Action record)
    {
        lock (_unrecorded) _unrecorded.Add(new UnrecordedChange(staleRowOf, modelNowAt, record));
    }

    /// <summary>
    /// Records the changes left unrecorded that concern <paramref name="name"/> (in any case), before a call writes its rows;
    /// throws the database's refusal where the disk still refuses (the change is then kept for the next call, or start).
    /// </summary>
    public void RecordUnrecorded(string name)
    {
        List<UnrecordedChange> due;
        lock (_unrecorded) // taken out first, so that no other call records one twice, and run outside the lock every owner check takes
        {
            due = _unrecorded.Where(c => Concerns(c, name)).ToList();
            _unrecorded.RemoveAll(due.Contains);
        }
        for (var i = 0; i < due.Count; i++)
        {
            try { due[i].Record(); }
            catch
            {
                lock (_unrecorded) _unrecorded.AddRange(due.Skip(i)); // kept for the next call, or the next start
                throw;
            }
        }
    }

    private static bool Concerns(UnrecordedChange change, string name) =>
        string.Equals(change.StaleRowOf, name, StringComparison.OrdinalIgnoreCase) || string.Equals(change.ModelNowAt, name, StringComparison.OrdinalIgnoreCase);

    /// <summary>The owner row of model <paramref name="name"/>: none where the row there is one a change left unrecorded.</summary>
    private ModelRecord? OwnerRow(string name)
    {
        lock (_unrecorded)
            if (_unrecorded.Any(c => c.StaleRowOf == name)) return null;
        return _database.Model(name);
    }
}
