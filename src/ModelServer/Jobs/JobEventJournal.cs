using System.Text.Json;
using System.Threading.Channels;
using CharRnn.Engine.Checkpoints;
using CharRnn.ModelServer.Persistence;

namespace CharRnn.ModelServer.Jobs;

/// <summary>
/// Keeps jobs' events in the server database, so that after a restart WatchJob still has a job's
/// history (its loss curve, epoch ends, checkpoints and end). Events are written in the
/// background, in batches, so that training does not wait on each write; a kill -9 loses at most
/// the last moment's. Progress is kept sparser than live (at most one a second, the interval
/// doubling every <see cref="ProgressPerLevel"/> stored, across restarts too), so that even a
/// months-long job stores tens of thousands of rows; every other kind of event is kept. A mark
/// past the numbers given out is stored too (<see cref="SequencesReserved"/> ahead), so that a
/// job's numbering after a restart goes on past every number a watcher may have seen, left-out
/// progress included.
/// </summary>
public sealed class JobEventJournal : IDisposable
{
    private const int ProgressPerLevel = 2_000;
    private static readonly TimeSpan FirstProgressInterval = TimeSpan.FromSeconds(1);
    private static readonly JsonSerializerOptions Json = new(CheckpointFile.Json) { WriteIndented = false };

    private readonly ServerDatabase _database;
    private readonly ILogger<JobEventJournal> _logger;
    private readonly Channel<(JobEvent Event, bool Store)> _pending = Channel.CreateUnbounded<(JobEvent, bool)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, ProgressKept> _progress = new(StringComparer.Ordinal);
    private readonly Task _writer;

    private sealed class ProgressKept
    {
        public DateTimeOffset Last = DateTimeOffset.MinValue;
        public int Count;
    }

    public JobEventJournal(ServerDatabase database, ILogger<JobEventJournal> logger)
    {
        _database = database;
        _logger = logger;
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>Queues an event for the database (progress only if its turn has come; its number in any case). Any thread; never blocks.</summary>
    public void Record(JobEvent e)
    {
        var store = e.Payload is not JobProgressed || ProgressDue(e);
        if (e.Payload.IsTerminal) lock (_progress) _progress.Remove(e.JobId);
        _pending.Writer.TryWrite((e, store)); // false only after Dispose, when nothing more can be stored
    }

    private bool ProgressDue(JobEvent e)
    {
        lock (_progress)
        {
            if (!_progress.TryGetValue(e.JobId, out var kept)) _progress[e.JobId] = kept = new ProgressKept();
            var interval = FirstProgressInterval * Math.Pow(2, Math.Min(30, kept.Count / ProgressPerLevel));
            if (e.Time - kept.Last < interval) return false;
            kept.Last = e.Time;
            kept.Count++;
            return true;
        }
    }

    /// <summary>
    /// The events the database has for a job, in order, and the number its next event gets. Rows
    /// this version cannot read (a newer server's kinds, damage) are skipped, with a warning:
    /// history is a record, not a requirement. For a job that <paramref name="goesOn"/> (one
    /// recovered after a restart), progress is thinned on from where it was.
    /// </summary>
    public (IReadOnlyList<JobEvent> Events, long NextSequence) History(string jobId, bool goesOn = true)
    {
        var events = new List<JobEvent>();
        var unreadable = 0;
        var (rows, nextSequence) = _database.JobEvents(jobId);
        foreach (var row in rows)
        {
            try
            {
                if (JsonSerializer.Deserialize<JobEventPayload>(row.Payload, Json) is { } payload)
                    events.Add(new JobEvent(row.Sequence, jobId, row.Time, row.Step, payload));
                else unreadable++;
            }
            catch (Exception e) when (e is JsonException or NotSupportedException)
            {
                unreadable++;
            }
        }
        // Nothing is numbered after a job's end but a later run's events, which go on from it: the mark stored ahead is not needed.
        if (rows.Count > 0 && events.Count > 0 && events[^1].Sequence == rows[^1].Sequence && events[^1].Payload.IsTerminal)
            nextSequence = events[^1].Sequence + 1;
        if (unreadable > 0) _logger.LogWarning("Job {JobId}: {Count} stored event(s) could not be read and are left out of its history", jobId, unreadable);
        var progress = events.Where(e => e.Payload is JobProgressed).ToList();
        if (goesOn && progress.Count > 0) // thinning goes on where it was
            lock (_progress) _progress[jobId] = new ProgressKept { Count = progress.Count, Last = progress[^1].Time };
        return (events, nextSequence);
    }

    /// <summary>
    /// An ended job's epoch as its stored events have it: the one its end carries, or, for an end stored
    /// without it (by an older server), the last stored progress's; 0 with neither. Parses from the last
    /// event back, not the whole history. Progress stored by a server before Job.epoch was 1-based counts
    /// from 0, and is returned as stored.
    /// </summary>
    public int EndedEpoch(string jobId)
    {
        var (rows, _) = _database.JobEvents(jobId);
        for (var i = rows.Count - 1; i >= 0; i--)
        {
            JobEventPayload? payload;
            try { payload = JsonSerializer.Deserialize<JobEventPayload>(rows[i].Payload, Json); }
            catch (Exception e) when (e is JsonException or NotSupportedException) { continue; }
            if (payload is JobEnd { Epoch: { } epoch }) return epoch;
            if (payload is JobProgressed p) return p.Progress.Epoch;
        }
        return 0;
    }

    /// <summary>
    /// Numbers stored ahead of those given out: the database holds a mark at least as high as any
    /// number a watcher may have seen, moved on when a job's numbers reach half-way to it (not only
    /// once they pass it: a watcher gets a number before the write that would cover it), so that
    /// unstored progress (most of it) costs a write per 500. After a crash a job's numbering resumes past the mark.
    /// </summary>
    public const long SequencesReserved = 1_000;

    private async Task WriteAsync()
    {
        var batch = new List<StoredJobEvent>();
        var marks = new Dictionary<string, long>(StringComparer.Ordinal); // to store in this batch
        var reserved = new Dictionary<string, long>(StringComparer.Ordinal); // stored marks, per job
        while (await _pending.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < 1_000 && _pending.Reader.TryRead(out var item))
            {
                var e = item.Event;
                // Renewed at half, not once passed: watchers have each number before its batch is stored.
                if (e.Sequence > reserved.GetValueOrDefault(e.JobId, -1) - SequencesReserved / 2)
                    marks[e.JobId] = reserved[e.JobId] = e.Sequence + SequencesReserved;
                if (e.Payload.IsTerminal) reserved.Remove(e.JobId);
                if (!item.Store) continue;
                try
                {
                    batch.Add(new StoredJobEvent(e.JobId, e.Sequence, e.Time, e.Step, JsonSerializer.Serialize(e.Payload, Json)));
                }
                catch (Exception x) when (x is JsonException or NotSupportedException)
                {
                    _logger.LogWarning(x, "Job {JobId}: event {Sequence} could not be stored and is missing from its history after a restart", e.JobId, e.Sequence);
                }
            }
            if (batch.Count == 0 && marks.Count == 0) continue;
            try
            {
                _database.AppendJobEvents(batch, marks);
            }
            catch (Exception e)
            {
                // A full disk costs the history, not the job (its checkpoints report their own errors).
                _logger.LogWarning(e, "{Count} job event(s) could not be stored; they are missing from the jobs' history after a restart", batch.Count);
                foreach (var job in marks.Keys) reserved.Remove(job); // not stored: the next event tries again
            }
            batch.Clear();
            marks.Clear();
        }
    }

    /// <summary>Writes what is queued (server shutdown: after the device loop's last events), then stops.</summary>
    public void Dispose()
    {
        _pending.Writer.TryComplete();
        try
        {
            if (!_writer.Wait(TimeSpan.FromSeconds(10)))
                _logger.LogWarning("Job events were still being stored after 10 s at shutdown; the rest are not kept");
        }
        catch (AggregateException e)
        {
            _logger.LogWarning(e, "The job event writer failed; events since are not kept"); // the database must still be closed after this
        }
    }
}
