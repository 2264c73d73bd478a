using System.Net;
using System.Net.Sockets;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;
using CharRnn.Tui.ViewModels;

namespace CharRnn.Tui.Tests;

public class ServerStatusTests
{
    [Fact]
    public async Task Closing_while_a_poll_waits_on_a_silent_server_ends_quietly()
    {
        // A socket that accepts and never answers: the poll is in flight when the status closes.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = silent.AcceptSocketAsync();
        using var client = new CharRnnClient(new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}"));
        var status = new ServerStatus(client, new CompletionSource());
        status.Start(TimeSpan.FromSeconds(2));
        using (var socket = await accepted.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            // The poll's request is on its way (HTTP/2's preface has arrived) before the status closes.
            var received = await socket.ReceiveAsync(new byte[64], SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(received > 0);
            await status.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)); // threw RpcException(Cancelled) before
        }
        Assert.False(status.Connected); // it never answered
    }

    [Fact]
    public async Task A_server_that_refuses_the_key_is_named_as_refusing_it_not_as_disconnected()
    {
        var root = Directory.CreateTempSubdirectory("charrnn-status-").FullName;
        try
        {
            var keys = Path.Combine(root, "keys.json");
            ModelServer.Security.ApiKeyStore.Load(keys).Add("admin", admin: true);
            await using var server = await EmbeddedServer.StartAsync(new ModelServer.Hosting.ServerOptions { ModelsDirectory = Path.Combine(root, "models"), KeysFile = keys, Device = "cpu" });
            using var client = new CharRnnClient(server.Address); // no --token
            var status = new ServerStatus(client, new CompletionSource());
            status.Start(TimeSpan.FromSeconds(2));
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (status.Version == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
            await status.DisposeAsync();
            Assert.False(status.Connected);
            Assert.StartsWith("refused (Unauthenticated): This server needs an API key: send the metadata 'authorization: Bearer <key>' (charrnn --token KEY, or CHARRNN_TOKEN).", status.Line);
        }
        finally { Directory.Delete(root, true); }
    }
}
