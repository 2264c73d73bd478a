using CharRnn.Protos.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

public class TeamServerTests(KeyedServer keyed) : IClassFixture<KeyedServer>
{
    private static async Task<StatusCode> Code(Func<Task> call) => (await Calls.Fails(call)).StatusCode;

    // The admin's job that trains until stopped, once it runs: the jobs started after it queue behind it.
    private static async Task<Protos.V1.Job> RunningAdminJob(KeyedServer fresh, string name)
    {
        var running = await fresh.AsAdmin.Training.StartJobAsync(Job(name, 1_000_000));
        await UntilRunning(fresh, running.Id);
        return running;
    }

    /// <summary>A job waits in the queue until the device loop starts it, later when another test's job holds the device.</summary>
    private static async Task UntilRunning(KeyedServer server, string jobId)
    {
        for (var waited = 0; (await server.AsAdmin.Training.GetJobAsync(new GetJobRequest { JobId = jobId })).State != Protos.V1.Job.Types.State.Running; waited += 20)
        {
            Assert.True(waited < 30_000, $"job {jobId} never started");
            await Task.Delay(20);
        }
    }

    private static StartJobRequest Job(string name, int maxSteps)
    {
        var r = new StartJobRequest { ModelName = name, Architecture = "stateful-rnn", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = maxSteps, Epochs = 1000, SampleChars = 0 } };
        r.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 16, ["bs"] = 8 });
        return r;
    }

    [Theory]
    [InlineData("Basic")]
    [InlineData("Token")]
    public async Task A_key_sent_with_another_scheme_than_bearer_is_refused_naming_the_scheme(string scheme)
    {
        var e = await Calls.Fails(() => keyed.Anonymous.Catalog.ListModelsAsync(new ListModelsRequest(),
            new Metadata { { "authorization", $"{scheme} {keyed.Alice}" } }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.Equal($"The authorization scheme '{scheme}' is not supported; send 'authorization: Bearer <key>'.", e.Status.Detail);
        Assert.Equal("UNAUTHENTICATED_UNSUPPORTED_SCHEME", e.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason);
        // A bare key, with no scheme, is still taken.
        Assert.NotNull(await keyed.Anonymous.Catalog.ListModelsAsync(new ListModelsRequest(), new Metadata { { "authorization", keyed.Alice } }));
    }

    /// <summary>Runs <paramref name="test"/> with some of the server's limits changed, and puts them back after.</summary>
    private async Task WithLimits(Action<Hosting.ServerLimits> change, Func<Task> test)
    {
        var limits = keyed.Server.Options.Limits;
        var saved = (limits.MaxEndedJobs, limits.MaxJobsPerKey, limits.MaxModelsPerKey, limits.MaxJobMemoryBytes);
        change(limits);
        try { await test(); }
        finally { (limits.MaxEndedJobs, limits.MaxJobsPerKey, limits.MaxModelsPerKey, limits.MaxJobMemoryBytes) = saved; }
    }

    [Fact]
    public async Task Ended_jobs_are_kept_per_key_so_one_keys_jobs_do_not_push_out_anothers()
    {
        await WithLimits(l => l.MaxEndedJobs = 1, async () =>
        {
            var alices = (await keyed.AsAlice.Training.Train(Job("kept-alice", 2)).Events())[0].JobId;
            var bobsFirst = (await keyed.AsBob.Training.Train(Job("kept-bob-1", 2)).Events())[0].JobId;
            var bobsSecond = (await keyed.AsBob.Training.Train(Job("kept-bob-2", 2)).Events())[0].JobId;

            Assert.Equal(Protos.V1.Job.Types.State.Finished, (await keyed.AsAlice.Training.GetJobAsync(new GetJobRequest { JobId = alices })).State);
            Assert.Equal(Protos.V1.Job.Types.State.Finished, (await keyed.AsBob.Training.GetJobAsync(new GetJobRequest { JobId = bobsSecond })).State);
            var gone = await Calls.Fails(() => keyed.AsBob.Training.GetJobAsync(new GetJobRequest { JobId = bobsFirst }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, gone.StatusCode);
            Assert.Contains("a key's ended jobs are kept until 1 newer ones of its own end", gone.Status.Detail);
        });
    }

    /// <summary>
    /// GetJob and WatchJob answer another key's ended job as they answer an id no job has, word for word (the id aside),
    /// so ids do not leak; the message gives both reasons rather than only the keeping of ended jobs, which misled there.
    /// </summary>
    [Fact]
    public async Task Another_keys_job_and_an_unknown_id_are_not_found_in_the_same_words_naming_both_reasons()
    {
        var alices = (await keyed.AsAlice.Training.Train(Job("nf-alice", 2)).Events())[0].JobId;
        string Expected(string id) => $"No job '{id}' for key 'bob': another key's job is not shown to it (save one queued or running on a model it owns), " +
                                      $"and a key's ended jobs are kept until {keyed.Server.Options.Limits.MaxEndedJobs} newer ones of its own end.";
        foreach (var id in new[] { alices, "job-no-such" })
        {
            var get = await Calls.Fails(() => keyed.AsBob.Training.GetJobAsync(new GetJobRequest { JobId = id }).ResponseAsync);
            var watch = await Calls.Fails(() => keyed.AsBob.Training.WatchJob(new WatchJobRequest { JobId = id }).Events());
            Assert.Equal((StatusCode.NotFound, Expected(id)), (get.StatusCode, get.Status.Detail));
            Assert.Equal((StatusCode.NotFound, Expected(id)), (watch.StatusCode, watch.Status.Detail));
        }
        // An admin sees every job: only the keeping of ended jobs can be why.
        var admins = await Calls.Fails(() => keyed.AsAdmin.Training.GetJobAsync(new GetJobRequest { JobId = "job-no-such" }).ResponseAsync);
        Assert.Equal("No job 'job-no-such' for key 'root' (a key's ended jobs are kept until " +
                     $"{keyed.Server.Options.Limits.MaxEndedJobs} newer ones of its own end).", admins.Status.Detail);
    }

    [Fact]
    public async Task Keys_take_turns_at_the_device_so_one_keys_queue_does_not_hold_anothers_job()
    {
        await WithLimits(l => l.MaxJobsPerKey = 2, async () =>
        {
            // Alice's first job holds the device; her second and then Bob's queue behind it.
            var running = await keyed.AsAlice.Training.StartJobAsync(Job("turns-alice-1", 1_000_000));
            for (var waited = 0; (await keyed.AsAlice.Training.GetJobAsync(new GetJobRequest { JobId = running.Id })).State != Protos.V1.Job.Types.State.Running; waited += 20)
            {
                Assert.True(waited < 30_000, "Alice's first job never started");
                await Task.Delay(20);
            }
            var alicesNext = await keyed.AsAlice.Training.StartJobAsync(Job("turns-alice-2", 2));
            var bobs = await keyed.AsBob.Training.StartJobAsync(Job("turns-bob", 2));
            Assert.Equal(1, (await keyed.AsBob.Training.GetJobAsync(new GetJobRequest { JobId = bobs.Id })).QueuePosition); // after Alice's running job, Bob's turn
            Assert.Equal(2, (await keyed.AsAlice.Training.GetJobAsync(new GetJobRequest { JobId = alicesNext.Id })).QueuePosition);
            // The list shows the queue in the order it will run, as its positions say.
            var listed = (await keyed.AsAdmin.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Where(j => j.Id == running.Id || j.Id == alicesNext.Id || j.Id == bobs.Id);
            Assert.Equal([running.Id, bobs.Id, alicesNext.Id], listed.Select(j => j.Id));
            Assert.Equal(["alice", "bob", "alice"], listed.Select(j => j.Owner)); // the admin's list says whose each job is
            Assert.Equal("bob", (await keyed.AsBob.Training.GetJobAsync(new GetJobRequest { JobId = bobs.Id })).Owner);

            await keyed.AsAlice.Training.StopJobAsync(new StopJobRequest { JobId = running.Id });
            var bobsEvents = await keyed.AsBob.Training.WatchJob(new WatchJobRequest { JobId = bobs.Id }).Events();
            var alicesEvents = await keyed.AsAlice.Training.WatchJob(new WatchJobRequest { JobId = alicesNext.Id }).Events();
            var bobStarted = bobsEvents.Single(e => e.Started != null).Time.ToDateTimeOffset();
            var aliceStarted = alicesEvents.Single(e => e.Started != null).Time.ToDateTimeOffset();
            Assert.True(bobStarted < aliceStarted, $"Bob's job started at {bobStarted:HH:mm:ss.fff}, after Alice's second at {aliceStarted:HH:mm:ss.fff}");
        });
    }

    [Fact]
    public async Task The_queue_serves_the_key_served_least_recently_so_a_third_key_does_not_wait_behind_two_keys_second_jobs()
    {
        using var fresh = new KeyedServer(); // the order depends on whose jobs ran before: a server no test has trained on
        fresh.Server.Options.Limits.MaxJobsPerKey = 2;
        // The admin's job holds the device while alice and bob queue two jobs each, then dave one.
        var running = await RunningAdminJob(fresh, "fair-root");
        var queued = new List<string>();
        foreach (var (api, name) in new[] { (fresh.AsAlice, "fair-alice-1"), (fresh.AsAlice, "fair-alice-2"), (fresh.AsBob, "fair-bob-1"), (fresh.AsBob, "fair-bob-2"), (fresh.AsDave, "fair-dave") })
            queued.Add((await api.Training.StartJobAsync(Job(name, 2))).Id);
        var listed = (await fresh.AsAdmin.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Where(j => queued.Contains(j.Id)).ToList();
        Assert.Equal(["fair-alice-1", "fair-bob-1", "fair-dave", "fair-alice-2", "fair-bob-2"], listed.Select(j => j.ModelName));
        Assert.Equal([1, 2, 3, 4, 5], listed.Select(j => j.QueuePosition));
    }

    [Fact]
    public async Task A_full_queue_says_how_many_of_its_jobs_are_the_callers_so_a_key_with_none_is_not_told_to_stop_one_and_a_key_at_its_job_quota_gets_that_refusal()
    {
        using var fresh = new KeyedServer(); // a queue of its own: the limit is lowered below what other tests queue
        var running = await RunningAdminJob(fresh, "full-root");
        await fresh.AsAlice.Training.StartJobAsync(Job("full-alice", 2)); // the one queued job: alice's
        fresh.Server.Options.Limits.MaxQueuedJobs = 1;
        fresh.Server.Options.Limits.MaxJobsPerKey = 2; // alice and the admin may hold two: the queue, not their quota, refuses them

        var bobs = await Calls.Fails(() => fresh.AsBob.Training.StartJobAsync(Job("full-bob", 2)).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, bobs.StatusCode);
        Assert.Equal("The job queue is full (1 queued, limit max_queued_jobs), none of them this key's; try again once a queued job has started.", bobs.Status.Detail);
        var admins = await Calls.Fails(() => fresh.AsAdmin.Training.StartJobAsync(Job("full-root-2", 2)).ResponseAsync);
        Assert.Equal("The job queue is full (1 queued, limit max_queued_jobs), none of them this key's; try again once a queued job has started.", admins.Status.Detail);
        var alices = await Calls.Fails(() => fresh.AsAlice.Training.StartJobAsync(Job("full-alice-2", 2)).ResponseAsync);
        Assert.Equal("The job queue is full (1 queued, limit max_queued_jobs), 1 of them this key's; try again once a queued job has started, or stop one of this key's (StopJob).", alices.Status.Detail);

        // At her own quota too, once her queued job starts she still holds one: only ending or stopping one helps.
        fresh.Server.Options.Limits.MaxJobsPerKey = 1;
        var atQuota = await Calls.Fails(() => fresh.AsAlice.Training.StartJobAsync(Job("full-alice-2", 2)).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, atQuota.StatusCode);
        Assert.Equal("Key 'alice' has 1 running or queued job(s), its quota (limit max_jobs_per_key = 1); wait for one to end or stop one.", atQuota.Status.Detail);
        await fresh.AsAdmin.Training.StopJobAsync(new StopJobRequest { JobId = running.Id });
    }

    [Fact]
    public async Task Calls_without_a_valid_key_are_unauthenticated_but_health_answers()
    {
        var none = keyed.Anonymous;
        var e = await Calls.Fails(() => none.Catalog.ListModelsAsync(new ListModelsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.Contains("authorization: Bearer", e.Status.Detail);
        foreach (var call in new Func<Task>[]
        {
            () => none.Catalog.ListArchitecturesAsync(new ListArchitecturesRequest()).ResponseAsync,
            () => none.Catalog.GetServerInfoAsync(new GetServerInfoRequest()).ResponseAsync,
            () => none.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = "gru" }).ResponseAsync,
            () => none.Generation.Generate("s-x", 5),
            () => none.Training.StartJobAsync(Job("nokey", 5)).ResponseAsync,
            () => none.Training.WatchJob(new WatchJobRequest { JobId = "j-x" }).Events(),
        })
            Assert.Equal(StatusCode.Unauthenticated, await Code(call));

        using var wrong = keyed.Server.ChannelFor("crn_not-a-key");
        var bad = await Calls.Fails(() => new Catalog.CatalogClient(wrong).ListModelsAsync(new ListModelsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, bad.StatusCode);
        Assert.Contains("not valid", bad.Status.Detail);

        var health = await new Health.HealthClient(keyed.Anonymous.Channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Theory]
    [InlineData("Bearer {0}")]
    [InlineData("bearer {0}")] // RFC 7235: the scheme is case-insensitive
    [InlineData("BEARER   {0} ")]
    [InlineData("{0}")] // a bare key
    public async Task The_key_is_taken_after_a_bearer_scheme_in_any_case_or_bare(string header)
    {
        var metadata = new Metadata { { "authorization", string.Format(header, keyed.Alice) } };
        var info = await new Catalog.CatalogClient(keyed.Anonymous.Channel).GetServerInfoAsync(new GetServerInfoRequest(), metadata);
        Assert.NotEmpty(info.Version);
        var wrong = new Metadata { { "authorization", "Basic " + keyed.Alice } }; // another scheme is not a key
        Assert.Equal(StatusCode.Unauthenticated, await Code(() => new Catalog.CatalogClient(keyed.Anonymous.Channel).GetServerInfoAsync(new GetServerInfoRequest(), wrong).ResponseAsync));
    }

    [Fact]
    public async Task An_unusable_corpuss_reason_shows_the_servers_path_to_admins_only()
    {
        var file = Path.Combine(keyed.Server.Options.CorporaDirectory!, "blank.txt");
        File.WriteAllText(file, "");
        try
        {
            static async Task<string> Reason(KeyedServer.Api api) =>
                (await api.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora.Single(c => c.Name == "blank").Description;
            Assert.Equal("blank.txt (0 bytes); cannot be used: Corpus '<corpora>/blank.txt' is empty; a corpus needs some text to learn from.", await Reason(keyed.AsAlice));
            Assert.Equal($"blank.txt (0 bytes); cannot be used: Corpus '{file}' is empty; a corpus needs some text to learn from.", await Reason(keyed.AsAdmin));
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task Sessions_belong_to_their_key()
    {
        var session = await keyed.AsAlice.Generation.Open("gru", seed: 1);
        Assert.Equal(5, (await keyed.AsAlice.Generation.Generate(session.Id, 5)).Length);
        var bob = keyed.AsBob.Generation;
        foreach (var call in new Func<Task>[]
        {
            () => bob.Generate(session.Id, 5),
            () => bob.FeedAsync(new FeedRequest { SessionId = session.Id, Text = "t" }).ResponseAsync,
            () => bob.ForkAsync(new ForkRequest { SessionId = session.Id }).ResponseAsync,
            () => bob.ResetAsync(new ResetRequest { SessionId = session.Id }).ResponseAsync,
            () => bob.ConfigureAsync(new ConfigureRequest { SessionId = session.Id, Sampling = new SamplingSettings { Temperature = 0 } }).ResponseAsync,
            () => bob.GetSessionAsync(new GetSessionRequest { SessionId = session.Id }).ResponseAsync,
            () => bob.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id }).ResponseAsync,
        })
            Assert.Equal(StatusCode.NotFound, await Code(call));
        Assert.Equal(session.Id, (await keyed.AsAdmin.Generation.GetSessionAsync(new GetSessionRequest { SessionId = session.Id })).Id);
        await keyed.AsAlice.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
    }

    [Fact]
    public async Task An_admins_job_on_a_keys_model_is_that_keys_to_see_and_stop()
    {
        await keyed.AsAlice.Training.Train(Job("alice-tuned", 5)).Events();
        var resume = new StartJobRequest { ModelName = "alice-tuned", Resume = true, Options = new TrainingOptions { MaxSteps = 10_000_000 } };
        var admins = await keyed.AsAdmin.Training.StartJobAsync(resume);
        await UntilRunning(keyed, admins.Id); // queued, her resume would be told the job "is queued to train" it
        var alice = keyed.AsAlice.Training;
        Assert.Contains((await alice.ListJobsAsync(new ListJobsRequest())).Jobs, j => j.Id == admins.Id);
        var e = await Calls.Fails(() => alice.StartJobAsync(resume).ResponseAsync); // her own resume meanwhile says whose job holds it
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Equal($"Job {admins.Id} of key 'root' is training model 'alice-tuned'; wait for it to end, or stop it (StopJob), then resume.", e.Status.Detail);
        await alice.StopJobAsync(new StopJobRequest { JobId = admins.Id }); // hers to stop: it trains her model
        var events = await keyed.AsAdmin.Training.WatchJob(new WatchJobRequest { JobId = admins.Id }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Stopped, events[^1].EventCase);
        // Ended, it is the admin's record again, as every key keeps its own ended jobs.
        Assert.DoesNotContain((await alice.ListJobsAsync(new ListJobsRequest())).Jobs, j => j.Id == admins.Id);
    }

    [Fact]
    public async Task Jobs_and_models_belong_to_their_key_and_can_be_shared_read_only()
    {
        var job = await keyed.AsAlice.Training.StartJobAsync(Job("alice-model", 20));
        var bob = keyed.AsBob;
        // The name is in use, whether alice's job is still training it or has saved it already.
        Assert.Equal(StatusCode.AlreadyExists, await Code(() => bob.Training.StartJobAsync(Job("alice-model", 20)).ResponseAsync));
        Assert.Equal(StatusCode.AlreadyExists, await Code(() => bob.Training.CheckJobAsync(Job("alice-model", 20)).ResponseAsync));
        Assert.Equal(StatusCode.NotFound, await Code(() => bob.Training.GetJobAsync(new GetJobRequest { JobId = job.Id }).ResponseAsync));
        Assert.Equal(StatusCode.NotFound, await Code(() => bob.Training.StopJobAsync(new StopJobRequest { JobId = job.Id }).ResponseAsync));
        Assert.Equal(StatusCode.NotFound, await Code(() => bob.Training.WatchJob(new WatchJobRequest { JobId = job.Id }).Events()));
        Assert.DoesNotContain((await bob.Training.ListJobsAsync(new ListJobsRequest())).Jobs, j => j.Id == job.Id);
        Assert.Contains((await keyed.AsAdmin.Training.ListJobsAsync(new ListJobsRequest())).Jobs, j => j.Id == job.Id);
        var events = await keyed.AsAlice.Training.WatchJob(new WatchJobRequest { JobId = job.Id }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);

        // Saved, the name is taken by a model bob cannot change: he is not told to resume or delete it, nor whose it is.
        var taken = await Calls.Fails(() => bob.Training.CheckJobAsync(Job("alice-model", 20)).ResponseAsync);
        Assert.Equal((StatusCode.AlreadyExists, "The name 'alice-model' is taken by a model this key cannot change; choose another model_name."),
            (taken.StatusCode, taken.Status.Detail));
        Assert.Equal("A model named 'alice-model' exists; choose another model_name, set resume to continue it, or delete it first.",
            (await Calls.Fails(() => keyed.AsAlice.Training.CheckJobAsync(Job("alice-model", 20)).ResponseAsync)).Status.Detail);

        // Private until shared: bob cannot see the model at all.
        Assert.DoesNotContain((await bob.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "alice-model");
        Assert.Equal(StatusCode.NotFound, await Code(() => bob.Catalog.GetModelAsync(new GetModelRequest { Name = "alice-model" }).ResponseAsync));
        Assert.Equal(StatusCode.NotFound, await Code(() => bob.Generation.Open("alice-model")));
        Assert.Equal(StatusCode.NotFound, await Code(() => bob.Catalog.ShareModelAsync(new ShareModelRequest { Name = "alice-model", Shared = true }).ResponseAsync));
        // A near name is guessed only among the models the key may read: bob is not told alice's.
        Assert.Equal("No model 'alice-modle' on this server; ListModels shows the models there are.",
            (await Calls.Fails(() => bob.Generation.Open("alice-modle"))).Status.Detail);
        Assert.Equal("No model 'alice-modle' on this server; ListModels shows the models there are. Did you mean 'alice-model'?",
            (await Calls.Fails(() => keyed.AsAlice.Catalog.GetModelAsync(new GetModelRequest { Name = "alice-modle" }).ResponseAsync)).Status.Detail);
        var mine = (await keyed.AsAlice.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "alice-model");
        Assert.Equal("alice", mine.Owner);

        // Shared: bob may read and generate, not write.
        var shared = await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = "alice-model", Shared = true });
        Assert.True(shared.Shared);
        Assert.Contains((await bob.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "alice-model");
        var session = await bob.Generation.Open("alice-model");
        Assert.Equal(10, (await bob.Generation.Generate(session.Id, 10)).Length);
        // Unshared again: bob's open session lives on, but he cannot fork new ones from it.
        await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = "alice-model", Shared = false });
        var fork = await Calls.Fails(() => bob.Generation.ForkAsync(new ForkRequest { SessionId = session.Id }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, fork.StatusCode);
        Assert.Equal($"Session '{session.Id}' cannot be forked: its model 'alice-model' is no longer shared with key 'bob'. " +
                     "The session itself still works (Generate, Feed); new sessions on the model, forks included, need it shared again.", fork.Status.Detail);
        Assert.Equal(10, (await bob.Generation.Generate(session.Id, 10)).Length);
        await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = "alice-model", Shared = true });
        await bob.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
        var delete = await Calls.Fails(() => bob.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "alice-model" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, delete.StatusCode);
        Assert.Contains("belongs to key 'alice'", delete.Status.Detail);
        Assert.Equal(StatusCode.PermissionDenied,
            await Code(() => bob.Training.StartJobAsync(new StartJobRequest { ModelName = "alice-model", Resume = true, Options = new TrainingOptions { MaxSteps = 30 } }).ResponseAsync));
        Assert.Equal(StatusCode.PermissionDenied, await Code(() => bob.Catalog.ShareModelAsync(new ShareModelRequest { Name = "alice-model", Shared = false }).ResponseAsync));

        // Models made outside the server belong to nobody: everyone may use them, only admins change them.
        var deleteUnowned = await Calls.Fails(() => bob.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "gru" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, deleteUnowned.StatusCode);
        Assert.Equal("Model 'gru' was made outside the server and has no owner; only an admin key can delete it.", deleteUnowned.Status.Detail);
        var resumeUnowned = await Calls.Fails(() => bob.Training.StartJobAsync(new StartJobRequest { ModelName = "gru", Resume = true }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, resumeUnowned.StatusCode);
        Assert.Contains("made outside the server and has no owner; only an admin key can resume it", resumeUnowned.Status.Detail);
        var shareUnowned = await Calls.Fails(() => bob.Catalog.ShareModelAsync(new ShareModelRequest { Name = "gru", Shared = true }).ResponseAsync);
        Assert.Contains("made outside the server and has no owner; only an admin key can share it", shareUnowned.Status.Detail);
        // A model that does not exist is not found, whoever asks.
        Assert.Equal(StatusCode.NotFound, await Code(() => bob.Training.StartJobAsync(new StartJobRequest { ModelName = "nothing-here", Resume = true }).ResponseAsync));
        await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "alice-model" });
    }

    [Fact]
    public async Task A_share_of_a_model_made_outside_the_server_whose_write_fails_leaves_it_unowned_and_readable_by_every_key()
    {
        // An admin's share of a model with no owner wrote the admin's row, then set it shared: with the second write refused
        // (a full disk), the call failed, yet the model was the admin's and unshared, gone from every other key's listing.
        var models = keyed.Server.Options.ModelsDirectory;
        var folder = Directory.CreateDirectory(Path.Combine(models, "outside-shared")).FullName; // as charrnn train makes one
        foreach (var file in Directory.GetFiles(Path.Combine(models, "gru"))) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        using (new RefusedDatabaseWrite(models, "new.name = 'outside-shared' AND new.shared = 1", "INSERT ON models", "UPDATE ON models"))
            Assert.Equal("The server could not store what ShareModel changes: its disk is full (or over its quota, or failing). Nothing changed: the model's owner and sharing "
                         + "are as they were. Try again once the server's operator has made room.",
                (await Calls.Fails(() => keyed.AsAdmin.Catalog.ShareModelAsync(new ShareModelRequest { Name = "outside-shared", Shared = true }).ResponseAsync)).Status.Detail);
        Assert.Null(keyed.Server.Services.GetRequiredService<TrainedModels.ModelStore>().Ownership("outside-shared"));
        Assert.Contains((await keyed.AsBob.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "outside-shared");

        var shared = await keyed.AsAdmin.Catalog.ShareModelAsync(new ShareModelRequest { Name = "outside-shared", Shared = true }); // room again
        Assert.Equal(("root", true), (shared.Owner, shared.Shared));
        Assert.Contains((await keyed.AsBob.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "outside-shared");
        await keyed.AsAdmin.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "outside-shared" });
    }

    [Fact]
    public async Task Errors_show_the_servers_paths_to_admins_only()
    {
        var folder = Path.Combine(keyed.Server.Options.ModelsDirectory, "damaged");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "last.ckpt"), "not a checkpoint");
        try
        {
            var bob = await Calls.Fails(() => keyed.AsBob.Generation.Open("damaged"));
            Assert.Equal(StatusCode.FailedPrecondition, bob.StatusCode);
            Assert.Contains("<models>/damaged/last.ckpt", bob.Status.Detail);
            Assert.Contains("not a CharRnn checkpoint", bob.Status.Detail);
            Assert.DoesNotContain(keyed.Server.Root, bob.Status.Detail);

            var admin = await Calls.Fails(() => keyed.AsAdmin.Generation.Open("damaged"));
            Assert.Contains(Path.Combine(folder, "last.ckpt"), admin.Status.Detail);

            // The model list gives a damaged model's error too.
            var listed = (await keyed.AsBob.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "damaged");
            Assert.Contains("<models>/damaged/last.ckpt", listed.Error);
            Assert.DoesNotContain(keyed.Server.Root, listed.Error);
            Assert.Contains(folder, (await keyed.AsAdmin.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "damaged").Error);
        }
        finally { Directory.Delete(folder, true); }
    }

    [Fact]
    public async Task A_damaged_last_checkpoints_warning_shows_the_servers_paths_to_admins_only()
    {
        // A usable model (best.ckpt intact) whose last.ckpt cannot be read: its IO error names the file. Tests run as
        // root, who reads any file, so the unreadable one is a link to a checkpoint that is gone.
        var folder = Path.Combine(keyed.Server.Options.ModelsDirectory, "unreadable-last");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(keyed.Server.Options.ModelsDirectory, "gru", "best.ckpt"), Path.Combine(folder, "best.ckpt"));
        var last = Path.Combine(folder, "last.ckpt");
        File.CreateSymbolicLink(last, Path.Combine(folder, "moved-away.ckpt"));
        try
        {
            var admin = (await keyed.AsAdmin.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "unreadable-last");
            Assert.Equal("", admin.Error);
            Assert.StartsWith("last.ckpt cannot be loaded (it cannot be read (", admin.Warning);
            Assert.Contains(last, admin.Warning);

            var bob = (await keyed.AsBob.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "unreadable-last");
            Assert.Equal(admin.Warning.Replace(keyed.Server.Options.ModelsDirectory, "<models>", StringComparison.Ordinal), bob.Warning);
            Assert.Contains("<models>/unreadable-last/last.ckpt", bob.Warning);
            Assert.DoesNotContain(keyed.Server.Root, bob.Warning);
            Assert.DoesNotContain(keyed.Server.Root, (await keyed.AsBob.Catalog.GetModelAsync(new GetModelRequest { Name = "unreadable-last" })).Summary.Warning);
        }
        finally { Directory.Delete(folder, true); }
    }

    [Fact]
    public async Task A_job_whose_training_would_need_more_memory_than_the_server_gives_is_refused_with_the_estimate()
    {
        await WithLimits(l => l.MaxJobMemoryBytes = 1L << 30, async () =>
        {
            Assert.Equal(1L << 30, (await keyed.AsBob.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).Limits.MaxJobMemoryBytes);
            var huge = new StartJobRequest { ModelName = "too-big", Architecture = "stateful-lstm", CorpusName = "tiny" };
            huge.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 2048, ["layers"] = 4, ["bs"] = 16, ["bptt"] = 512 });
            var refused = await Calls.Fails(() => keyed.AsBob.Training.StartJobAsync(huge).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            // Each size named as the request's field, as the server's other refusals name them (the REPL reads them as bs=16, bs).
            Assert.Matches(@"^Training this model would need about \d+(\.\d)? GB \(stateful-lstm: hyperparameters\[n_hidden\] = 2048, hyperparameters\[layers\] = 4, " +
                           @"hyperparameters\[n_fac\] = \d+, hyperparameters\[bs\] = 16, hyperparameters\[bptt\] = 512, a vocabulary of \d+, 2,880 characters\); " +
                           @"this server gives a job at most 1 GB \(limit max_job_memory_bytes\)\. Use a smaller hyperparameters\[n_hidden\], hyperparameters\[n_fac\], " +
                           @"hyperparameters\[bs\] or hyperparameters\[bptt\], or fewer hyperparameters\[layers\]\.$", refused.Status.Detail);
            Assert.False(Directory.Exists(Path.Combine(keyed.Server.Options.ModelsDirectory, "too-big")));
            var events = await keyed.AsBob.Training.Train(Job("small-enough", 2)).Events(); // the lesson-sized ones still train
            Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);
            await keyed.AsBob.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "small-enough" });
        });
    }

    [Fact]
    public async Task A_key_owns_at_most_its_quota_of_models_and_may_still_resume_them()
    {
        var owned = (await keyed.AsBob.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Count(m => m.Owner == "bob");
        await WithLimits(l => l.MaxModelsPerKey = owned + 1, async () =>
        {
            await keyed.AsBob.Training.Train(Job("bob-quota-1", 2)).Events();
            var full = await Calls.Fails(() => keyed.AsBob.Training.StartJobAsync(Job("bob-quota-2", 2)).ResponseAsync);
            Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);
            Assert.Equal($"Key 'bob' owns {owned + 1} models, its quota (limit max_models_per_key = {owned + 1}); delete models it no longer needs (DeleteModel), or resume one.", full.Status.Detail);
            var resumed = await keyed.AsBob.Training.Train(new StartJobRequest { ModelName = "bob-quota-1", Resume = true, Options = new TrainingOptions { MaxSteps = 4 } }).Events();
            Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase);
            await keyed.AsAlice.Training.Train(Job("alice-not-counted", 2)).Events(); // another key's count is its own
            await keyed.AsBob.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "bob-quota-1" });
            await keyed.AsBob.Training.Train(Job("bob-quota-2", 2)).Events();
            await keyed.AsBob.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "bob-quota-2" });
            await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "alice-not-counted" });
        });
    }

    [Fact]
    public async Task Quotas_per_key_give_resource_exhausted_naming_the_limit()
    {
        var sessions = new List<Session>();
        for (int i = 0; i < 4; i++) sessions.Add(await keyed.AsDave.Generation.Open("gru"));
        var full = await Calls.Fails(() => keyed.AsDave.Generation.Open("gru"));
        Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);
        Assert.Equal("Key 'dave' holds 4 open sessions, its quota (limit max_sessions_per_key = 4); close ones it no longer uses " +
            "(ListSessions lists them, CloseSession closes one), or wait: a session idle for 86,400 s closes by itself.", full.Status.Detail);
        var other = await keyed.AsAlice.Generation.Open("gru"); // another key is not affected
        await keyed.AsAlice.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = other.Id });

        var used = 0;
        RpcException? rate = null;
        while (rate == null && used < 10_000)
        {
            try { used += (await keyed.AsDave.Generation.Generate(sessions[0].Id, 1000)).Length; }
            catch (RpcException e) { rate = e; }
        }
        Assert.Equal(StatusCode.ResourceExhausted, rate!.StatusCode);
        Assert.Contains("max_chars_per_minute_per_key", rate.Status.Detail);
        Assert.Equal(3000, used);
        foreach (var s in sessions) await keyed.AsDave.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = s.Id });

        var running = await keyed.AsDave.Training.StartJobAsync(Job("dave-long", 1_000_000));
        var second = await Calls.Fails(() => keyed.AsDave.Training.StartJobAsync(Job("dave-second", 5)).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, second.StatusCode);
        Assert.Contains("max_jobs_per_key = 1", second.Status.Detail);
        await keyed.AsDave.Training.StopJobAsync(new StopJobRequest { JobId = running.Id });
        await keyed.AsDave.Training.WatchJob(new WatchJobRequest { JobId = running.Id }).Events();
    }

    [Fact]
    public async Task ListSessions_shows_a_key_its_own_sessions_and_an_admin_everyones_with_their_owners()
    {
        var alices = await keyed.AsAlice.Generation.Open("gru", prime: "the ");
        var bobs = await keyed.AsBob.Generation.Open("gru");
        try
        {
            var seenByAlice = (await keyed.AsAlice.Generation.ListSessionsAsync(new ListSessionsRequest())).Sessions;
            Assert.Contains(seenByAlice, s => s.Id == alices.Id);
            Assert.DoesNotContain(seenByAlice, s => s.Id == bobs.Id); // another key's session is not revealed
            Assert.All(seenByAlice, s => Assert.Equal("alice", s.Owner));
            Assert.DoesNotContain((await keyed.AsBob.Generation.ListSessionsAsync(new ListSessionsRequest())).Sessions, s => s.Id == alices.Id);

            var seenByAdmin = (await keyed.AsAdmin.Generation.ListSessionsAsync(new ListSessionsRequest())).Sessions;
            var alicesListed = Assert.Single(seenByAdmin, s => s.Id == alices.Id);
            Assert.Equal("bob", Assert.Single(seenByAdmin, s => s.Id == bobs.Id).Owner);
            Assert.Equal(("alice", "gru", 4L), (alicesListed.Owner, alicesListed.ModelName, alicesListed.CharactersSeen));
            Assert.Equal(alices.Created, alicesListed.Created);
            Assert.InRange(alicesListed.LastUsed.ToDateTimeOffset(), alices.Created.ToDateTimeOffset(), DateTimeOffset.UtcNow.AddSeconds(1));
            Assert.InRange(alicesListed.IdleSecondsLeft, alicesListed.IdleTimeoutSeconds - 60, alicesListed.IdleTimeoutSeconds);
        }
        finally
        {
            await keyed.AsAlice.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = alices.Id });
            await keyed.AsBob.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = bobs.Id });
        }
        Assert.DoesNotContain((await keyed.AsAdmin.Generation.ListSessionsAsync(new ListSessionsRequest())).Sessions, s => s.Id == alices.Id || s.Id == bobs.Id);
    }

    [Fact]
    public async Task CloseSession_of_another_keys_session_is_not_found_as_if_it_did_not_exist_and_leaves_it_open()
    {
        var alices = await keyed.AsAlice.Generation.Open("gru");
        try
        {
            var e = await Calls.Fails(() => keyed.AsBob.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = alices.Id }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, e.StatusCode);
            Assert.StartsWith($"No session '{alices.Id}':", e.Status.Detail);
            Assert.Contains((await keyed.AsAlice.Generation.ListSessionsAsync(new ListSessionsRequest())).Sessions, s => s.Id == alices.Id);
        }
        finally { await keyed.AsAlice.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = alices.Id }); }
    }
}
