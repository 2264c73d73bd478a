using Grpc.Core;

namespace CharRnn.ModelServer.Security;

/// <summary>
/// Who is calling: the name of their API key, whether it is an admin key, and which key it was
/// (its SHA-256, as the keys file stores it; null without keys): a name can pass to a new key
/// (keys add --reuse-name), and what the old key left running must not pass with it.
/// </summary>
public sealed record Caller(string Name, bool Admin, string? KeyHash = null)
{
    /// <summary>With authentication off (loopback only), every caller is this local admin.</summary>
    public static readonly Caller Local = new("local", Admin: true);
    /// <summary>The name of a call without a key, on a server that lets such calls list and read.</summary>
    public const string Anonymous = "anonymous";

    private const string Key = "charrnn.caller";

    /// <summary>
    /// The caller <see cref="AuthInterceptor"/> recorded. A call it did not see (a service reached by
    /// another path) fails rather than acting as anyone, least of all the admin.
    /// </summary>
    public static Caller Of(ServerCallContext context) =>
        TryOf(context) ?? throw new InvalidOperationException($"No caller is recorded for {context.Method}: the call did not pass the API-key check.");

    /// <summary>The recorded caller, or null before the key check has run (or when it refused the call).</summary>
    public static Caller? TryOf(ServerCallContext context) =>
        context.UserState.TryGetValue(Key, out var value) && value is Caller caller ? caller : null;

    public void AttachTo(ServerCallContext context) => context.UserState[Key] = this;

    /// <summary>Owners and admins may act on what belongs to <paramref name="owner"/>.</summary>
    public bool Owns(string? owner) => Admin || owner == Name;
}
