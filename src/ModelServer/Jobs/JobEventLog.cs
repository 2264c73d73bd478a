using System.Runtime.CompilerServices;

namespace CharRnn.ModelServer.Jobs;

/// <summary>
/// A job's events, kept so that any number of watchers can read them, from any step, at their
/// own pace, and come back later: one writer appends, each watcher follows by sequence number.
/// Progress events are thinned (every other old one dropped) past a cap, so a long job's log
/// stays small; epoch ends, checkpoints and the end are always kept. Each event also goes to
/// <paramref name="store"/> (the database journal), in order.
/// </summary>
public sealed class JobEventLog(string jobId, Action<JobEvent>? store = null)
{
    private const int ThinAbove = 20_000;
    private readonly object _gate = new();
    private readonly List<JobEvent> _events = [];
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextSequence;
    private Func<(IReadOnlyList<JobEvent> History, long NextSequence)>? _pendingHistory;

    public bool Ended { get; private set; }

    /// <summary>The sequence number of the newest event (-1 before the first).</summary>
    public long LastSequence
    {
        get
        {
            lock (_gate)
            {
                LoadPendingHistory();
                return _nextSequence - 1;
            }
        }
    }

    public JobEvent Append(JobEventPayload payload, long step)
    {
        TaskCompletionSource signal;
        JobEvent e;
        lock (_gate)
        {
            if (Ended) throw new InvalidOperationException($"Job {jobId} has ended; no more events.");
            e = new JobEvent(_nextSequence++, jobId, DateTimeOffset.UtcNow, step, payload);
            _events.Add(e);
            store?.Invoke(e); // under the lock: the store sees events in sequence order
            if (payload.IsTerminal) Ended = true;
            if (_events.Count > ThinAbove) Thin();
            signal = _appended;
            _appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        signal.SetResult();
        return e;
    }

    /// <summary>
    /// Before any new event: what the job sent before this server started, as the database kept
    /// it. New events are numbered from <paramref name="nextSequence"/> on.
    /// </summary>
    public void Restore(IReadOnlyList<JobEvent> history, long nextSequence)
    {
        lock (_gate)
        {
            if (_nextSequence > 0 || _pendingHistory != null) throw new InvalidOperationException($"Job {jobId} already has events; history goes first.");
            RestoreCore(history, nextSequence);
        }
    }

    /// <summary>
    /// An ended job's history, read by <paramref name="load"/> only when someone first reads the
    /// log: a server keeps its newest ended jobs (100 by default) across restarts, and reading them
    /// all at start-up would cost time and memory for curves that are rarely watched again. What
    /// <paramref name="load"/> returns must end with the job's end.
    /// </summary>
    public void RestoreEnded(Func<(IReadOnlyList<JobEvent> History, long NextSequence)> load)
    {
        lock (_gate)
        {
            if (_nextSequence > 0 || _pendingHistory != null) throw new InvalidOperationException($"Job {jobId} already has events; history goes first.");
            _pendingHistory = load;
            Ended = true;
        }
    }

    private void RestoreCore(IReadOnlyList<JobEvent> history, long nextSequence)
    {
        _events.AddRange(history);
        _nextSequence = Math.Max(nextSequence, history.Count > 0 ? history[^1].Sequence + 1 : 0);
        Ended = history.Count > 0 && history[^1].Payload.IsTerminal;
        if (_events.Count > ThinAbove) Thin();
    }

    /// <summary>Under the lock: reads a pending ended history, once.</summary>
    private void LoadPendingHistory()
    {
        if (_pendingHistory is not { } load) return;
        var (history, nextSequence) = load();
        if (history.Count == 0 || !history[^1].Payload.IsTerminal)
            throw new InvalidOperationException($"Job {jobId}'s restored history does not end with the job's end.");
        _pendingHistory = null;
        RestoreCore(history, nextSequence);
    }

    public IReadOnlyList<JobEvent> Snapshot()
    {
        lock (_gate)
        {
            LoadPendingHistory();
            return _events.ToList();
        }
    }

    /// <summary>
    /// Stored events with step ≥ <paramref name="fromStep"/> (the end event always) and numbered
    /// above <paramref name="afterSequence"/>, then every live one as it comes, until the job ends
    /// or the watcher cancels. Live ones are not filtered: a run resumed after a restart starts
    /// again below the step a watcher came back from, and its <c>started</c> and retrained steps
    /// are news to that watcher.
    /// </summary>
    public async IAsyncEnumerable<JobEvent> Follow(long fromStep, long afterSequence, [EnumeratorCancellation] CancellationToken cancellation)
    {
        long after = afterSequence;
        var stored = true;
        while (true)
        {
            List<JobEvent> batch;
            Task next;
            bool ended;
            lock (_gate)
            {
                LoadPendingHistory();
                // From the first new one on, found by halving (sequences only grow): with many watchers each
                // append wakes, a scan from the start would hold the lock the device thread appends under.
                batch = [];
                for (var i = FirstAfter(after); i < _events.Count; i++)
                    if (!stored || _events[i].Step >= fromStep || _events[i].Payload.IsTerminal) batch.Add(_events[i]);
                after = Math.Max(after, _events.Count > 0 ? _events[^1].Sequence : -1);
                stored = false;
                ended = Ended;
                next = _appended.Task;
            }
            foreach (var e in batch)
            {
                yield return e;
                if (e.Payload.IsTerminal) yield break;
            }
            if (ended) yield break; // a watcher past the end event (after_sequence) has seen it all
            await next.WaitAsync(cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>The index of the first event numbered above <paramref name="sequence"/> (the count when there is none); under the lock.</summary>
    private int FirstAfter(long sequence)
    {
        int low = 0, high = _events.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (_events[middle].Sequence > sequence) high = middle;
            else low = middle + 1;
        }
        return low;
    }

    private void Thin()
    {
        bool drop = false;
        var half = _events.Count / 2;
        var kept = new List<JobEvent>(_events.Count);
        for (int i = 0; i < _events.Count; i++)
        {
            if (i < half && _events[i].Payload is JobProgressed)
            {
                drop = !drop;
                if (drop) continue;
            }
            kept.Add(_events[i]);
        }
        _events.Clear();
        _events.AddRange(kept);
    }
}
