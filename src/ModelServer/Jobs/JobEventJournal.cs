using System.Text.Json;
using System.Threading.Channels;
using CharRnn.Engine.Checkpoints;
using CharRnn.ModelServer.Persistence;

namespace CharRnn.ModelServer.Jobs;

/// <summary>
/// Keeps jobs' events in the server database, so that after a restart WatchJob still has a job's
/// history (its loss curve, epoch ends, checkpoints and end). Events are written in the
/// background, in batches, so that training never waits on the disk; a kill -9 loses at most the
/// last moment's. Progress is kept sparser than live (at most one a second, the interval doubling
/// every <see cref="ProgressPerLevel"/> stored), so that even a months-long job stores tens of
/// thousands of rows; every other kind of event is kept.
/// </summary>
public sealed class JobEventJournal : IDisposable
{
    private const int ProgressPerLevel = 2_000;
    private static readonly TimeSpan FirstProgressInterval = TimeSpan.FromSeconds(1);
    private static readonly JsonSerializerOptions Json = new(CheckpointFile.Json) { WriteIndented = false };

    private readonly ServerDatabase _database;
    private readonly ILogger<JobEventJournal> _logger;
    private readonly Channel<JobEvent> _pending = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });
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

    /// <summary>Queues an event for the database (progress only if its turn has come). Any thread; never blocks.</summary>
    public void Record(JobEvent e)
    {
        if (e.Payload is JobProgressed && !ProgressDue(e)) return;
        if (e.Payload.IsTerminal) lock (_progress) _progress.Remove(e.JobId);
        _pending.Writer.TryWrite(e); // false only after Dispose, when nothing more can be stored
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
    /// The events the database has for a job, in order. Rows this version cannot read (a newer
    /// server's kinds, damage) are skipped, with a warning: history is a record, not a requirement.
    /// </summary>
    public IReadOnlyList<JobEvent> History(string jobId)
    {
        var events = new List<JobEvent>();
        var unreadable = 0;
        foreach (var row in _database.JobEvents(jobId))
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
        if (unreadable > 0) _logger.LogWarning("Job {JobId}: {Count} stored event(s) could not be read and are left out of its history", jobId, unreadable);
        return events;
    }

    private async Task WriteAsync()
    {
        var batch = new List<StoredJobEvent>();
        while (await _pending.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < 1_000 && _pending.Reader.TryRead(out var e))
                batch.Add(new StoredJobEvent(e.JobId, e.Sequence, e.Time, e.Step, JsonSerializer.Serialize(e.Payload, Json)));
            try
            {
                _database.AppendJobEvents(batch);
            }
            catch (Exception e)
            {
                // A full disk costs the history, not the job (its checkpoints report their own errors).
                _logger.LogWarning(e, "{Count} job event(s) could not be stored; they are missing from the jobs' history after a restart", batch.Count);
            }
            batch.Clear();
        }
    }

    /// <summary>Writes what is queued (server shutdown: after the device loop's last events), then stops.</summary>
    public void Dispose()
    {
        _pending.Writer.TryComplete();
        if (!_writer.Wait(TimeSpan.FromSeconds(10)))
            _logger.LogWarning("Job events were still being stored after 10 s at shutdown; the rest are not kept");
    }
}
