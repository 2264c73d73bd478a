using CharRnn.ModelServer.Security;
using Grpc.Core;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// Shutting down (SIGTERM, Ctrl+C, SIGHUP): streams end at once with UNAVAILABLE and a reason instead of
/// holding the shutdown until they time out; the device loop then checkpoints the running job.
/// </summary>
public sealed class ServerLifetime(IHostApplicationLifetime lifetime, KeyRevocations revocations)
{
    public const string Reason = "The server is shutting down; reconnect when it is back (jobs resume, sessions must be reopened).";

    public CancellationToken Stopping => lifetime.ApplicationStopping;

    /// <summary>A token for a streaming call: the client leaving, the server stopping, or the caller's API key removed.</summary>
    public CancellationTokenSource Link(ServerCallContext context) =>
        CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping, revocations.TokenFor(Caller.TryOf(context)));

    public RpcException Unavailable() => new(new Status(StatusCode.Unavailable, Reason));
}
