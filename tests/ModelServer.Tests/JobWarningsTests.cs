using CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// Job.warnings: settings that train but likely not as meant, worked out by the server from the job's resolved options
/// (a resume's stored ones as changed), in StartJob's and CheckJob's answers and in GetJob and ListJobs while the job is kept.
/// </summary>
[Collection(ServerCollection.Name)]
public class JobWarningsTests(ServerFixture server)
{
    private Training.TrainingClient Client => server.Training;

    private static StartJobRequest Request(string name, Action<TrainingOptions>? set = null)
    {
        var request = new StartJobRequest
        {
            ModelName = name, Architecture = "stateful-gru", CorpusName = "tiny",
            Options = new TrainingOptions { Epochs = 1, MaxSteps = 1, SampleChars = 0 },
            Hyperparameters = { ["n_hidden"] = 8, ["n_fac"] = 4, ["bs"] = 4, ["bptt"] = 4 },
        };
        set?.Invoke(request.Options);
        return request;
    }

    /// <summary>Starts the job, waits for its end, and gives StartJob's answer with GetJob's and ListJobs' of the ended job.</summary>
    private async Task<(Job Started, Job Got, Job Listed)> Run(StartJobRequest request)
    {
        var started = await Client.StartJobAsync(request);
        await Client.WatchJob(new WatchJobRequest { JobId = started.Id }).Events();
        var got = await Client.GetJobAsync(new GetJobRequest { JobId = started.Id });
        var listed = (await Client.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.Id == started.Id);
        return (started, got, listed);
    }

    private static void AssertEachSays(string warning, (Job Started, Job Got, Job Listed) jobs)
    {
        Assert.Equal(warning, Assert.Single(jobs.Started.Warnings));
        Assert.Equal(warning, Assert.Single(jobs.Got.Warnings));
        Assert.Equal(warning, Assert.Single(jobs.Listed.Warnings));
    }

    [Fact]
    public async Task Epochs_that_stop_an_sgdr_cycle_midway_are_warned_in_the_requests_words()
    {
        var request = Request("warn-mid-cycle", o => (o.Epochs, o.Schedule) = (10, "sgdr:cycle_len=1,cycle_mult=2"));
        const string warning = "cycles end after epochs 1, 3, 7, 15; epochs = 10 stops mid-cycle, the rate still at 69% of its peak (epochs = 7 or 15 ends at a cycle's end).";
        Assert.Equal(warning, Assert.Single((await Client.CheckJobAsync(request)).Warnings)); // the dry run says it too
        AssertEachSays(warning, await Run(request));
    }

    [Fact]
    public async Task A_streamed_jobs_queued_and_started_events_carry_its_warnings()
    {
        var request = Request("warn-stream", o => (o.Epochs, o.Schedule) = (10, "sgdr:cycle_len=1,cycle_mult=2"));
        const string warning = "cycles end after epochs 1, 3, 7, 15; epochs = 10 stops mid-cycle, the rate still at 69% of its peak (epochs = 7 or 15 ends at a cycle's end).";
        var trained = await Client.Train(request).Events(); // no GetJob needed
        var watched = await Client.WatchJob(new WatchJobRequest { JobId = trained[0].JobId }).Events(); // replayed, the same
        foreach (var events in new[] { trained, watched })
        {
            Assert.Equal(warning, Assert.Single(events.Single(e => e.EventCase == JobEvent.EventOneofCase.Queued).Queued.Warnings));
            Assert.Equal(warning, Assert.Single(events.Single(e => e.EventCase == JobEvent.EventOneofCase.Started).Started.Warnings));
        }
        var quiet = await Client.Train(Request("warn-stream-none")).Events();
        Assert.All(quiet.Where(e => e.EventCase is JobEvent.EventOneofCase.Queued or JobEvent.EventOneofCase.Started),
            e => Assert.Empty(e.EventCase == JobEvent.EventOneofCase.Queued ? e.Queued.Warnings : e.Started.Warnings));
    }

    [Fact]
    public async Task Each_warning_comes_in_parts_that_name_its_settings_for_a_client_to_spell()
    {
        var request = Request("warn-parts", o => (o.Epochs, o.Schedule) = (10, "sgdr:cycle_len=1,cycle_mult=2"));
        var checkedJob = await Client.CheckJobAsync(request); // before the model exists
        var (started, got, listed) = await Run(request);
        foreach (var job in new[] { checkedJob, started, got, listed })
        {
            var parts = Assert.Single(job.WarningParts).Parts;
            Assert.Equal([("", "epochs", "10"), ("", "epochs", "7 or 15")],
                parts.Where(p => p.Setting != "").Select(p => (p.Text, p.Setting, string.Join("|", p.Values))));
            // Joined, the settings written as the request's fields: the sentence Job.warnings has.
            Assert.Equal(job.Warnings[0], string.Concat(parts.Select(p => p.Setting == "" ? p.Text : $"{p.Setting} = {string.Join(", ", p.Values)}")));
        }
        var rate = Assert.Single((await Client.CheckJobAsync(Request("warn-parts-rate", o => o.LearningRate.Add(0)))).WarningParts).Parts;
        Assert.Equal(["0", "0|1e-3|1e-3"], rate.Where(p => p.Setting == "learning_rate").Select(p => string.Join("|", p.Values)));
    }

    [Fact]
    public async Task A_patience_shorter_than_a_cycle_after_a_restart_is_warned()
    {
        var (started, _, _) = await Run(Request("warn-patience", o => (o.Epochs, o.Schedule, o.Patience) = (7, "sgdr:cycle_len=1,cycle_mult=2", 2)));
        Assert.StartsWith("patience = 2 is shorter than the SGDR cycle of epochs 4 to 7 (4 epochs): ", Assert.Single(started.Warnings));
    }

    [Fact]
    public async Task A_learning_rate_of_0_is_warned_and_so_is_a_resume_at_a_stored_rate_of_0()
    {
        AssertEachSays("learning_rate = 0: no weight will change, every layer group's rate being 0 (0 freezes a group, as learning_rate = [0, 1e-3, 1e-3] does the embedding); " +
                       "give a rate above 0 to train.", await Run(Request("warn-zero-rate", o => o.LearningRate.Add([0, 0, 0]))));

        // No learning_rate on the resume: the model's stored 0, named as the model's.
        var resume = new StartJobRequest { ModelName = "warn-zero-rate", Resume = true, Options = new TrainingOptions { MaxSteps = 2 } };
        AssertEachSays("the model's stored learning rate is 0: no weight will change, every layer group's rate being 0; " +
                       "give a rate above 0 on the resume (learning_rate = 1e-3, or one per group as learning_rate = [0, 1e-3, 1e-3]) to train.", await Run(resume));

        resume.Options = new TrainingOptions { MaxSteps = 3, LearningRate = { 1e-3 } };
        Assert.Empty((await Run(resume)).Started.Warnings);
    }

    [Fact]
    public async Task A_plain_job_or_one_frozen_group_has_no_warning()
    {
        var (started, got, listed) = await Run(Request("warn-none"));
        Assert.Empty(started.Warnings);
        Assert.Empty(got.Warnings);
        Assert.Empty(listed.Warnings);
        Assert.Empty((await Run(Request("warn-frozen", o => o.LearningRate.Add([0, 1e-3, 1e-3])))).Started.Warnings);
    }
}
