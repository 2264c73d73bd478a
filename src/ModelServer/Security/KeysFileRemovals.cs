namespace CharRnn.ModelServer.Security;

/// <summary>
/// Which keys the keys file says are gone, read as the file holds it now: for ending what a removed key left, at the
/// sweeps of a running server (<see cref="RemovedKeySweeper"/>) and at the job recovery of a start, neither of which
/// needs to know how calls are authenticated.
/// </summary>
public sealed class KeysFileRemovals(AuthInterceptor auth)
{
    /// <summary>Whether the server has a keys file at all (without one no key can be removed).</summary>
    public bool Enabled => auth.Enabled;

    /// <summary>
    /// The keys file's removals now; null when it says nothing of which keys went: no keys file, or one that is
    /// unreadable or missing (which refuses every call already). One emptied to [] removes them all.
    /// </summary>
    public RemovedKeys? Read()
    {
        if (!auth.Enabled) return null;
        var (keys, problem) = auth.Current();
        if (problem != null || keys.FileMissing) return null;
        return new RemovedKeys(keys.Keys.Select(k => k.Sha256).ToHashSet(StringComparer.Ordinal),
            keys.RemovedKeys.Select(k => k.Name).Except(keys.Keys.Select(k => k.Name)).ToHashSet(StringComparer.Ordinal));
    }
}
