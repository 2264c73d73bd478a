using CharRnn.ModelServer.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// The standalone host (Program.cs) reads its settings from configuration, not from flags that
/// charrnn serve checks: a corpora folder it cannot serve must stop it at start-up, naming the setting.
/// </summary>
public class CorporaFolderCheckTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "charrnn-corpora-check-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task A_configured_corpora_folder_that_does_not_exist_stops_the_standalone_host()
    {
        var missing = Path.Combine(_root, "no-such-corpora");
        var e = await StartRefused(missing);
        Assert.Contains("CharRnn:CorporaDirectory", e.Message);
        Assert.Contains($"'{missing}' does not exist", e.Message);
    }

    [Fact]
    public async Task A_configured_corpora_folder_that_is_a_file_stops_the_standalone_host()
    {
        Directory.CreateDirectory(_root);
        var file = Path.Combine(_root, "tiny.txt");
        File.WriteAllText(file, ServerFixture.TinyText);
        var e = await StartRefused(file);
        Assert.Contains("CharRnn:CorporaDirectory", e.Message);
        Assert.Contains($"'{file}' is a file", e.Message);
    }

    [Fact]
    public async Task An_empty_corpora_setting_stops_the_standalone_host_naming_the_setting()
    {
        var e = await StartRefused(""); // CHARRNN__CORPORADIRECTORY= exported blank
        Assert.StartsWith("CharRnn:CorporaDirectory (--corpora) is empty", e.Message);
    }

    [Fact]
    public async Task A_refused_start_makes_no_models_folder_and_says_it_made_none()
    {
        // Checked before the device loop opens the database: the refused start must not say "Created the models folder".
        var log = new CapturedLog();
        await StartRefused(Path.Combine(_root, "no-such-corpora"), log);
        Assert.Empty(log.With("models folder"));
        Assert.False(Directory.Exists(Path.Combine(_root, "models")));
    }

    [Fact]
    public async Task A_configured_local_token_is_not_a_setting_the_standalone_host_takes()
    {
        // Only the embedded server makes one, in memory: from configuration it would be a secret in a file or the environment.
        var app = ServerHost.Build(["--CharRnn:Listen=127.0.0.1:0", $"--CharRnn:ModelsDirectory={Path.Combine(_root, "models")}", "--CharRnn:LocalToken=abc"], logging: _ => { });
        try { Assert.Null(app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ServerOptions>>().Value.LocalToken); }
        finally { await app.DisposeAsync(); }
    }

    /// <summary>The error the host, configured as Program.cs configures it (command-line configuration), refuses to start with.</summary>
    private async Task<ArgumentException> StartRefused(string corpora, CapturedLog? log = null)
    {
        var app = ServerHost.Build(
            ["--CharRnn:Listen=127.0.0.1:0", $"--CharRnn:ModelsDirectory={Path.Combine(_root, "models")}", $"--CharRnn:CorporaDirectory={corpora}",
             "--CharRnn:Device=cpu", "--CharRnn:Threads=1"], logging: l => { if (log != null) l.AddProvider(log); });
        try { return await Assert.ThrowsAsync<ArgumentException>(() => ServerHost.StartAsync(app)); }
        finally
        {
            try { await app.StopAsync(); }
            catch (Exception) { } // a host that never started has nothing to stop
            await app.DisposeAsync();
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }
}
