namespace CharRnn.ModelServer.Tests;

/// <summary>Start-up refusals of a server without API keys that would listen beyond loopback.</summary>
public class StartupSecurityTests
{
    [Fact]
    public async Task A_server_without_keys_refuses_to_listen_beyond_loopback()
    {
        var e = await StartRefused("0.0.0.0:0", []);
        Assert.Contains("without API keys", e.Message);
        Assert.Contains("charrnn keys add", e.Message);
    }

    [Fact]
    public async Task Endpoints_from_kestrel_configuration_are_refused_since_the_loopback_check_cannot_see_them()
    {
        var e = await StartRefused("127.0.0.1:0", ["--Kestrel:Endpoints:Open:Url=http://0.0.0.0:0"]);
        Assert.Contains("Kestrel:Endpoints", e.Message);
        Assert.Contains("--listen HOST:PORT", e.Message);
    }

    /// <summary>The error a keyless server listening on <paramref name="listen"/>, with <paramref name="args"/>, refuses to start with.</summary>
    private static async Task<ArgumentException> StartRefused(string listen, string[] args)
    {
        var options = new Hosting.ServerOptions
        {
            Listen = listen,
            ModelsDirectory = Path.Combine(Path.GetTempPath(), "charrnn-open-" + Guid.NewGuid().ToString("N")[..8]),
            Device = "cpu",
        };
        var app = Hosting.ServerHost.Build(args, options, _ => { });
        try { return await Assert.ThrowsAsync<ArgumentException>(() => Hosting.ServerHost.StartAsync(app)); }
        finally
        {
            await app.DisposeAsync();
            if (Directory.Exists(options.ModelsDirectory)) Directory.Delete(options.ModelsDirectory, true);
        }
    }
}
