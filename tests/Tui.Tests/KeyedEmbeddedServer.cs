using CharRnn.Tui.Client;

namespace CharRnn.Tui.Tests;

/// <summary>
/// An embedded server that asks for API keys, as a shared one does: its keys file (one admin key) and models in a
/// temp folder of its own, deleted when it stops.
/// </summary>
internal sealed class KeyedEmbeddedServer : IAsyncDisposable
{
    private readonly string _root;
    private readonly EmbeddedServer _server;

    private KeyedEmbeddedServer(string root, EmbeddedServer server) => (_root, _server) = (root, server);

    public Uri Address => _server.Address;

    public static async Task<KeyedEmbeddedServer> StartAsync()
    {
        var root = Directory.CreateTempSubdirectory("charrnn-keyed-").FullName;
        try
        {
            var keys = Path.Combine(root, "keys.json");
            ModelServer.Security.ApiKeyStore.Load(keys).Add("admin", admin: true);
            return new(root, await EmbeddedServer.StartAsync(new ModelServer.Hosting.ServerOptions { ModelsDirectory = Path.Combine(root, "models"), KeysFile = keys, Device = "cpu", Threads = 1 }));
        }
        catch
        {
            Directory.Delete(root, true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, true);
    }
}
