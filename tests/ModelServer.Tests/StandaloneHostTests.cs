using CharRnn.ModelServer.Hosting;
using Microsoft.Extensions.Logging;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// The standalone host (Program.cs runs <see cref="StandaloneHost.Run"/>) refuses a configuration it
/// cannot serve with one line on stderr and exit code 2, as charrnn serve does, not with an unhandled
/// exception's stack trace and SIGABRT.
/// </summary>
public class StandaloneHostTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "charrnn-standalone-" + Guid.NewGuid().ToString("N")[..8]);

    [Theory]
    [InlineData("--CharRnn:TrainingShare=5", "The training share must be from 0.05 to 0.95.")] // refused when the device loop is made
    [InlineData("--CharRnn:Threads=abc", "Failed to convert configuration value 'abc' at 'CharRnn:Threads'")] // refused by configuration binding
    [InlineData("--CharRnn:Listen=0.0.0.0:0", "Refusing to listen on 0.0.0.0:0 without API keys")] // refused by SecurityCheck at start
    // The standalone host takes no --keys flag: the refusal names the setting it reads too, and where keys add writes.
    [InlineData("--CharRnn:Listen=0.0.0.0:0", "(charrnn keys add NAME --admin --keys FILE) and pass --keys FILE (CharRnn:KeysFile)")]
    public void A_refused_setting_is_one_line_and_exit_code_2(string setting, string reason)
    {
        var (code, error) = Run(setting);
        Assert.Equal(2, code);
        Assert.StartsWith($"{StandaloneHost.Name}: ", error);
        Assert.Contains(reason, error);
        Assert.Single(error.TrimEnd('\n').Split('\n')); // no stack trace
    }

    // CHARRNN__THREADS=abc in a unit file: the line says what the setting takes and the variable to fix, not only .NET's type name.
    [Theory]
    [InlineData("--CharRnn:Threads=abc", "CharRnn:Threads takes a whole number (the environment's CHARRNN__THREADS)")]
    [InlineData("--CharRnn:TrainingShare=half", "CharRnn:TrainingShare takes a number such as 0.5 (the environment's CHARRNN__TRAININGSHARE)")]
    public void A_setting_that_is_not_a_number_says_what_it_takes(string setting, string hint)
    {
        var (code, error) = Run(setting);
        Assert.Equal(2, code);
        Assert.EndsWith($" {hint}.", error.TrimEnd('\n'));
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void A_keys_file_that_does_not_exist_is_refused_not_served_as_a_file_with_no_keys()
    {
        var missing = Path.Combine(_root, "no-such-keys.json");
        var (code, error) = Run($"--CharRnn:KeysFile={missing}");
        Assert.Equal(2, code);
        Assert.Equal($"{StandaloneHost.Name}: CharRnn:KeysFile (--keys) '{missing}' does not exist; create it with charrnn keys add NAME --keys {missing}.", error.TrimEnd('\n'));
    }

    [Fact]
    public void A_models_folder_another_server_holds_is_refused_with_exit_code_2()
    {
        var models = Path.Combine(_root, "models");
        Directory.CreateDirectory(models);
        using var held = new FileStream(Path.Combine(models, "charrnn.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var (code, error) = Run();
        Assert.Equal(2, code);
        Assert.StartsWith($"{StandaloneHost.Name}: Another charrnn process is using the models folder", error);
    }

    // A refused first start (under systemd, say) must leave no models folder: the next start then says it made one, the
    // line that shows a typo in the path. A port in use is only known once Kestrel binds, after the database is open.
    [Fact]
    public async Task A_start_refused_for_a_missing_corpora_folder_leaves_no_models_folder()
    {
        var (code, error) = Run($"--CharRnn:CorporaDirectory={Path.Combine(_root, "no-such-corpora")}");
        Assert.Equal(2, code);
        Assert.Contains("does not exist", error);
        Assert.False(Directory.Exists(Path.Combine(_root, "models")), "the refused start left the models folder it made");
        await AssertNextStartSaysItMadeTheFolder();
    }

    [Fact]
    public async Task A_start_refused_for_a_port_in_use_leaves_no_models_folder()
    {
        using var held = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        held.Start();
        var (code, error) = Run($"--CharRnn:Listen=127.0.0.1:{((System.Net.IPEndPoint)held.LocalEndpoint).Port}");
        Assert.Equal(2, code);
        Assert.Contains("Another process may hold the port", error);
        Assert.False(Directory.Exists(Path.Combine(_root, "models")), "the refused start left the models folder it made");
        await AssertNextStartSaysItMadeTheFolder();
    }

    [Fact]
    public void An_address_this_machine_does_not_have_is_refused_with_exit_code_2_saying_what_to_give()
    {
        var (code, error) = Run("--CharRnn:MetricsListen=192.0.2.1:9464"); // TEST-NET-1 (RFC 5737): no machine has it
        Assert.Equal(2, code);
        Assert.EndsWith(" CharRnn:Listen or CharRnn:MetricsListen names an address this machine does not have; give one of its own, 0.0.0.0 for all of them, or 127.0.0.1 for this machine only.",
            error.TrimEnd('\n'));
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void A_start_refused_for_a_port_in_use_keeps_a_models_folder_that_was_there()
    {
        var models = Path.Combine(_root, "models");
        Directory.CreateDirectory(models);
        using var held = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        held.Start();
        var (code, _) = Run($"--CharRnn:Listen=127.0.0.1:{((System.Net.IPEndPoint)held.LocalEndpoint).Port}");
        Assert.Equal(2, code);
        Assert.True(Directory.Exists(models), "the refused start removed a models folder it did not make");
    }

    private async Task AssertNextStartSaysItMadeTheFolder()
    {
        var log = new CapturedLog();
        var app = ServerHost.Build([], new ServerOptions { Listen = "127.0.0.1:0", ModelsDirectory = Path.Combine(_root, "models"), Device = "cpu", Threads = 1 },
            l => l.AddProvider(log));
        try
        {
            await ServerHost.StartAsync(app);
            Assert.Single(log.With("Created the models folder"));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>The host configured as Program.cs configures it (command-line configuration); what it wrote to stderr.</summary>
    private (int Code, string Error) Run(params string[] settings)
    {
        var error = new StringWriter { NewLine = "\n" };
        string[] args = ["--CharRnn:Listen=127.0.0.1:0", $"--CharRnn:ModelsDirectory={Path.Combine(_root, "models")}", "--CharRnn:Device=cpu", "--CharRnn:Threads=1"];
        // Later configuration wins: a setting given here replaces the default above.
        var run = Task.Run(() => StandaloneHost.Run([.. args, .. settings, "--Logging:LogLevel:Default=None"], error));
        // A host that accepted the configuration would serve until stopped: fail rather than hang.
        Assert.True(run.Wait(TimeSpan.FromSeconds(60)), $"The host started with {string.Join(' ', settings)}; it should have refused it.");
        return (run.Result, error.ToString());
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }
}
