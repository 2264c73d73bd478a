using CharRnn.ModelServer.Security;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

public class CallerTests
{
    [Fact]
    public void A_call_the_key_check_did_not_see_has_no_caller_rather_than_the_local_admin()
    {
        var context = new BareCallContext("/charrnn.v1.Catalog/DeleteModel");
        var e = Assert.Throws<InvalidOperationException>(() => Caller.Of(context));
        Assert.Contains("/charrnn.v1.Catalog/DeleteModel", e.Message);
        Assert.Null(Caller.TryOf(context));

        var bob = new Caller("bob", Admin: false);
        bob.AttachTo(context);
        Assert.Same(bob, Caller.Of(context));
    }

    /// <summary>A call context no interceptor has touched.</summary>
    private sealed class BareCallContext(string method) : ServerCallContext
    {
        private readonly Dictionary<object, object> _userState = [];
        protected override string MethodCore => method;
        protected override string HostCore => "localhost";
        protected override string PeerCore => "ipv4:127.0.0.1:1";
        protected override DateTime DeadlineCore => DateTime.MaxValue;
        protected override Metadata RequestHeadersCore => [];
        protected override CancellationToken CancellationTokenCore => CancellationToken.None;
        protected override Metadata ResponseTrailersCore => [];
        protected override Status StatusCore { get; set; }
        protected override WriteOptions? WriteOptionsCore { get; set; }
        protected override AuthContext AuthContextCore => new(null, []);
        protected override IDictionary<object, object> UserStateCore => _userState;
        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();
        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
