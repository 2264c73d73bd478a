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
    public async Task A_server_that_cannot_be_reached_gets_one_line_for_the_log_saying_so_and_that_it_retries()
    {
        using var unused = new TcpListener(IPAddress.Loopback, 0);
        unused.Start();
        var port = ((IPEndPoint)unused.LocalEndpoint).Port;
        unused.Stop(); // nothing listens there now: each poll is refused at once
        using var client = new CharRnnClient(new Uri($"http://127.0.0.1:{port}"));
        var status = new ServerStatus(client, new CompletionSource(), $"127.0.0.1:{port}");
        await status.RefreshAsync();
        await status.RefreshAsync();
        Assert.False(status.Connected);
        var notice = status.TakeNotice();
        Assert.NotNull(notice);
        Assert.StartsWith($"No answer from 127.0.0.1:{port}: server unavailable: ", notice);
        Assert.EndsWith("; retrying every few seconds (commands fail until it answers).", notice);
        Assert.Null(status.TakeNotice()); // the second failed poll changed nothing: no second line
        await status.DisposeAsync();
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
            Assert.StartsWith("the server refused this client: This server needs an API key", status.TakeNotice());
        }
        finally { Directory.Delete(root, true); }
    }
}
