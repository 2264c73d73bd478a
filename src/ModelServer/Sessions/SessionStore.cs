using System.Collections.Concurrent;
using System.Security.Cryptography;
using CharRnn.Engine.Text;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Security;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Sessions;

/// <summary>
/// Open sessions by id. Sessions live in memory only: a server restart or idle expiry ends
/// them, and asking for one afterwards gets NOT_FOUND saying so.
/// </summary>
public sealed class SessionStore(IOptions<ServerOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, ServerSession> _sessions = new();
    private readonly ServerLimits _limits = options.Value.Limits;

    public int Count => _sessions.Count;

    public TimeSpan IdleTimeout => TimeSpan.FromSeconds(_limits.SessionIdleSeconds);

    /// <summary>The clock sessions count their idle time on.</summary>
    public TimeProvider Time => time;

    public static string NewId() => "s-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>Fails with RESOURCE_EXHAUSTED when the server, or the caller's key, holds its maximum of sessions.</summary>
    public void EnsureRoom(Caller caller)
    {
        var mine = CountOf(caller.Name);
        if (_sessions.Count >= _limits.MaxSessions)
            throw ServerException.Exhausted(QuotaLimits.MaxSessions, $"The server holds its maximum of {_limits.MaxSessions} open sessions (limit max_sessions){QuotaHolder.Share(caller.Name, mine)}; {HowToFree}");
        if (mine >= _limits.MaxSessionsPerKey)
            throw ServerException.Exhausted(QuotaLimits.MaxSessionsPerKey, $"{QuotaHolder.Subject(caller.Name)} holds {mine} open sessions, its quota ({QuotaHolder.Limit(caller.Name, $"max_sessions_per_key = {_limits.MaxSessionsPerKey}")}); {HowToFree}");
    }

    // A script that died leaves its sessions open: say how to find and close them, and that they end by themselves.
    private string HowToFree =>
        $"close ones it no longer uses (ListSessions lists them, CloseSession closes one), or wait: a session idle for {_limits.SessionIdleSeconds:N0} s closes by itself.";

    /// <summary>Open sessions <paramref name="owner"/> holds (its max_sessions_per_key quota counts these).</summary>
    public int CountOf(string owner) => _sessions.Values.Count(s => s.Owner == owner);

    public void Add(ServerSession session) => _sessions[session.Id] = session;

    /// <summary>A session of the caller's; NOT_FOUND also for other keys' sessions (existence is not revealed).</summary>
    public ServerSession Get(string id, Caller caller)
    {
        if (string.IsNullOrWhiteSpace(id))
            throw ServerException.Invalid("session_id is empty; pass the id OpenSession returned.");
        if (_sessions.TryGetValue(id, out var session) && caller.Owns(session.Owner))
        {
            session.Touch();
            return session;
        }
        throw ServerException.NotFound(
            $"No session '{Echo.Of(id)}': it was closed, it expired after {_limits.SessionIdleSeconds} s idle, or the server restarted (sessions live in memory only). Open a new session.",
            ErrorReasons.SessionNotFound, ("session_id", id));
    }

    /// <summary>The open sessions <paramref name="caller"/> may use (its own; an admin's: all), oldest first.</summary>
    public IReadOnlyList<ServerSession> VisibleTo(Caller caller) =>
        _sessions.Values.Where(s => !s.Closed && caller.Owns(s.Owner)).OrderBy(s => s.Created).ThenBy(s => s.Id, StringComparer.Ordinal).ToList();

    public bool Remove(string id, out ServerSession? session) => _sessions.TryRemove(id, out session);

    public IReadOnlyList<ServerSession> Idle() => _sessions.Values.Where(s => s.IsIdle()).ToList();

    public IReadOnlyList<ServerSession> All => _sessions.Values.ToList();
}
