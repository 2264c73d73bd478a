using System.Net;
using System.Net.Sockets;
using CharRnn.Protos.V1;
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
    public async Task A_server_that_answers_again_after_being_unreachable_gets_a_line_saying_so()
    {
        var root = Directory.CreateTempSubdirectory("charrnn-status-").FullName;
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        } // nothing listens there until the server starts below
        using var client = new CharRnnClient(new Uri($"http://127.0.0.1:{port}"));
        var completion = new CompletionSource();
        var status = new ServerStatus(client, completion, $"127.0.0.1:{port}");
        try
        {
            await status.RefreshAsync();
            Assert.StartsWith($"No answer from 127.0.0.1:{port}", status.TakeNotice());
            Assert.Equal("disconnected (Unavailable); retrying…", status.Line);
            Assert.Equal("disconnected; retrying…", status.LineFitting(30));
            Assert.Equal("disconnected", status.LineFitting(20));
            var app = ModelServer.Hosting.ServerHost.Build([], new ModelServer.Hosting.ServerOptions
            {
                ModelsDirectory = Path.Combine(root, "models"), Device = "cpu", Threads = 1, Listen = $"127.0.0.1:{port}",
            }, _ => { }, embedded: true);
            await ModelServer.Hosting.ServerHost.StartAsync(app);
            try
            {
                // As the status bar's loop does: the channel waits out its reconnect backoff before it tries again.
                await status.RefreshAsync();
                for (var clock = System.Diagnostics.Stopwatch.StartNew(); !status.Connected && clock.Elapsed < TimeSpan.FromSeconds(20); await status.RefreshAsync())
                    await Task.Delay(200);
                Assert.True(status.Connected, status.Problem);
                // Never connected before (charrnn --server started ahead of its server): not "again".
                Assert.Equal($"Connected to 127.0.0.1:{port}.", status.TakeNotice());
                await status.RefreshAsync();
                Assert.Null(status.TakeNotice()); // still connected: no second line
                // Tab's values come from the same poll as its names: the server's optimizers and yes/no options.
                Assert.Equal(["adam", "adamw"], completion.Current.Optimizers);
                Assert.Subset(new HashSet<string>(completion.Current.YesNoKeys), new HashSet<string> { "lower", "keep_cycles", "random_bptt" });
            }
            finally
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
            // Lost and back: now it is "again".
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); status.Connected && clock.Elapsed < TimeSpan.FromSeconds(20); await status.RefreshAsync())
                await Task.Delay(200);
            Assert.StartsWith($"No answer from 127.0.0.1:{port}", status.TakeNotice());
            var again = ModelServer.Hosting.ServerHost.Build([], new ModelServer.Hosting.ServerOptions
            {
                ModelsDirectory = Path.Combine(root, "models"), Device = "cpu", Threads = 1, Listen = $"127.0.0.1:{port}",
            }, _ => { }, embedded: true);
            await ModelServer.Hosting.ServerHost.StartAsync(again);
            try
            {
                for (var clock = System.Diagnostics.Stopwatch.StartNew(); !status.Connected && clock.Elapsed < TimeSpan.FromSeconds(20); await status.RefreshAsync())
                    await Task.Delay(200);
                Assert.Equal($"Connected to 127.0.0.1:{port} again.", status.TakeNotice());
            }
            finally
            {
                await again.StopAsync();
                await again.DisposeAsync();
            }
        }
        finally
        {
            await status.DisposeAsync();
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task A_server_that_refuses_the_key_is_named_as_refusing_it_not_as_disconnected()
    {
        await using var server = await KeyedEmbeddedServer.StartAsync();
        using var client = new CharRnnClient(server.Address); // no --token
        var status = new ServerStatus(client, new CompletionSource());
        status.Start(TimeSpan.FromSeconds(2));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (status.Version == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        await status.DisposeAsync();
        Assert.False(status.Connected);
        Assert.StartsWith("refused (Unauthenticated): This server needs an API key: send the metadata 'authorization: Bearer <key>' (charrnn --token KEY, or CHARRNN_TOKEN).", status.Line);
        // A narrow status bar keeps the state and drops the reason, then the code.
        Assert.Equal("refused (Unauthenticated)", status.LineFitting(30));
        Assert.Equal("refused", status.LineFitting(10));
        Assert.Equal("refused", status.LineFitting(3)); // the shortest, cut by the bar, where nothing fits
        Assert.StartsWith("the server refused this client: This server needs an API key", status.TakeNotice());
    }

    [Fact]
    public void An_admin_sees_every_keys_use_of_the_quotas_in_one_list_and_a_key_its_own_against_each_models_and_corpora_included()
    {
        var limits = new Limits { MaxSessionsPerKey = 4, MaxJobsPerKey = 2, MaxModelsPerKey = 5, MaxCorporaPerKey = 3, MaxCharsPerMinutePerKey = 600 };
        var own = new ServerInfo { Limits = limits, KeyUsage = { new KeyUsage { Key = "bob", Sessions = 1, Jobs = 0, Models = 4, Corpora = 3, CharsLastMinute = 120 } } };
        Assert.Equal("key bob: 1/4 sessions, 0/2 jobs, 4/5 models, 3/3 corpora, 120/600 chars a minute", ServerStatus.Usage(own));
        var every = new ServerInfo { Limits = limits, KeyUsage = { new KeyUsage { Key = "alice", Sessions = 3, Jobs = 2, Models = 1 }, new KeyUsage { Key = "bob", Sessions = 1, Corpora = 2, CharsLastMinute = 120 } } };
        Assert.Equal("keys' sessions/jobs/models/corpora/chars a minute of 4/2/5/3/600: alice 3/2/1/0/0, bob 1/0/0/2/120", ServerStatus.Usage(every));
        Assert.Null(ServerStatus.Usage(new ServerInfo { Limits = limits })); // an anonymous caller, an older server: nothing to show
        // A server older than the models and corpora quotas reports 0 for them: not shown as "0/0 models".
        var older = new Limits { MaxSessionsPerKey = 4, MaxJobsPerKey = 2, MaxCharsPerMinutePerKey = 600 };
        Assert.Equal("key bob: 1/4 sessions, 0/2 jobs, 120/600 chars a minute", ServerStatus.Usage(new ServerInfo { Limits = older, KeyUsage = { own.KeyUsage[0] } }));
    }

    [Fact]
    public void A_server_without_keys_shows_no_usage_row_for_its_one_user_local()
    {
        var limits = new Limits { MaxSessionsPerKey = 256, MaxJobsPerKey = 4, MaxCharsPerMinutePerKey = 2_000_000 };
        Assert.Null(ServerStatus.Usage(new ServerInfo { Limits = limits, KeyUsage = { new KeyUsage { Key = "local", Sessions = 1 } } }));
    }
}
