using System.Collections.Concurrent;

namespace CharRnn.ModelServer.Security;

/// <summary>
/// A cancellation per API key, for the streams its calls hold open (Interact, Train): when the key
/// is removed, <see cref="RemovedKeySweeper"/> cancels it and they end UNAUTHENTICATED, including a
/// stream that sits idle between messages and would otherwise go on under the removed key.
/// </summary>
public sealed class KeyRevocations
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _byKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _revoked = new(StringComparer.Ordinal);
    // A key's source and its revoked mark change together: a stream that starts while a key is restored
    // must not cancel the restored key's new source (every later stream of it would end at once).
    private readonly object _gate = new();

    /// <summary>Cancelled when <paramref name="caller"/>'s key is removed; never for a call without a key.</summary>
    public CancellationToken TokenFor(Caller? caller)
    {
        if (caller?.KeyHash is not { } key) return CancellationToken.None;
        CancellationTokenSource source;
        bool revoked;
        lock (_gate)
        {
            source = _byKey.GetOrAdd(key, _ => new CancellationTokenSource());
            revoked = _revoked.ContainsKey(key);
        }
        if (revoked) source.Cancel(); // removed between the key check and now
        return source.Token;
    }

    public bool IsRevoked(Caller? caller) => caller?.KeyHash is { } key && _revoked.ContainsKey(key);

    /// <summary>The keys whose streams are being watched (those that have opened one since they were checked).</summary>
    public IReadOnlyCollection<string> Watched => _byKey.Keys.ToList();

    public void Revoke(string keyHash)
    {
        CancellationTokenSource? source;
        lock (_gate)
        {
            _revoked[keyHash] = true;
            _byKey.TryGetValue(keyHash, out source);
        }
        if (source != null) _ = source.CancelAsync(); // the streams' ends run on their own threads, not the sweeper's
    }

    /// <summary>A revoked key that is valid again (a keys file restored from a backup): its new streams are not cancelled at once.</summary>
    public void Restore(IReadOnlySet<string> validKeys)
    {
        foreach (var key in _revoked.Keys.Where(validKeys.Contains).ToList())
            lock (_gate)
            {
                _byKey[key] = new CancellationTokenSource();
                _revoked.TryRemove(key, out _);
            }
    }
}
