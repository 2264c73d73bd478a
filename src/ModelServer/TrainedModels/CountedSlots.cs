namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// Calls of one kind in progress, counted server-wide and for each API key: each holds a slot from when it is let in until
/// it ends, however it ends. The counting under <see cref="ExportSlots"/> and <see cref="ImportSlots"/>, which say the caps
/// and how a call beyond them is refused.
/// </summary>
public sealed class CountedSlots
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _byKey = [];
    private int _inProgress;

    /// <summary>Calls holding a slot now.</summary>
    public int InProgress { get { lock (_lock) return _inProgress; } }

    /// <summary>
    /// A slot for one call by the key named <paramref name="key"/>, freed when it is disposed. <paramref name="throwIfFull"/>
    /// gets the key's calls in progress and the server's, under the lock (so two calls cannot both take the last place),
    /// and throws to refuse this one; the caps are read there each time, so the limits in force now apply.
    /// </summary>
    public IDisposable Take(string key, Action<int, int> throwIfFull)
    {
        lock (_lock)
        {
            var mine = _byKey.GetValueOrDefault(key);
            throwIfFull(mine, _inProgress);
            _inProgress++;
            _byKey[key] = mine + 1;
        }
        return new Slot(this, key);
    }

    private void Free(string key)
    {
        lock (_lock)
        {
            _inProgress--;
            if (--_byKey[key] == 0) _byKey.Remove(key); // no entry kept for a key with none in progress
        }
    }

    private sealed class Slot(CountedSlots slots, string key) : IDisposable
    {
        private int _freed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _freed, 1) == 0) slots.Free(key);
        }
    }
}
