using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Jobs;
using CharRnn.ModelServer.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace CharRnn.ModelServer.Tests;

/// <summary>Jobs' events in the database: what is kept, how it reads back, what is left out.</summary>
public sealed class JobEventJournalTests : IDisposable
{
    private readonly string _models = Path.Combine(Path.GetTempPath(), "charrnn-journal-" + Guid.NewGuid().ToString("N")[..8]);
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private ServerDatabase Open() => new(Microsoft.Extensions.Options.Options.Create(new Hosting.ServerOptions { ModelsDirectory = _models }));

    private static void AddJob(ServerDatabase database, string id) =>
        database.InsertJob(new JobRecord(id, "local", "m-" + id, "running",
            new JobRecordPlan("stateful-gru", null, new TrainingOptions(), "tiny", false, false), T0, null, null, "", 0, 0, null));

    private static JobEvent Progress(string job, long sequence, TimeSpan at) =>
        new(sequence, job, T0 + at, sequence, new JobProgressed(new TrainingProgress(sequence, 1, (int)sequence, 100, 0.5, 2.5, 1e-3, 5000, at, null, 1000)));

    /// <summary>Records <paramref name="events"/> and waits until they are written (disposing the journal flushes it).</summary>
    private static void Record(ServerDatabase database, IEnumerable<JobEvent> events)
    {
        using var journal = new JobEventJournal(database, NullLogger<JobEventJournal>.Instance);
        foreach (var e in events) journal.Record(e);
    }

    [Fact]
    public void Every_kind_of_event_reads_back_as_it_was_and_progress_is_kept_once_a_second()
    {
        using var database = Open();
        AddJob(database, "j-1");
        var events = new List<JobEvent>
        {
            new(0, "j-1", T0, 0, new JobQueued(2)),
            new(1, "j-1", T0, 0, new JobStarted("cpu (2 threads)", 1000, 12345, 0, 60, 600_000)),
        };
        for (int i = 0; i < 50; i++) events.Add(Progress("j-1", 2 + i, TimeSpan.FromMilliseconds(100 * i))); // 10 a second for 5 s
        events.Add(new(52, "j-1", T0 + TimeSpan.FromSeconds(5), 50, new JobEpochEnded(new EpochRecord(1, 50, 2.6, double.NaN, 0.31, 1e-3, 5.0, "the\nsample"))));
        events.Add(new(53, "j-1", T0 + TimeSpan.FromSeconds(5), 50, new JobCheckpointSaved("last.ckpt", "epoch", 1, 49)));
        events.Add(new(54, "j-1", T0 + TimeSpan.FromSeconds(6), 50, new JobStopped("stopped by its owner", true)));
        Record(database, events);

        using var journal = new JobEventJournal(database, NullLogger<JobEventJournal>.Instance);
        var (history, next) = journal.History("j-1");
        Assert.Equal(55, next);
        var progress = history.Where(e => e.Payload is JobProgressed).ToList();
        Assert.Equal([2L, 12, 22, 32, 42], progress.Select(e => e.Sequence)); // at 0, 1, 2, 3 and 4 s
        Assert.Equal(events.Where(e => e.Payload is not JobProgressed || progress.Any(p => p.Sequence == e.Sequence)), history);
        Assert.True(double.IsNaN(((JobEpochEnded)history.Single(e => e.Payload is JobEpochEnded).Payload).Record.ValidLoss));
    }

    [Fact]
    public void A_long_jobs_progress_thins_out_as_it_goes()
    {
        using var database = Open();
        AddJob(database, "j-long");
        Record(database, Enumerable.Range(0, 3_000).Select(i => Progress("j-long", i, TimeSpan.FromSeconds(i))));
        var kept = database.JobEvents("j-long").Events.Select(e => e.Sequence).ToList();
        Assert.Equal(2_500, kept.Count); // 2,000 a second apart, then every other one
        Assert.Equal(1_999, kept[1_999]);
        Assert.Equal(2_001, kept[2_000]);
        Assert.Equal(2_003, kept[2_001]);
    }

    [Fact]
    public void Unreadable_rows_are_left_out_forgotten_jobs_lose_their_events_and_unknown_ones_store_none()
    {
        using var database = Open();
        AddJob(database, "j-1");
        AddJob(database, "j-2");
        Record(database, [new(0, "j-1", T0, 0, new JobQueued(1)), new(1, "j-1", T0, 0, new JobFailed("diverged")),
                          new(0, "j-2", T0, 0, new JobQueued(1)), new(0, "j-unknown", T0, 0, new JobQueued(1))]);
        database.AppendJobEvents([new StoredJobEvent("j-1", 2, T0, 0, """{"kind":"from_a_newer_server"}"""),
                                  new StoredJobEvent("j-1", 3, T0, 0, "not json")]);

        using var journal = new JobEventJournal(database, NullLogger<JobEventJournal>.Instance);
        var (history, next) = journal.History("j-1");
        Assert.Equal([0L, 1], history.Select(e => e.Sequence));
        Assert.InRange(next, 4, 4 + JobEventJournal.SequencesReserved); // past the rows it cannot read: they are not overwritten
        Assert.Empty(journal.History("j-unknown").Events);
        database.ForgetJob("j-2");
        Assert.Empty(database.JobEvents("j-2").Events);
        Assert.Equal(4, database.JobEvents("j-1").Events.Count);
    }

    [Fact]
    public void Numbering_after_a_restart_goes_on_past_progress_that_was_not_stored()
    {
        using var database = Open();
        AddJob(database, "j-1");
        // Ten progress events in half a second: watchers saw all ten, the database keeps the first.
        Record(database, Enumerable.Range(0, 10).Select(i => Progress("j-1", i, TimeSpan.FromMilliseconds(50 * i))));
        using var journal = new JobEventJournal(database, NullLogger<JobEventJournal>.Instance);
        var (history, next) = journal.History("j-1");
        Assert.Equal([0L], history.Select(e => e.Sequence));
        // Past every number given out; a mark stored ahead of them (not a write per event) may skip some.
        Assert.InRange(next, 10, 10 + JobEventJournal.SequencesReserved);

        // A long run of unstored progress moves the mark as it passes it.
        Record(database, Enumerable.Range(10, 2_500).Select(i => Progress("j-1", i, TimeSpan.FromMilliseconds(500 + i))));
        var (_, later) = journal.History("j-1");
        Assert.InRange(later, 2_510, 2_510 + JobEventJournal.SequencesReserved);
    }

    [Fact]
    public void The_stored_mark_stays_well_ahead_of_the_numbers_given_out()
    {
        // Watchers get each number before its batch is written: a mark renewed only once passed would let a
        // kill -9 in that moment hand the same numbers out again after the restart. Renewed at half, it never is.
        using var database = Open();
        foreach (var last in new long[] { 600, 999, 2_999 })
        {
            AddJob(database, $"j-{last}");
            Record(database, Enumerable.Range(0, (int)last + 1).Select(i => Progress($"j-{last}", i, TimeSpan.FromMilliseconds(i))));
            var next = database.JobEvents($"j-{last}").NextSequence;
            Assert.True(next > last + JobEventJournal.SequencesReserved / 2, $"after number {last} the stored mark gives {next}");
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_models)) Directory.Delete(_models, true);
    }
}
