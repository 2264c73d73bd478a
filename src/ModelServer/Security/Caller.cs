using Grpc.Core;

namespace CharRnn.ModelServer.Security;

/// <summary>Who is calling: the name of their API key, and whether it is an admin key.</summary>
public sealed record Caller(string Name, bool Admin)
{
    /// <summary>With authentication off (loopback only), every caller is this local admin.</summary>
    public static readonly Caller Local = new("local", Admin: true);
    /// <summary>The name of a call without a key, on a server that lets such calls list and read.</summary>
    public const string Anonymous = "anonymous";

    private const string Key = "charrnn.caller";

    public static Caller Of(ServerCallContext context) =>
        context.UserState.TryGetValue(Key, out var value) && value is Caller caller ? caller : Local;

    public void AttachTo(ServerCallContext context) => context.UserState[Key] = this;

    /// <summary>Owners and admins may act on what belongs to <paramref name="owner"/>.</summary>
    public bool Owns(string? owner) => Admin || owner == Name;
}
