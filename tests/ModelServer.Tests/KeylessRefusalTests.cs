using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.TrainedModels;
using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// Refusals on a server without API keys (every caller 'local', a key its operator never made) name no key: not "this key's",
/// not "other keys", not "key local". TeamServerTests, ImportModelTests and OperatorLogTests keep the keyed words.
/// </summary>
public class KeylessRefusalTests
{
    [Fact]
    public async Task The_servers_session_maximum_names_no_keys_share_of_it()
    {
        var (full, _) = await SecondSessionRefused(o => o.Limits.MaxSessions = 1);
        Assert.StartsWith("The server holds its maximum of 1 open sessions (limit max_sessions); close ones it no longer uses", full.Status.Detail);
    }

    /// <summary>Every per-key quota is worded so without keys (QuotaHolder); TeamServerTests has the keyed words, OperatorLogTests the keyed log line.</summary>
    [Fact]
    public async Task A_per_key_quota_and_its_log_line_are_worded_as_the_servers()
    {
        var (full, log) = await SecondSessionRefused(o => o.Limits.MaxSessionsPerKey = 1);
        Assert.StartsWith("This server holds 1 open sessions, its quota (limit max_sessions_per_key = 1, shared by all its callers: it has no API keys); " +
                          "close ones it no longer uses", full.Status.Detail);
        var logged = Assert.Single(log, l => l.Contains("quota max_sessions_per_key", StringComparison.Ordinal));
        Assert.StartsWith("Warning: Refused /charrnn.v1.Generation/OpenSession for this keyless server's callers: quota max_sessions_per_key reached: This server holds 1 open sessions", logged);
        Assert.EndsWith("(more refusals for this quota within a minute are not logged)", logged);
    }

    /// <summary>A second session on a server with <paramref name="limit"/>, which refuses it: the refusal and the server's log.</summary>
    private static async Task<(RpcException Refusal, IReadOnlyList<string> Log)> SecondSessionRefused(Action<ServerOptions> limit)
    {
        using var server = new ServerFixture(limit);
        var first = await server.Generation.Open("gru");
        var refusal = await Calls.Fails(() => server.Generation.Open("gru"));
        Assert.Equal(StatusCode.ResourceExhausted, refusal.StatusCode);
        await server.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = first.Id });
        return (refusal, server.Log.Lines);
    }

    [Fact]
    public async Task A_full_job_queue_says_to_stop_a_job_without_naming_a_key()
    {
        using var server = new ServerFixture();
        var running = await server.Training.StartJobAsync(Job("keyless-running", 1_000_000));
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); (await server.Training.GetJobAsync(new GetJobRequest { JobId = running.Id })).State != Protos.V1.Job.Types.State.Running; await Task.Delay(20))
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the first job never started");
        var queued = await server.Training.StartJobAsync(Job("keyless-queued", 2));
        server.Options.Limits.MaxQueuedJobs = 1;

        var full = await Calls.Fails(() => server.Training.StartJobAsync(Job("keyless-refused", 2)).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);
        Assert.Equal("The job queue is full (1 queued, limit max_queued_jobs); try again once a queued job has started, or stop one (StopJob).", full.Status.Detail);
        await server.Training.StopJobAsync(new StopJobRequest { JobId = queued.Id });
        await server.Training.StopJobAsync(new StopJobRequest { JobId = running.Id });
    }

    [Fact]
    public void An_import_over_the_per_key_cap_does_not_say_other_keys_may_import()
    {
        var options = new ServerOptions();
        (options.Limits.MaxImports, options.Limits.MaxImportsPerKey) = (2, 1);
        var slots = new ImportSlots(Microsoft.Extensions.Options.Options.Create(options));
        using var held = slots.Take(Security.Caller.Local.Name);
        var e = Assert.Throws<Errors.ServerException>(() => slots.Take(Security.Caller.Local.Name));
        Assert.Equal("This server has 1 model import(s) in progress, its maximum at once (limit max_imports_per_key = 1, charrnn serve --max-imports-per-key, " +
                     "shared by all its callers: it has no API keys); retry when one of them ends.", e.Message);
    }

    [Fact]
    public async Task Deleting_an_upload_that_is_not_there_names_no_key()
    {
        using var server = new ServerFixture();
        var e = await Calls.Fails(() => server.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "nosuch" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal("No uploaded corpus 'nosuch' on this server; ListCorpora shows the corpora it can use.", e.Status.Detail);
    }

    [Fact]
    public async Task A_rename_onto_a_taken_name_offers_the_delete_without_if_this_key_may()
    {
        using var server = new ServerFixture();
        var e = await Calls.Fails(() => server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "gru", NewName = "lstm" }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
        Assert.Equal("A model named 'lstm' exists, and a rename never replaces one; choose another new_name (or delete that model first).", e.Status.Detail);
    }

    [Fact]
    public async Task A_stop_is_logged_without_naming_a_key_local()
    {
        using var server = new ServerFixture();
        var job = await server.Training.StartJobAsync(Job("keyless-stopped", 1_000_000));
        await server.Training.StopJobAsync(new StopJobRequest { JobId = job.Id });
        Assert.Equal($"Information: Stop requested for job {job.Id} (model keyless-stopped)", Assert.Single(server.Log.With("Stop requested")));
    }

    private static StartJobRequest Job(string name, int maxSteps)
    {
        var r = new StartJobRequest { ModelName = name, Architecture = "stateful-rnn", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = maxSteps, Epochs = 1000, SampleChars = 0 } };
        r.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 16, ["bs"] = 8 });
        return r;
    }
}
