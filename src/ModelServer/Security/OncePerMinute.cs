using System.Collections.Concurrent;

namespace CharRnn.ModelServer.Security;

/// <summary>
/// Whether a log line for a key (an address and reason, a key and quota, ...) is due: once a minute per key,
/// so a client calling in a loop cannot flood the log. At most <see cref="MaxRemembered"/> keys are remembered:
/// past it, the ones quiet for a minute are forgotten, and if still full (a scan), all of them (which only logs
/// some again), so callers cannot grow the server's memory without bound.
/// </summary>
public sealed class OncePerMinute<TKey>(TimeProvider time) where TKey : notnull
{
    public static readonly TimeSpan Quiet = TimeSpan.FromMinutes(1);
    internal const int MaxRemembered = 4096;

    private readonly ConcurrentDictionary<TKey, DateTimeOffset> _lastLogged = new();

    /// <summary>True, and remembered as logged now, when <paramref name="key"/> was not logged within the last minute.</summary>
    public bool Due(TKey key) => Due(key, out _);

    /// <summary><see cref="Due(TKey)"/>, with when the line that covers <paramref name="key"/> now was logged (now, when due).</summary>
    public bool Due(TKey key, out DateTimeOffset logged)
    {
        var now = time.GetUtcNow();
        if (_lastLogged.TryGetValue(key, out logged) && now - logged < Quiet) return false;
        _lastLogged[key] = logged = now;
        if (_lastLogged.Count > MaxRemembered)
        {
            foreach (var (old, at) in _lastLogged)
                if (now - at >= Quiet) _lastLogged.TryRemove(old, out _);
            if (_lastLogged.Count > MaxRemembered) _lastLogged.Clear();
        }
        return true;
    }

    /// <summary>How many keys are remembered now.</summary>
    internal int Remembered => _lastLogged.Count;
}
