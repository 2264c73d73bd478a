using CharRnn.ModelServer.Jobs;

namespace CharRnn.ModelServer.Tests;

/// <summary>A job's event log in memory: what watchers read, and an ended job's history read only when watched.</summary>
public sealed class JobEventLogTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static async Task<List<JobEvent>> Watch(JobEventLog log, long fromStep = 0, long afterSequence = -1)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var seen = new List<JobEvent>();
        await foreach (var e in log.Follow(fromStep, afterSequence, timeout.Token)) seen.Add(e);
        return seen;
    }

    [Fact]
    public async Task An_ended_jobs_history_is_read_when_first_watched_and_only_once()
    {
        var loads = 0;
        IReadOnlyList<JobEvent> history =
        [
            new(3, "j-1", T0, 0, new JobStarted("cpu", 100, 10, 0, 60, 1000)),
            new(4, "j-1", T0, 50, new JobEpochEnded(new Engine.Checkpoints.EpochRecord(1, 50, 2.0, 2.1, 0.4, 1e-3, 5, "sample"))),
            new(5, "j-1", T0, 100, new JobFinished("finished 2 epoch(s)", 2.1)),
        ];
        var log = new JobEventLog("j-1");
        log.RestoreEnded(() => { loads++; return (history, 6); });

        Assert.True(log.Ended);
        Assert.Equal(0, loads);
        Assert.Throws<InvalidOperationException>(() => log.Append(new JobQueued(0), 0));
        Assert.Equal(0, loads);

        var seen = await Watch(log);
        Assert.Equal(1, loads);
        Assert.Equal(history.Select(e => e.Sequence), seen.Select(e => e.Sequence));
        Assert.Equal([4L, 5L], (await Watch(log, fromStep: 50)).Select(e => e.Sequence));
        Assert.Equal(3, log.Snapshot().Count);
        Assert.Equal(1, loads);
    }

    [Fact]
    public async Task From_step_filters_the_stored_events_only_not_a_resumed_runs_live_ones()
    {
        var log = new JobEventLog("j-4");
        log.Append(new JobStarted("cpu", 2000, 10, 0, 60, 1000), 0);
        log.Append(new JobCheckpointSaved("last.ckpt", "periodic", 1, 1000), 1000);
        log.Append(new JobCheckpointSaved("last.ckpt", "periodic", 1, 1500), 1500);

        // A watcher comes back from step 1500, and the job is resumed from its checkpoint of step 1000.
        var watching = Watch(log, fromStep: 1500); // reads the stored events before it returns
        log.Append(new JobStarted("cpu", 2000, 10, 1000, 60, 1000), 1000);
        log.Append(new JobCheckpointSaved("last.ckpt", "periodic", 1, 1200), 1200);
        log.Append(new JobFinished("finished", 2.0), 2000);

        var seen = await watching;
        Assert.Equal([1500L, 1000L, 1200L, 2000L], seen.Select(e => e.Step));
        Assert.IsType<JobStarted>(seen[1].Payload);
    }

    [Fact]
    public async Task After_sequence_replays_what_came_after_the_last_event_received_whatever_its_step()
    {
        var log = new JobEventLog("j-5");
        log.Append(new JobStarted("cpu", 2000, 10, 0, 60, 1000), 0);                      // 0
        log.Append(new JobCheckpointSaved("last.ckpt", "periodic", 1, 1000), 1000);       // 1
        log.Append(new JobCheckpointSaved("last.ckpt", "periodic", 1, 1500), 1500);       // 2: the watcher's last
        log.Append(new JobStarted("cpu", 2000, 10, 1000, 60, 1000), 1000);                // 3: resumed below it
        log.Append(new JobCheckpointSaved("last.ckpt", "periodic", 1, 1200), 1200);       // 4

        var watching = Watch(log, afterSequence: 2);
        log.Append(new JobFinished("finished", 2.0), 2000);                               // 5
        Assert.Equal([3L, 4L, 5L], (await watching).Select(e => e.Sequence));
        // One that saw the end gets an empty stream that ends, not one that waits for good.
        Assert.Empty(await Watch(log, afterSequence: 5));
    }

    [Fact]
    public void A_replayed_history_keeps_the_checkpoint_it_resumes_from_though_training_had_passed_it()
    {
        // A background checkpoint of step 1000 ended while training was at 1003; the job resumes from 1000.
        JobEvent Progress(long sequence, long step) =>
            new(sequence, "j-3", T0, step, new JobProgressed(new Engine.Training.TrainingProgress(step, 1, 0, 2000, 0.5, 2.0, 1e-3, 1000, TimeSpan.Zero, null, 1000)));
        List<JobEvent> stored =
        [
            new(0, "j-3", T0, 0, new JobStarted("cpu", 2000, 10, 0, 60, 1000)),
            Progress(1, 999),
            Progress(2, 1003),
            new(3, "j-3", T0, 1003, new JobCheckpointSaved("last.ckpt", "periodic", 1, 1000)),
            Progress(4, 1500),
        ];
        var replayed = JobQueue.Replayable(stored, resumesFrom: 1000, keepEnd: false);
        Assert.Equal([0L, 1L, 3L], replayed.Select(e => e.Sequence));

        // The same once the resumed run's own started is stored.
        stored.Add(new JobEvent(5, "j-3", T0, 1000, new JobStarted("cpu", 2000, 10, 1000, 60, 1000)));
        Assert.Equal([0L, 1L, 3L, 5L], JobQueue.Replayable(stored, resumesFrom: null, keepEnd: false).Select(e => e.Sequence));
    }

    [Fact]
    public void A_restored_history_without_an_end_is_refused_rather_than_watched_forever()
    {
        var log = new JobEventLog("j-2");
        log.RestoreEnded(() => ([new JobEvent(0, "j-2", T0, 0, new JobQueued(0))], 1));
        var e = Assert.Throws<InvalidOperationException>(() => log.Snapshot());
        Assert.Contains("does not end with the job's end", e.Message);
        Assert.Throws<InvalidOperationException>(() => log.Restore([], 0));
    }
}
