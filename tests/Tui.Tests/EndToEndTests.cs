using System.Diagnostics;

namespace CharRnn.Tui.Tests;

/// <summary>
/// The real charrnn binary in a real terminal (tmux): the embedded server starts, a tiny model
/// trains from the command line, and generated text streams onto the screen.
/// </summary>
public sealed class EndToEndTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "charrnn-e2e-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string _session = "charrnn-e2e-" + Guid.NewGuid().ToString("N")[..6];
    /// <summary>A tmux server of this test's own: one already running would give the session its environment, not ours.</summary>
    private readonly string _socket = "charrnn-e2e-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Charrnn_in_tmux_trains_a_tiny_model_and_streams_its_text()
    {
        Directory.CreateDirectory(Path.Combine(_root, "corpora"));
        File.WriteAllText(Path.Combine(_root, "corpora", "tiny.txt"), TuiFixture.TinyText);
        var charrnn = Path.Combine(AppContext.BaseDirectory, "charrnn.dll");
        var command = $"CHARRNN_HISTORY={_root}/history dotnet '{charrnn}' --models {_root}/models --corpora {_root}/corpora --threads 1 2> {_root}/stderr.txt";
        var (code, output) = await Tmux("new-session", "-d", "-s", _session, "-x", "130", "-y", "42", command);
        Assert.True(code == 0, "tmux could not start (is tmux installed? make test installs it through tests/install-packages.sh): " + output);

        await WaitForScreen("Welcome to charrnn", TimeSpan.FromSeconds(60));
        await Tmux("send-keys", "-t", _session, "train stateful-gru name=e2e corpus=tiny max_steps=60 epochs=3 n_hidden=24 bs=8 sample_chars=20", "Enter");
        var screen = await WaitForScreen("finished: reached max_steps=60", TimeSpan.FromSeconds(120));
        Assert.Contains("Learning rate", screen);

        await Tmux("send-keys", "-t", _session, "use e2e t=0", "Enter");
        await WaitForScreen("using e2e", TimeSpan.FromSeconds(30));
        await Tmux("send-keys", "-t", _session, "gen 200 \"the c\"", "Enter");
        screen = await WaitForScreen("model e2e (stateful-gru)", TimeSpan.FromSeconds(30));
        // The 200 characters stream onto the screen after the prime (wrapped; trailing spaces do not show).
        screen = await WaitFor(s => GeneratedCharacters(s) >= 190, "the 200 generated characters on screen", TimeSpan.FromSeconds(30));
        Assert.Contains("the c", screen);

        // Quit while a long gen streams: the running line stops and the session closes on the server before charrnn ends.
        await Tmux("send-keys", "-t", _session, "gen 100000", "Enter");
        await Task.Delay(2000); // 100,000 chars take far longer on any machine
        await Tmux("send-keys", "-t", _session, "C-q", "");
        // Quitting stops the embedded server first: on a slow machine that takes a while. The session ends with its process.
        var quitBy = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var quit = false;
        while (!quit && DateTime.UtcNow < quitBy)
        {
            quit = (await Tmux("has-session", "-t", _session)).Code != 0;
            if (!quit) await Task.Delay(250);
        }
        Assert.True(quit, "Ctrl+Q should end charrnn within 60 s. Screen:\n" + await Capture());
        Assert.Contains("use e2e t=0", File.ReadAllLines($"{_root}/history")); // kept for the next run
        var log = File.ReadAllText(Path.Combine(_root, "models", "server.log"));
        var closed = System.Text.RegularExpressions.Regex.Match(log, @"Session \S+ closed");
        Assert.True(closed.Success, "quitting while a gen streamed left the session open on the server. Its log:\n" + log);
        Assert.True(closed.Index < log.IndexOf("Device loop stopped", StringComparison.Ordinal), "the session was closed after the server stopped");
    }

    [Fact]
    public async Task Charrnn_whose_terminal_goes_away_stops_its_server_and_exits()
    {
        using var process = await StartCharrnn();
        await Tmux("kill-server"); // the terminal closes under it (SIGHUP), as a dropped ssh or a closed window does
        await AssertExitsWithItsServer(process, "charrnn went on running after its terminal closed");
    }

    [Fact]
    public async Task Charrnn_quits_on_SIGTERM_while_its_help_box_is_open()
    {
        using var process = await StartCharrnn();
        await Tmux("send-keys", "-t", _session, "F1");
        await WaitForScreen("charrnn help", TimeSpan.FromSeconds(30));
        Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        await AssertExitsWithItsServer(process, "SIGTERM closed the help box and left charrnn running");
    }

    [Fact]
    public async Task Charrnn_quits_on_a_second_Ctrl_C_typed_at_its_idle_command_line()
    {
        using var process = await StartCharrnn();
        await Tmux("send-keys", "-t", _session, "mod"); // half a command in the field that would take Ctrl+C as Copy
        await WaitForScreen("> mod", TimeSpan.FromSeconds(30));
        await Tmux("send-keys", "-t", _session, "C-c", ""); // clears the line, as a shell does
        await WaitFor(s => !s.Contains("> mod", StringComparison.Ordinal), "the typed line cleared", TimeSpan.FromSeconds(30));
        await Tmux("send-keys", "-t", _session, "C-c", ""); // at the idle prompt: the offer to quit
        await WaitForScreen("press Ctrl+C again to quit", TimeSpan.FromSeconds(30));
        await Tmux("send-keys", "-t", _session, "C-c", "");
        await AssertExitsWithItsServer(process, "a second Ctrl+C at the idle prompt left charrnn running");
    }

    private async Task<Process> StartCharrnn()
    {
        Directory.CreateDirectory(Path.Combine(_root, "corpora"));
        File.WriteAllText(Path.Combine(_root, "corpora", "tiny.txt"), TuiFixture.TinyText);
        var charrnn = Path.Combine(AppContext.BaseDirectory, "charrnn.dll");
        var (code, output) = await Tmux("new-session", "-d", "-s", _session, "-x", "100", "-y", "30",
            $"CHARRNN_HISTORY= exec dotnet '{charrnn}' --models {_root}/models --corpora {_root}/corpora --threads 1 2> {_root}/stderr.txt");
        Assert.True(code == 0, "tmux could not start: " + output);
        await WaitForScreen("Welcome to charrnn", TimeSpan.FromSeconds(60));
        var pid = int.Parse((await Tmux("display-message", "-p", "-t", _session, "#{pane_pid}")).Output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        return Process.GetProcessById(pid);
    }

    private async Task AssertExitsWithItsServer(Process process, string otherwise)
    {
        var exited = await Task.Run(() => process.WaitForExit(TimeSpan.FromSeconds(60)));
        if (!exited) process.Kill(entireProcessTree: true);
        Assert.True(exited, otherwise);
        Assert.Contains("Device loop stopped", File.ReadAllText(Path.Combine(_root, "models", "server.log"))); // its server stopped first
    }

    /// <summary>Characters in the output pane from the prime on ("│││" starts each pane line).</summary>
    private static int GeneratedCharacters(string screen)
    {
        var lines = screen.Split('\n').Select(l => l.Trim().Trim('│')).ToList();
        var first = lines.FindIndex(l => l.StartsWith("the c", StringComparison.Ordinal));
        if (first < 0) return 0;
        return lines.Skip(first).TakeWhile(l => l.Trim().Length > 0).Sum(l => l.TrimEnd().Length) - "the c".Length;
    }

    private Task<string> WaitForScreen(string text, TimeSpan timeout) =>
        WaitFor(s => s.Contains(text, StringComparison.Ordinal), $"'{text}'", timeout);

    private async Task<string> WaitFor(Func<string, bool> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string screen = "";
        while (DateTime.UtcNow < deadline)
        {
            screen = await Capture();
            if (condition(screen)) return screen;
            await Task.Delay(250);
        }
        var stderr = File.Exists($"{_root}/stderr.txt") ? File.ReadAllText($"{_root}/stderr.txt") : "";
        throw new Xunit.Sdk.XunitException($"Timed out waiting for {what}. Screen:\n{screen}\nstderr:\n{stderr}");
    }

    private async Task<string> Capture() => (await Tmux("capture-pane", "-p", "-t", _session)).Output;

    private async Task<(int Code, string Output)> Tmux(params string[] args)
    {
        var start = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-L");
        start.ArgumentList.Add(_socket);
        foreach (var a in args.Where(a => a.Length > 0)) start.ArgumentList.Add(a);
        start.Environment.Remove("DisableRealDriverIO"); // the real binary talks to tmux's terminal
        try
        {
            using var process = CharRnn.Engine.Runtime.AsyncSignalMask.StartProcess(start);
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    public void Dispose()
    {
        Tmux("kill-server").GetAwaiter().GetResult();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
