using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

/// <summary>The device loop's command queue: callers that give up, keys taking turns, and work that arrives as it stops.</summary>
public class DeviceWorkerTests
{
    private static async Task<(Microsoft.AspNetCore.Builder.WebApplication App, DeviceLoop.DeviceWorker Worker, string Models)> Started()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-worker-" + Guid.NewGuid().ToString("N")[..8]);
        var app = Hosting.ServerHost.Build([], new Hosting.ServerOptions { Listen = "127.0.0.1:0", ModelsDirectory = models, Device = "cpu", Threads = 1 }, _ => { });
        await Hosting.ServerHost.StartAsync(app);
        return (app, app.Services.GetRequiredService<DeviceLoop.DeviceWorker>(), models);
    }

    [Fact]
    public async Task The_device_thread_blocks_ctrl_c_and_the_like_so_no_signal_lands_in_a_libtorch_kernel()
    {
        var (app, worker, models) = await Started();
        try
        {
            var status = await worker.Run(() => File.ReadAllText("/proc/thread-self/status"));
            var mask = Convert.ToUInt64(status.Split('\n').Single(l => l.StartsWith("SigBlk:", StringComparison.Ordinal))["SigBlk:".Length..].Trim(), 16);
            foreach (var (name, number) in new[] { ("SIGINT", 2), ("SIGTERM", 15), ("SIGHUP", 1), ("SIGCONT", 18), ("SIGWINCH", 28) })
                Assert.True((mask >> (number - 1) & 1) == 1, $"{name} is not blocked on the device thread");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(models, true);
        }
    }

    [Fact]
    public async Task A_caller_that_gives_up_stops_waiting_behind_a_long_command_and_its_work_never_runs()
    {
        var (app, worker, models) = await Started();
        try
        {
            using var release = new ManualResetEventSlim();
            var held = worker.Run(() => release.Wait(TimeSpan.FromSeconds(30))); // a job's start can hold the loop this way
            using var giveUp = new CancellationTokenSource();
            var ran = false;
            var waiting = worker.Run(() => ran = true, giveUp.Token);
            await giveUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.False(held.IsCompleted); // it ended while the loop was still held, not after
            release.Set();
            await held;
            await worker.Run(() => { }); // the loop has passed the skipped command
            Assert.False(ran);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(models, true);
        }
    }

    [Fact]
    public async Task Keys_take_turns_so_one_keys_backlog_does_not_hold_anothers_command()
    {
        var (app, worker, models) = await Started();
        try
        {
            using var release = new ManualResetEventSlim();
            using var entered = new ManualResetEventSlim();
            var held = worker.Run(() => { entered.Set(); return release.Wait(TimeSpan.FromSeconds(30)); }, owner: "alice");
            Assert.True(entered.Wait(TimeSpan.FromSeconds(10))); // running: what follows is queued behind it, not taken in its pass
            var order = new List<string>(); // device thread only
            var alices = Enumerable.Range(0, 10).Select(i => worker.Run(() => order.Add("alice" + i), owner: "alice")).ToList();
            var bobs = worker.Run(() => order.Add("bob"), owner: "bob"); // queued after all of alice's
            release.Set();
            await Task.WhenAll(alices.Append(bobs).Append(held));
            Assert.Equal(11, order.Count);
            Assert.True(order.IndexOf("bob") <= 1, $"bob's command ran after {order.IndexOf("bob")} of alice's: {string.Join(", ", order)}");
            Assert.Equal(Enumerable.Range(0, 10).Select(i => "alice" + i), order.Where(o => o != "bob")); // one key's in the order they came
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(models, true);
        }
    }

    [Fact]
    public async Task Work_that_arrives_once_the_loop_stops_is_refused_at_once_not_left_waiting()
    {
        var (app, worker, models) = await Started();
        await app.StopAsync();
        var e = await Assert.ThrowsAsync<Errors.ServerException>(() => worker.Run(() => 1));
        Assert.Equal(StatusCode.Unavailable, e.Code);
        Assert.Equal("The server is shutting down; reconnect when it is back (jobs resume, sessions must be reopened).", e.Message); // what to do, as every stream is told
        await app.DisposeAsync();
        Directory.Delete(models, true);
    }
}
