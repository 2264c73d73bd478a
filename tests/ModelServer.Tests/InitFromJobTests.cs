using CharRnn.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

/// <summary>StartJobRequest.init_from: a new model from the weights of a model the key can read.</summary>
public class InitFromJobTests(KeyedServer keyed) : IClassFixture<KeyedServer>
{
    /// <summary>Tiny's characters in another order: a text the source's vocabulary encodes.</summary>
    private static readonly string Second = ServerFixture.TinyText.Replace("cat", "mat", StringComparison.Ordinal);

    private static StartJobRequest Trained(string name) => new()
    {
        ModelName = name, Architecture = "stateful-gru", CorpusName = "tiny",
        Options = new Protos.V1.TrainingOptions { MaxSteps = 3, Epochs = 1, SampleChars = 0 },
        Hyperparameters = { ["n_hidden"] = 16, ["bs"] = 8 },
    };

    private static StartJobRequest FineTune(string name, string source, string text) => new()
    {
        ModelName = name, InitFrom = source, CorpusText = text,
        Options = new Protos.V1.TrainingOptions { MaxSteps = 2, Epochs = 1, SampleChars = 0 },
    };

    [Fact]
    public void A_refusal_for_the_model_a_job_starts_from_names_the_jobs_state_as_GetJob_reports_it()
    {
        // A job the device thread has taken from the queue but not started yet is QUEUED to GetJob and StopJob: the refusal says so too.
        var job = new Jobs.TrainingJob("j-0123456789ab", "bob", "tuned", DateTimeOffset.UtcNow) { State = Jobs.JobState.Queued };
        Assert.Equal("Model 'src' is the model job j-0123456789ab (model 'tuned', queued) starts from (init_from); wait for it to end or stop it (StopJob), then rename the model.",
            Jobs.JobQueue.StartedFromRefusal("src", job, new Security.Caller("bob", Admin: false), "rename").Message);
        Assert.Equal("Model 'src' is the model another key's job (queued) starts from (init_from); wait for it to end, then delete the model.",
            Jobs.JobQueue.StartedFromRefusal("src", job, new Security.Caller("alice", Admin: false), "delete").Message);
        job.State = Jobs.JobState.Running;
        Assert.Contains("(running)", Jobs.JobQueue.StartedFromRefusal("src", job, new Security.Caller("alice", Admin: false), "delete").Message);
        foreach (var state in Enum.GetValues<Jobs.JobState>()) // the word is the state GetJob reports, whatever it is
        {
            job.State = state;
            Assert.Equal(Services.ProtoMapper.ToProto(state).ToString().ToLowerInvariant(), job.ReportedState);
        }
    }

    private static async Task<RpcException> Refused(StatusCode code, Func<Task> call)
    {
        var e = await Calls.Fails(call);
        Assert.Equal(code, e.StatusCode);
        return e;
    }

    private static void AssertNamesField(string field, string messageStart, RpcException e)
    {
        Assert.StartsWith(messageStart, e.Status.Detail);
        Assert.Equal(field, Assert.Single(e.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations).Field);
    }

    [Fact]
    public async Task A_shared_model_of_another_key_is_a_source_and_the_new_model_says_where_it_started()
    {
        await keyed.AsAlice.Training.Train(Trained("if-shared")).Events();
        await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = "if-shared", Shared = true });
        var source = await keyed.AsBob.Catalog.GetModelAsync(new GetModelRequest { Name = "if-shared" });

        var checkedJob = await keyed.AsBob.Training.CheckJobAsync(FineTune("if-tuned", "if-shared", Second));
        Assert.Equal("stateful-gru", checkedJob.Architecture);
        Assert.Equal("if-shared", checkedJob.InitFrom);
        var events = await keyed.AsBob.Training.Train(FineTune("if-tuned", "if-shared", Second)).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);
        Assert.Equal("if-shared", events.Single(e => e.EventCase == JobEvent.EventOneofCase.Started).Started.InitFrom); // its start says where from
        var listed = (await keyed.AsBob.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.ModelName == "if-tuned");
        Assert.Equal("if-shared", listed.InitFrom);
        Assert.All((await keyed.AsAlice.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Where(j => j.ModelName == "if-shared"), j => Assert.Equal("", j.InitFrom));

        var tuned = await keyed.AsBob.Catalog.GetModelAsync(new GetModelRequest { Name = "if-tuned" });
        Assert.Equal("bob", tuned.Summary.Owner);
        Assert.Equal(source.Hyperparameters, tuned.Hyperparameters); // n_hidden 16: the source's, not the default
        Assert.Equal(source.Vocabulary, tuned.Vocabulary);
        Assert.Equal(2, tuned.Summary.StepsTrained); // its own steps from 0, not the source's 3 and 2 more
        Assert.Equal("upload", tuned.Summary.CorpusName);
        Assert.Equal("if-shared", tuned.InitFrom.Model);
        Assert.Equal(source.Checkpoint, tuned.InitFrom.Checkpoint);
        Assert.Equal(source.Summary.EpochsTrained, tuned.InitFrom.Epoch);
        Assert.False((await keyed.AsBob.Catalog.GetModelAsync(new GetModelRequest { Name = "if-shared" })).InitFrom != null); // the source is unchanged
    }

    [Fact]
    public async Task Another_keys_private_model_is_not_found_and_what_differs_from_the_source_is_refused()
    {
        await keyed.AsAlice.Training.Train(Trained("if-private")).Events();

        var hidden = await Refused(StatusCode.NotFound, () => keyed.AsBob.Training.CheckJobAsync(FineTune("if-bobs", "if-private", Second)).ResponseAsync);
        Assert.StartsWith("No model 'if-private' on this server", hidden.Status.Detail);
        await Refused(StatusCode.NotFound, () => keyed.AsBob.Training.StartJobAsync(FineTune("if-bobs", "if-private", Second)).ResponseAsync);

        var both = FineTune("if-private", "if-private", Second);
        both.Resume = true;
        var exclusive = await Refused(StatusCode.InvalidArgument, () => keyed.AsAlice.Training.StartJobAsync(both).ResponseAsync);
        Assert.StartsWith("init_from and resume are exclusive", exclusive.Status.Detail);

        var lstm = FineTune("if-lstm", "if-private", Second);
        lstm.Architecture = "stateful-lstm";
        Assert.StartsWith("architecture 'stateful-lstm' differs from 'if-private''s, 'stateful-gru'",
            (await Refused(StatusCode.InvalidArgument, () => keyed.AsAlice.Training.StartJobAsync(lstm).ResponseAsync)).Status.Detail);
        // Each refusal names the request's field as the proto spells it, in the message and in BadRequest (docs/errors.md).
        var wider = FineTune("if-wider", "if-private", Second);
        wider.Hyperparameters["n_hidden"] = 32;
        AssertNamesField("hyperparameters[n_hidden]", "hyperparameters[n_hidden] = 32 differs from 'if-private''s (16)",
            await Refused(StatusCode.InvalidArgument, () => keyed.AsAlice.Training.StartJobAsync(wider).ResponseAsync));
        var cased = FineTune("if-cased", "if-private", Second);
        cased.Options.Lowercase = true;
        AssertNamesField("options.lowercase", "options.lowercase = true differs from 'if-private''s vocabulary, which is not lowercased",
            await Refused(StatusCode.InvalidArgument, () => keyed.AsAlice.Training.CheckJobAsync(cased).ResponseAsync));
        var rarer = FineTune("if-rarer", "if-private", Second);
        rarer.Options.MinFreq = 3;
        AssertNamesField("options.min_freq", "options.min_freq = 3 differs from 'if-private''s (1)",
            await Refused(StatusCode.InvalidArgument, () => keyed.AsAlice.Training.CheckJobAsync(rarer).ResponseAsync));
        Assert.StartsWith("Corpus 'upload' has 1 character(s) that 'if-private''s vocabulary does not know: 'Z' (U+005A).",
            (await Refused(StatusCode.InvalidArgument, () => keyed.AsAlice.Training.StartJobAsync(FineTune("if-zed", "if-private", Second + "Z")).ResponseAsync)).Status.Detail);
        Assert.False(Directory.Exists(Path.Combine(keyed.Server.Options.ModelsDirectory, "if-zed")));
        // Too short for the source's bs, which init_from takes: the refusal names what the request can change, not bs.
        Assert.StartsWith("The corpus has 26 characters: 21 for training and 5 for validation. Cut into hyperparameters[bs] = 8 streams, training needs at least 16 characters " +
                             "and validation 9 (its streams share a char at each cut). hyperparameters[bs] comes from 'if-private', the model this one starts from: " +
                             "use a longer corpus, or options.valid_fraction from 0.33 to 0.4.",
            (await Refused(StatusCode.InvalidArgument, () => keyed.AsAlice.Training.CheckJobAsync(FineTune("if-short", "if-private", Second[..26])).ResponseAsync)).Status.Detail);
    }
    [Fact]
    public async Task A_model_a_queued_or_running_job_starts_from_is_not_deleted_until_the_job_ends()
    {
        await keyed.AsAlice.Training.Train(Trained("if-held")).Events();
        await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = "if-held", Shared = true });
        // Long enough that only StopJob ends it: max_steps alone is not, as epochs = 1 ends the fine-tune after one pass over
        // its text (35 steps), and on a loaded host that end once came before the delete below, which then went through.
        var long_ = FineTune("if-held-tuned", "if-held", Second);
        long_.Options.MaxSteps = 1_000_000;
        long_.Options.Epochs = 10_000;
        var job = await keyed.AsBob.Training.StartJobAsync(long_);

        // Its owner (and an admin) may delete it otherwise: the job, queued or running, would start from a checkpoint no longer there.
        var held = await Refused(StatusCode.FailedPrecondition, () => keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "if-held" }).ResponseAsync);
        Assert.Matches("^Model 'if-held' is the model another key's job \\((running|queued)\\) starts from \\(init_from\\); wait for it to end, then delete the model\\.$", held.Status.Detail);
        var byAdmin = await Refused(StatusCode.FailedPrecondition, () => keyed.AsAdmin.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "if-held" }).ResponseAsync);
        Assert.Matches($"^Model 'if-held' is the model job {job.Id} \\(model 'if-held-tuned', (running|queued)\\) starts from \\(init_from\\); wait for it to end or stop it \\(StopJob\\), then delete the model\\.$", byAdmin.Status.Detail);
        Assert.True(File.Exists(Path.Combine(keyed.Server.Options.ModelsDirectory, "if-held", "best.ckpt")));

        await keyed.AsBob.Training.StopJobAsync(new StopJobRequest { JobId = job.Id });
        await keyed.AsBob.Training.WatchJob(new WatchJobRequest { JobId = job.Id }).Events(); // to its end
        await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "if-held" });
        Assert.False(Directory.Exists(Path.Combine(keyed.Server.Options.ModelsDirectory, "if-held")));
    }
    [Fact]
    public async Task A_queued_fine_tune_whose_source_was_removed_or_damaged_outside_the_server_fails_saying_so()
    {
        await keyed.AsAlice.Training.Train(Trained("if-removed")).Events();
        await keyed.AsAlice.Training.Train(Trained("if-damaged")).Events();
        var folder = (string name) => Path.Combine(keyed.Server.Options.ModelsDirectory, name);

        // An operator's rm -r while the job waits in the queue: DeleteModel is refused then, the shell is not.
        var removed = await FailedInQueue("if-removed", () => Directory.Delete(folder("if-removed"), recursive: true));
        Assert.Equal("The model this job starts from (init_from), 'if-removed', is gone: its folder was removed after the job was queued. " +
                     "Start the job again from another model.", removed);

        var damaged = await FailedInQueue("if-damaged", () =>
        {
            foreach (var file in Directory.GetFiles(folder("if-damaged"), "*.ckpt"))
            {
                var bytes = File.ReadAllBytes(file);
                bytes[bytes.Length / 2] ^= 0xFF;
                File.WriteAllBytes(file, bytes);
            }
        });
        Assert.StartsWith("The model this job starts from (init_from), 'if-damaged', cannot be read: its checkpoint file '", damaged);
        Assert.EndsWith(" is damaged (it is damaged or truncated (checksum mismatch)). Restore the file or train the model again, " +
                        "then start the job again, or start it from another model.", damaged);
        Assert.False(Directory.Exists(folder("if-removed-tuned"))); // nothing saved: the new models' names are free again
        Assert.False(Directory.Exists(folder("if-damaged-tuned")));
    }

    /// <summary>Queues a fine-tune from <paramref name="source"/> while the device is held, does <paramref name="meanwhile"/>, lets it start: its failure.</summary>
    private async Task<string> FailedInQueue(string source, Action meanwhile)
    {
        var worker = keyed.Server.Services.GetRequiredService<DeviceLoop.DeviceWorker>();
        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        var held = worker.Run(() => { entered.Set(); return release.Wait(TimeSpan.FromSeconds(30)); }); // the job stays queued meanwhile
        Job job;
        try
        {
            Assert.True(entered.Wait(TimeSpan.FromSeconds(30)));
            job = await keyed.AsAlice.Training.StartJobAsync(FineTune(source + "-tuned", source, Second));
            Assert.Equal(Job.Types.State.Queued, job.State);
            meanwhile();
        }
        finally
        {
            release.Set();
            await held;
        }
        var events = await keyed.AsAlice.Training.WatchJob(new WatchJobRequest { JobId = job.Id }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Failed, events[^1].EventCase);
        return events[^1].Failed.Reason;
    }
}
