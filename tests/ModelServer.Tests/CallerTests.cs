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
}
