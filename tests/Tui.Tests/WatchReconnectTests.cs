using CharRnn.ModelServer.Hosting;
using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;
using Microsoft.AspNetCore.Builder;

namespace CharRnn.Tui.Tests;

/// <summary>A job watched in the REPL while its server restarts: the watch comes back by itself.</summary>
public sealed class WatchReconnectTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "charrnn-rewatch-" + Guid.NewGuid().ToString("N")[..8]);

    private async Task<WebApplication> StartServer(int port)
    {
        var options = new ServerOptions
        {
            ModelsDirectory = Path.Combine(_root, "models"), CorporaDirectory = Path.Combine(_root, "corpora"),
            Device = "cpu", Threads = 1, Listen = $"127.0.0.1:{port}",
        };
        var app = ServerHost.Build([], options, _ => { }, embedded: true);
        await ServerHost.StartAsync(app);
        return app;
    }

    [Fact]
    public async Task A_watched_job_is_watched_again_after_its_server_restarts()
    {
        Directory.CreateDirectory(Path.Combine(_root, "corpora"));
        File.WriteAllText(Path.Combine(_root, "corpora", "tiny.txt"), TuiFixture.TinyText);
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var server = await StartServer(port);
        using var client = new CharRnnClient(new Uri($"http://127.0.0.1:{port}"));
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(client, output, interactive: true);
        try
        {
            await runner.RunLineAsync("train stateful-gru name=w corpus=tiny epochs=40 n_hidden=8 bs=8 bptt=8 sample_chars=0");
            Assert.Empty(output.Errors);
            var jobId = runner.WatchedJob!;
            await Until(() => output.Events.Any(e => e.EventCase == JobEvent.EventOneofCase.CheckpointSaved), "a checkpoint");

            await server.StopAsync(); // checkpoints the job; the watch's stream ends with UNAVAILABLE
            await server.DisposeAsync();
            server = await StartServer(port); // resumes the job from its checkpoint

            await Until(() => output.Events.Any(e => e.EventCase == JobEvent.EventOneofCase.Finished), "the job's end", seconds: 120);
            Assert.Empty(output.Errors);
            Assert.Contains(output.Lines, l => l == $"watching job {jobId} again");
            Assert.Equal([true, false], output.WatchLost); // the Train tab says it is cut off, then no more
            Assert.Contains(output.Events, e => e.EventCase == JobEvent.EventOneofCase.Started && e.Started.ResumedFromStep > 0);
            var sequences = output.Events.Select(e => e.Sequence).ToList();
            Assert.Equal(sequences.Order().Distinct(), sequences); // nothing shown twice, in order
        }
        finally
        {
            await runner.DisposeAsync();
            await server.StopAsync();
            await server.DisposeAsync();
        }
    }

    private static async Task Until(Func<bool> condition, string what, int seconds = 60)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !condition(); await Task.Delay(20))
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(seconds), $"waited {seconds} s for {what}");
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
