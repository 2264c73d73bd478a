namespace CharRnn.ModelServer.Errors;

/// <summary>
/// Whom a per-key quota's refusal (and any other refusal that would say "this key") names. On a server without API keys every caller is 'local' (a name no key may take):
/// its operator never made a key 'local', so the refusal names the server and says its callers share the quota.
/// </summary>
public static class QuotaHolder
{
    /// <summary>Whether <paramref name="owner"/> is every caller of a server without API keys.</summary>
    public static bool IsKeyless(string owner) => owner == Security.Caller.Local.Name;

    /// <summary>"Key 'ana'", or "This server" without keys.</summary>
    public static string Subject(string owner) => IsKeyless(owner) ? "This server" : $"Key '{owner}'";

    /// <summary>"limit max_models_per_key = 3", saying without keys that all callers share it.</summary>
    public static string Limit(string owner, string limit) =>
        IsKeyless(owner) ? $"limit {limit}, shared by all its callers: it has no API keys" : $"limit {limit}";

    /// <summary>
    /// ", 2 of them this key's" after a server-wide count; nothing without keys, where every one is its callers'
    /// (a key's share would be all of them, and "this key" a key its operator never made).
    /// </summary>
    public static string Share(string owner, int mine) =>
        IsKeyless(owner) ? "" : mine == 0 ? ", none of them this key's" : $", {mine} of them this key's";

    /// <summary>
    /// "a key may feed in a minute on this server (100, limit max_chars_per_minute_per_key)", or without keys
    /// "this server's callers may feed in a minute together (100, limit …, shared by all its callers: it has no API keys)".
    /// </summary>
    public static string PerMinute(string owner, string verb, long chars) =>
        (IsKeyless(owner) ? $"this server's callers may {verb} in a minute together" : $"a key may {verb} in a minute on this server") +
        $" ({chars:N0}, {Limit(owner, "max_chars_per_minute_per_key")})";
}
