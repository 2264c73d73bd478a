using System.Collections.Concurrent;

namespace CharRnn.ModelServer.Security;

/// <summary>
/// Logs calls refused for their API key (none sent, unknown or removed, a keys file with none or broken):
/// once per client address and reason a minute, so a client retrying in a loop (or a scanner) cannot
/// flood the log, while an operator still sees who was turned away and why. Every refusal is counted
/// in charrnn_grpc_errors_total all the same.
/// </summary>
public sealed class RefusalLog(TimeProvider time, ILogger<RefusalLog> logger)
{
    public static readonly TimeSpan Quiet = TimeSpan.FromMinutes(1);
    internal const int MaxRemembered = 4096; // addresses and reasons remembered; past it, the ones quiet for a minute are forgotten

    private readonly ConcurrentDictionary<(string Address, string Reason), DateTimeOffset> _lastLogged = new();

    /// <param name="peer">gRPC's peer: "ipv4:10.0.0.7:53122"; the port changes with each connection, so only the address counts.</param>
    public void Refused(string peer, string method, string reason)
    {
        var now = time.GetUtcNow();
        var key = (Address(peer), reason);
        if (_lastLogged.TryGetValue(key, out var last) && now - last < Quiet) return;
        _lastLogged[key] = now;
        if (_lastLogged.Count > MaxRemembered)
        {
            foreach (var (old, at) in _lastLogged)
                if (now - at >= Quiet) _lastLogged.TryRemove(old, out _);
            // Still full: more addresses than that within a minute (a scan). Unauthenticated callers must not grow
            // the server's memory without bound; forgetting them all only logs some again.
            if (_lastLogged.Count > MaxRemembered) _lastLogged.Clear();
        }
        logger.LogWarning("Refused {Method} from {Peer}: {Reason} (more refusals of this address for this reason within a minute are not logged)", method, peer, reason);
    }

    /// <summary>How many address and reason pairs are remembered now.</summary>
    internal int Remembered => _lastLogged.Count;

    private static string Address(string peer)
    {
        var colon = peer.LastIndexOf(':');
        return peer.StartsWith("ipv", StringComparison.Ordinal) && colon > peer.IndexOf(':') ? peer[..colon] : peer;
    }
}
