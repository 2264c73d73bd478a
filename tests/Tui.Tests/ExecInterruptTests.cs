using System.Diagnostics;
using CharRnn.Engine.Checkpoints;

namespace CharRnn.Tui.Tests;

/// <summary>
/// The real charrnn binary running --exec, interrupted. SIGTERM stands in for Ctrl+C: charrnn
/// treats SIGINT, SIGTERM and SIGHUP alike (but for the exit code, 128 + the signal's number), and
/// a test host may start processes with SIGINT ignored.
/// </summary>
public sealed class ExecInterruptTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "charrnn-exec-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task A_signal_stops_the_running_command_skips_the_rest_and_checkpoints_the_job()
    {
        Directory.CreateDirectory(Path.Combine(_root, "corpora"));
        Directory.CreateDirectory(Path.Combine(_root, "models")); // a folder made by the run would add its note to stderr
        File.WriteAllText(Path.Combine(_root, "corpora", "tiny.txt"), TuiFixture.TinyText);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _root };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "charrnn.dll"), "--models", Path.Combine(_root, "models"),
                     "--corpora", Path.Combine(_root, "corpora"), "--threads", "1",
                     "--exec", "train stateful-gru name=x corpus=tiny epochs=1000 n_hidden=8 bs=8 bptt=8 sample_chars=0; help" })
            start.ArgumentList.Add(arg);
        using var process = CharRnn.Engine.Runtime.AsyncSignalMask.StartProcess(start);
        try { await Interrupt(process); }
        finally { if (!process.HasExited) process.Kill(entireProcessTree: true); }
    }

    private async Task Interrupt(Process process)
    {
        var stdoutText = new System.Text.StringBuilder();
        var stderrText = new System.Text.StringBuilder();
        var epoch2 = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            lock (stdoutText) stdoutText.AppendLine(e.Data);
            if (e.Data?.StartsWith("epoch 2:", StringComparison.Ordinal) == true) epoch2.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) => { lock (stderrText) stderrText.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await epoch2.Task.WaitAsync(TimeSpan.FromSeconds(60)); // training, and the first checkpoints written
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()])) await kill.WaitForExitAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var stdout = stdoutText.ToString().Split('\n');
        var stderr = stderrText.ToString();
        Assert.True(143 == process.ExitCode, $"exit code {process.ExitCode}; stderr: {stderr}; stdout ends: {string.Join(" | ", stdout.TakeLast(5))}");
        Assert.Equal("error: interrupted", stderr.Trim());
        Assert.DoesNotContain(stdout, l => l.StartsWith("archs ", StringComparison.Ordinal)); // `help` did not run
        // The embedded server kept running until the command stopped, then stopped the job with a checkpoint.
        var saved = CheckpointFile.ReadMetadata(Path.Combine(_root, "models", "x", "last.ckpt"));
        Assert.Equal("stopped", saved.Reason);
        Assert.True(saved.Position.Epoch >= 2);
        // Stopped, not left to resume at the next start: the line's job was the interrupted command's.
        Assert.Contains(stdout, l => l.StartsWith("job ", StringComparison.Ordinal) && l.Contains(" stopped; it saves a checkpoint", StringComparison.Ordinal));
        using var database = new ModelServer.Persistence.ServerDatabase(Microsoft.Extensions.Options.Options.Create(
            new ModelServer.Hosting.ServerOptions { ModelsDirectory = Path.Combine(_root, "models") }));
        Assert.Empty(database.UnfinishedJobs());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
