using CharRnn.ModelServer.Hosting;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;
using Microsoft.AspNetCore.Builder;

namespace CharRnn.Tui.Tests;

/// <summary>
/// upload and import while the server goes away (killed, or its connection cut): the error says the server is
/// unavailable, not that the command "failed unexpectedly" with a transport exception, nor that the file cannot be read.
/// </summary>
public sealed class UploadConnectionLossTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "charrnn-uploadcut-" + Guid.NewGuid().ToString("N")[..8]);
    private WebApplication? _server;
    private int _port;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            _port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var options = new ServerOptions { ModelsDirectory = Path.Combine(_root, "models"), Device = "cpu", Threads = 1, Listen = $"127.0.0.1:{_port}" };
        _server = ServerHost.Build([], options, _ => { }, embedded: true);
        await ServerHost.StartAsync(_server);
    }

    [Theory]
    [InlineData("upload", "big.txt")]
    [InlineData("import", "big.safetensors")]
    public async Task A_connection_lost_mid_file_is_told_as_the_server_unavailable(string verb, string fileName)
    {
        var file = Path.Combine(_root, fileName);
        File.WriteAllText(file, string.Concat(Enumerable.Repeat(TuiFixture.TinyText, 8 * 1024 * 1024 / TuiFixture.TinyText.Length + 1)));
        await using var relay = new ConnectionCuttingRelay(_port, cutAfterBytes: 2 * 1024 * 1024);
        using var client = new CharRnnClient(new Uri($"http://127.0.0.1:{relay.Port}"));
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(client, output, interactive: false);

        await runner.RunLineAsync($"{verb} {file}");

        Assert.True(relay.Cut, "the relay should have cut the connection mid-file");
        var error = Assert.Single(output.Errors);
        Assert.DoesNotContain("unexpectedly", error);
        Assert.DoesNotContain("cannot be read", error);
        Assert.Contains("unavailable", error, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"is a charrnn server running at 127.0.0.1:{relay.Port}?", error);
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "models"), "big*", SearchOption.AllDirectories)); // nothing stored
    }

    public async Task DisposeAsync()
    {
        if (_server != null)
        {
            await _server.StopAsync();
            await _server.DisposeAsync();
        }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
