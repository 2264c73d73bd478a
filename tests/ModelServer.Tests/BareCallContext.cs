using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A call context no interceptor has touched; <paramref name="cancellation"/> cancelled is a client that left,
/// or, with a <paramref name="deadline"/> already past, a call gRPC ended at its deadline.
/// </summary>
internal sealed class BareCallContext(string method, CancellationToken cancellation = default, DateTime? deadline = null) : ServerCallContext
{
    private readonly Dictionary<object, object> _userState = [];
    protected override string MethodCore => method;
    protected override string HostCore => "localhost";
    protected override string PeerCore => "ipv4:127.0.0.1:1";
    protected override DateTime DeadlineCore => deadline ?? DateTime.MaxValue;
    protected override Metadata RequestHeadersCore => [];
    protected override CancellationToken CancellationTokenCore => cancellation;
    protected override Metadata ResponseTrailersCore => [];
    protected override Status StatusCore { get; set; }
    protected override WriteOptions? WriteOptionsCore { get; set; }
    protected override AuthContext AuthContextCore => new(null, []);
    protected override IDictionary<object, object> UserStateCore => _userState;
    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();
    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
