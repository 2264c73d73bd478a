using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using Grpc.Core;
using Xunit;

namespace CharRnn.Tui.Tests;

/// <summary>The embedded server listens on a loopback port any local user can reach: only this process's client may call it.</summary>
public sealed class EmbeddedServerKeyTests
{
    [Fact]
    public async Task A_client_without_the_embedded_servers_key_is_refused_and_its_own_client_is_served()
    {
        var root = Directory.CreateTempSubdirectory("charrnn-embedded-key-").FullName;
        try
        {
            await using var server = await EmbeddedServer.StartAsync(new ModelServer.Hosting.ServerOptions { ModelsDirectory = Path.Combine(root, "models"), Device = "cpu", Threads = 1 });
            var key = server.Token;
            Assert.False(string.IsNullOrEmpty(key));

            foreach (var token in new string?[] { null, "not-the-key" }) // another local user: no key, or a guess
            {
                using var stranger = new CharRnnClient(server.Address, token);
                var e = await Assert.ThrowsAsync<RpcException>(async () => await stranger.Catalog.ListModelsAsync(new ListModelsRequest()));
                Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
                Assert.Contains("accepts only that process's own client", e.Status.Detail);
                Assert.Null(e.Status.DebugException); // a status the server sent: LinkFailure takes none such for a failed link
                Assert.False(LinkFailure.Is(e));
            }

            using (var own = new CharRnnClient(server.Address, key))
                Assert.Empty((await own.Catalog.ListModelsAsync(new ListModelsRequest())).Models);
            await server.DisposeAsync(); // the files as it leaves them; a failed assert above still stops it (await using)
            foreach (var file in Directory.GetFiles(root, "*", SearchOption.AllDirectories)) // kept in memory only
                Assert.DoesNotContain(key!, File.ReadAllText(file), StringComparison.Ordinal);
        }
        finally { Directory.Delete(root, true); }
    }
}
