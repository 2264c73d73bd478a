namespace CharRnn.ModelServer.Security;

/// <summary>
/// Which keys the keys file no longer holds, as it read at one moment (<see cref="KeysFileRemovals"/>): for ending what a removed key left, at the
/// sweeps of a running server (<see cref="RemovedKeySweeper"/>) and at the recovery of a start.
/// </summary>
/// <param name="Valid">The SHA-256 of every key the file holds.</param>
/// <param name="RemovedNames">Names the file lists as removed and gives to no key now.</param>
public sealed record RemovedKeys(IReadOnlySet<string> Valid, IReadOnlySet<string> RemovedNames)
{
    /// <summary>
    /// Whether the key that started a job (or opened a session) is gone. One stored by an older server, whose
    /// rows did not keep the key, knows only its owner's name: gone if that name was removed and not given to a new key.
    /// </summary>
    public bool Gone(string? keyHash, string owner) => keyHash != null ? !Valid.Contains(keyHash) : RemovedNames.Contains(owner);

    /// <summary>The reason a job of a removed key stops with, at a sweep or at a start.</summary>
    public static string StopReason(string owner) => $"stopped: key '{owner}' was removed";
}
