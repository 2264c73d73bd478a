using CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A team server's models folder and keys written by older builds (Fixtures/OlderBuildServer, see its README): after an
/// upgrade its jobs, owners, corpora, models and job histories are all still there, its models generate and its jobs' models resume.
/// </summary>
public class OlderBuildServerTests
{
    // The older builds' keys for their fixtures (printed once; both folders have the same keys.json): test keys, good for nothing else.
    private const string AliceKey = "crn_b42Y1L69mv-NqmsOivH4auyMWOBy4g0FQ_uzng_HYLQ";
    private const string RootKey = "crn_0zLDGrFdz9GlwHruw1RHnKNQHq9hYApfXj3sEPHAUwc";

    private static string Fixture(string build) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "OlderBuildServer", build);

    /// <summary>A server on a copy of the fixture's folders (a start migrates its database: the fixture itself is never written).</summary>
    private static ServerFixture ServerOn(string build) => new(o =>
    {
        CopyFolder(Path.Combine(Fixture(build), "models"), o.ModelsDirectory);
        CopyFolder(Path.Combine(Fixture(build), "corpora"), o.CorporaDirectory!);
        o.KeysFile = Path.Combine(Path.GetDirectoryName(o.ModelsDirectory)!, "keys.json");
        File.Copy(Path.Combine(Fixture(build), "keys.json"), o.KeysFile);
    });

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [Fact]
    public async Task A_folder_from_before_job_history_keeps_its_jobs_owners_and_models_which_generate_and_resume()
    {
        using var server = ServerOn("2026-12-02");
        var alice = new KeyedServer.Api(server.ChannelFor(AliceKey));
        var root = new KeyedServer.Api(server.ChannelFor(RootKey));

        var jobs = (await alice.Training.ListJobsAsync(new ListJobsRequest())).Jobs.ToDictionary(j => j.Id);
        Assert.Equal(["j-7dc6b1a2038b", "j-8d33d9f78148"], jobs.Keys.Order()); // not root's j-867067e1b599
        Assert.Equal((Job.Types.State.Stopped, "s1", 1377L, "stopped by key 'root'"),
            (jobs["j-7dc6b1a2038b"].State, jobs["j-7dc6b1a2038b"].ModelName, jobs["j-7dc6b1a2038b"].Step, jobs["j-7dc6b1a2038b"].Reason));
        Assert.Equal((Job.Types.State.Finished, "g1", 4L), (jobs["j-8d33d9f78148"].State, jobs["j-8d33d9f78148"].ModelName, jobs["j-8d33d9f78148"].Step));
        Assert.Equal(3, (await root.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Count);

        var models = (await root.Catalog.ListModelsAsync(new ListModelsRequest())).Models.ToDictionary(m => m.Name);
        Assert.Equal(("alice", "stateful-gru", "fable"), (models["g1"].Owner, models["g1"].Architecture, models["g1"].CorpusName));
        Assert.Equal(("root", "stateful-lstm"), (models["l1"].Owner, models["l1"].Architecture));
        Assert.Equal(("alice", "char3", 13), (models["s1"].Owner, models["s1"].Architecture, models["s1"].EpochsTrained));
        Assert.DoesNotContain("l1", (await alice.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Select(m => m.Name));
        Assert.Contains("fable", (await alice.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora.Select(c => c.Name));

        // This build's text for seed 1 (the older build's differed where it drew the padding symbol, masked since).
        var session = await alice.Generation.Open("g1", seed: 1, temperature: 0.8, prime: "the ");
        Assert.Equal("hntgfoshareifge,lrls  g,c gm tihefahgnrl", await alice.Generation.Generate(session.Id, 40));

        var resumed = await alice.Training.Train(new StartJobRequest { ModelName = "s1", Resume = true, Options = new TrainingOptions { MaxSteps = 1380 } }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase);
        Assert.Equal(1380, (await alice.Training.GetJobAsync(new GetJobRequest { JobId = resumed[0].JobId })).Step);
    }

    [Fact]
    public async Task A_job_history_stored_before_corpus_code_points_replays_and_its_model_resumes()
    {
        using var server = ServerOn("2026-12-05");
        var alice = new KeyedServer.Api(server.ChannelFor(AliceKey));
        var history = await alice.Training.WatchJob(new WatchJobRequest { JobId = "j-dbeabaea7a63" }).Events();
        var started = history.Single(e => e.EventCase == JobEvent.EventOneofCase.Started).Started;
        Assert.Equal((393L, 0L, 243L), (started.CorpusCharacters, started.CorpusCodePoints, started.ParameterCount)); // 0: not stored then, as the proto says
        Assert.Equal(JobEvent.EventOneofCase.Finished, history[^1].EventCase);

        var resumed = await alice.Training.Train(new StartJobRequest { ModelName = "g1", Resume = true, Options = new TrainingOptions { MaxSteps = 6 } }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase);
        Assert.Equal(393, resumed.Single(e => e.EventCase == JobEvent.EventOneofCase.Started).Started.CorpusCodePoints); // this build's jobs store it
    }

    /// <summary>The usual upgrade: the older server stopped (SIGTERM) while a job trained and another waited.</summary>
    [Fact]
    public async Task Jobs_running_and_queued_when_an_older_server_stopped_carry_on()
    {
        using var server = ServerOn("2026-12-02-shut-down-while-training");
        var alice = new KeyedServer.Api(server.ChannelFor(AliceKey));
        var jobs = (await alice.Training.ListJobsAsync(new ListJobsRequest())).Jobs.ToDictionary(j => j.ModelName);
        Assert.Contains(jobs["r1"].State, new[] { Job.Types.State.Running, Job.Types.State.Queued }); // recovered, from its checkpoint
        Assert.Equal(Job.Types.State.Queued, jobs["q1"].State);

        await alice.Training.StopJobAsync(new StopJobRequest { JobId = jobs["r1"].Id }); // it asked for 10,000 epochs
        var queued = await alice.Training.WatchJob(new WatchJobRequest { JobId = jobs["q1"].Id }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, queued[^1].EventCase);
        var r1 = await alice.Training.GetJobAsync(new GetJobRequest { JobId = jobs["r1"].Id });
        Assert.Equal(Job.Types.State.Stopped, r1.State);
        Assert.True(r1.Step >= 1923, $"r1 went back to step {r1.Step}, before its checkpoint's 1923");
        var models = (await alice.Catalog.ListModelsAsync(new ListModelsRequest())).Models.ToDictionary(m => m.Name);
        Assert.Equal(("alice", "alice"), (models["r1"].Owner, models["q1"].Owner));
    }

    /// <summary>The older build kept a job's uploaded corpus_text in the model's folder (corpus.txt, corpus name "upload").</summary>
    [Fact]
    public async Task A_model_trained_on_an_upload_by_an_older_build_is_listed_and_resumes_on_its_upload()
    {
        using var server = ServerOn("2026-12-02-uploaded-corpus");
        var alice = new KeyedServer.Api(server.ChannelFor(AliceKey));
        var u1 = (await alice.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "u1");
        Assert.Equal(("alice", "upload", 4L), (u1.Owner, u1.CorpusName, u1.StepsTrained));

        var resumed = await alice.Training.Train(new StartJobRequest { ModelName = "u1", Resume = true, Options = new TrainingOptions { MaxSteps = 6 } }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase);
        Assert.Equal(393, resumed.Single(e => e.EventCase == JobEvent.EventOneofCase.Started).Started.CorpusCharacters);
        Assert.Equal(6, (await alice.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "u1").StepsTrained);
    }
}
