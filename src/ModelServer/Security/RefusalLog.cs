namespace CharRnn.ModelServer.Security;

/// <summary>
/// Logs calls refused for their API key (none sent, unknown or removed, a keys file with none or broken) or for
/// a request message the server cannot take (too large, bytes that do not parse):
/// once per client address and reason a minute, so a client retrying in a loop (or a scanner) cannot
/// flood the log, while an operator still sees who was turned away and why. Every refusal is counted
/// in charrnn_grpc_errors_total all the same.
/// Each refusal gets a request id for its client (the trailer charrnn-request-id, as the services' errors have),
/// and the id is the logged line's: the refusals one line covers all carry its id, so that any id a client hands
/// over finds the line that speaks for it. Each refusal that line covers (not the one it logs) gets a Debug line with its own method and connection.
/// </summary>
public sealed class RefusalLog(TimeProvider time, ILogger<RefusalLog> logger)
{
    public static readonly TimeSpan Quiet = OncePerMinute<string>.Quiet;
    internal const int MaxRemembered = OncePerMinute<string>.MaxRemembered; // addresses and reasons remembered

    private readonly OncePerMinute<(string Address, string Reason)> _due = new(time);
    private readonly byte[] _salt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16); // ids that say nothing of address or time

    /// <param name="peer">gRPC's peer: "ipv4:10.0.0.7:53122"; the port changes with each connection, so only the address counts.</param>
    /// <returns>The refusal's request id: the one the line that covers it names.</returns>
    public string Refused(string peer, string method, string reason)
    {
        var key = (Address(peer), reason);
        var due = _due.Due(key, out var logged);
        var requestId = RequestId(key, logged);
        if (due)
            logger.LogWarning("Refused {Method} from {Peer}: {Reason} (request {RequestId}; the refusals of this address for this reason within a minute carry this id, and are not logged)",
                method, peer, reason, requestId);
        else
            logger.LogDebug("Refused {Method} from {Peer}: {Reason} (request {RequestId})", method, peer, reason, requestId);
        return requestId;
    }

    /// <summary>8 hex characters, the same for every refusal of an address for a reason that one line covers.</summary>
    private string RequestId((string Address, string Reason) key, DateTimeOffset logged)
    {
        var covered = System.Text.Encoding.UTF8.GetBytes($"{key.Address}\n{key.Reason}\n{logged.UtcTicks}");
        return Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(_salt, covered).AsSpan(0, 4));
    }

    /// <summary>How many address and reason pairs are remembered now.</summary>
    internal int Remembered => _due.Remembered;

    private static string Address(string peer)
    {
        var colon = peer.LastIndexOf(':');
        return peer.StartsWith("ipv", StringComparison.Ordinal) && colon > peer.IndexOf(':') ? peer[..colon] : peer;
    }
}
