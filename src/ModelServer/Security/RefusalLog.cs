namespace CharRnn.ModelServer.Security;

/// <summary>
/// Logs calls refused for their API key (none sent, unknown or removed, a keys file with none or broken) or for
/// a request message the server cannot take (too large, bytes that do not parse):
/// once per client address and reason a minute, so a client retrying in a loop (or a scanner) cannot
/// flood the log, while an operator still sees who was turned away and why. Every refusal is counted
/// in charrnn_grpc_errors_total all the same.
/// </summary>
public sealed class RefusalLog(TimeProvider time, ILogger<RefusalLog> logger)
{
    public static readonly TimeSpan Quiet = OncePerMinute<string>.Quiet;
    internal const int MaxRemembered = OncePerMinute<string>.MaxRemembered; // addresses and reasons remembered

    private readonly OncePerMinute<(string Address, string Reason)> _due = new(time);

    /// <param name="peer">gRPC's peer: "ipv4:10.0.0.7:53122"; the port changes with each connection, so only the address counts.</param>
    public void Refused(string peer, string method, string reason)
    {
        if (!_due.Due((Address(peer), reason))) return;
        logger.LogWarning("Refused {Method} from {Peer}: {Reason} (more refusals of this address for this reason within a minute are not logged)", method, peer, reason);
    }

    /// <summary>How many address and reason pairs are remembered now.</summary>
    internal int Remembered => _due.Remembered;

    private static string Address(string peer)
    {
        var colon = peer.LastIndexOf(':');
        return peer.StartsWith("ipv", StringComparison.Ordinal) && colon > peer.IndexOf(':') ? peer[..colon] : peer;
    }
}
