using Grpc.Core;
using CharRnn.Protos.V1;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

/// <summary>What survives a server's stop and start: the models folder's lock, stopped jobs, checkpoints.</summary>
public class RestartTests
{
    private static Hosting.ServerOptions Options(string models) => new() { Listen = "127.0.0.1:0", ModelsDirectory = models, Device = "cpu", Threads = 1 };

    [Fact]
    public async Task A_second_server_on_the_same_models_folder_is_refused_until_the_first_stops()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-lock-" + Guid.NewGuid().ToString("N")[..8]);
        var first = Hosting.ServerHost.Build([], Options(models), _ => { });
        await Hosting.ServerHost.StartAsync(first);
        var second = Hosting.ServerHost.Build([], Options(models), _ => { });
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Hosting.ServerHost.StartAsync(second));
        Assert.Contains("Another charrnn server is using the models folder", e.Message);
        await second.DisposeAsync();
        await first.StopAsync();
        await first.DisposeAsync();

        var third = Hosting.ServerHost.Build([], Options(models), _ => { });
        await Hosting.ServerHost.StartAsync(third); // the lock went with the first
        await third.StopAsync();
        await third.DisposeAsync();
        Directory.Delete(models, true);
    }

    [Fact]
    public async Task A_job_stopped_as_the_server_shuts_down_stays_stopped()
    {
        using var server = new ServerFixture(o => o.Threads = 1);
        var job = await server.Training.StartJobAsync(new StartJobRequest
        {
            ModelName = "stop-then-quit", Architecture = "stateful-gru", CorpusName = "tiny",
            Options = new TrainingOptions { Epochs = 1000, MaxSteps = 1_000_000, SampleChars = 0 },
        });
        await foreach (var e in server.Training.WatchJob(new WatchJobRequest { JobId = job.Id }).ResponseStream.ReadAllAsync())
            if (e.EventCase == JobEvent.EventOneofCase.Started) break;

        // The stop arrives while the device loop is held and shutdown begins as it is released: the loop's last
        // slice or Shutdown ends the job, and either way it must end stopped, not stay to be resumed.
        var worker = server.Services.GetRequiredService<DeviceLoop.DeviceWorker>();
        using var release = new ManualResetEventSlim();
        var held = worker.Run(() => release.Wait(TimeSpan.FromSeconds(20)));
        await server.Training.StopJobAsync(new StopJobRequest { JobId = job.Id });
        var stopping = Task.Run(server.StopServer);
        await Task.Delay(300);
        release.Set();
        await held;
        await stopping;

        // Read as the next start would see it (straight from the file: the stopped server's lock may outlive its disposal by a moment).
        using var database = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.Options.ModelsDirectory, "charrnn.db")};Mode=ReadOnly");
        database.Open();
        using var query = database.CreateCommand();
        query.CommandText = "SELECT state FROM jobs WHERE id = $id";
        query.Parameters.AddWithValue("$id", job.Id);
        Assert.Equal("stopped", query.ExecuteScalar() as string); // "running" would have it resumed at the next start
    }
}
