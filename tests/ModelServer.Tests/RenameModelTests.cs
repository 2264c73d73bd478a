using CharRnn.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

/// <summary>RenameModel: a model under a new name, its owner and sharing kept, guarded as DeleteModel is.</summary>
public class RenameModelTests(KeyedServer keyed) : IClassFixture<KeyedServer>
{
    private string Models => keyed.Server.Options.ModelsDirectory;

    private static StartJobRequest Trained(string name) => new()
    {
        ModelName = name, Architecture = "stateful-gru", CorpusName = "tiny",
        Options = new Protos.V1.TrainingOptions { MaxSteps = 3, Epochs = 1, SampleChars = 0 },
        Hyperparameters = { ["n_hidden"] = 8, ["bs"] = 4 },
    };

    private static RenameModelRequest Rename(string name, string newName) => new() { Name = name, NewName = newName };

    private static async Task<RpcException> Refused(StatusCode code, Func<Task> call)
    {
        var e = await Calls.Fails(call);
        Assert.True(code == e.StatusCode, $"{e.StatusCode}: {e.Status.Detail}");
        return e;
    }

    [Fact]
    public async Task A_renamed_model_lists_generates_and_resumes_under_its_new_name_only_with_its_owner_and_sharing()
    {
        var jobId = (await keyed.AsAlice.Training.Train(Trained("rn-old")).Events())[0].JobId;
        await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = "rn-old", Shared = true });
        var session = await keyed.AsBob.Generation.Open("rn-old", seed: 3);

        var renamed = await keyed.AsAlice.Catalog.RenameModelAsync(Rename("rn-old", "rn-new"));
        Assert.Equal(("rn-new", "alice", true), (renamed.Name, renamed.Owner, renamed.Shared));
        Assert.False(Directory.Exists(Path.Combine(Models, "rn-old")));
        Assert.True(File.Exists(Path.Combine(Models, "rn-new", "best.ckpt")));
        Assert.Empty(Directory.GetFiles(Models, ".renaming-*")); // its note is gone once done
        Assert.Single(keyed.Server.Log.With("Model rn-old renamed to rn-new by alice; sessions open on it keep working"));
        // The ended job that trained it names it as it is now.
        Assert.Equal("rn-new", (await keyed.AsAlice.Training.GetJobAsync(new GetJobRequest { JobId = jobId })).ModelName);
        Assert.Equal("rn-new", (await keyed.AsAlice.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.Id == jobId).ModelName);

        foreach (var api in new[] { keyed.AsAlice, keyed.AsBob }) // bob's too: the share went with it
        {
            var listed = (await api.Catalog.ListModelsAsync(new ListModelsRequest())).Models;
            Assert.Contains(listed, m => m is { Name: "rn-new", Owner: "alice", Shared: true });
            Assert.DoesNotContain(listed, m => m.Name == "rn-old");
        }
        Assert.StartsWith("No model 'rn-old' on this server",
            (await Refused(StatusCode.NotFound, () => keyed.AsAlice.Catalog.GetModelAsync(new GetModelRequest { Name = "rn-old" }).ResponseAsync)).Status.Detail);
        await Refused(StatusCode.NotFound, () => keyed.AsAlice.Catalog.RenameModelAsync(Rename("rn-old", "rn-other")).ResponseAsync);

        // The open session goes on, on the weights it loaded; a new one opens under the new name.
        Assert.Equal(10, (await keyed.AsBob.Generation.Generate(session.Id, 10)).Length);
        Assert.Equal($"Session '{session.Id}' cannot be forked: its model 'rn-old' was renamed to 'rn-new' (RenameModel) after the session opened. " +
                     "The session itself still works (Generate, Feed); open a new session on 'rn-new' (OpenSession) to fork from.",
            (await Refused(StatusCode.NotFound, () => keyed.AsBob.Generation.ForkAsync(new ForkRequest { SessionId = session.Id }).ResponseAsync)).Status.Detail);
        var fresh = await keyed.AsBob.Generation.Open("rn-new", seed: 3);
        Assert.Equal(10, (await keyed.AsBob.Generation.Generate(fresh.Id, 10)).Length);
        foreach (var id in new[] { session.Id, fresh.Id })
            await keyed.AsBob.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = id });

        // Still alice's alone to change; and it resumes under its new name.
        Assert.Equal("Model 'rn-new' belongs to key 'alice'; only its owner or an admin can rename it.",
            (await Refused(StatusCode.PermissionDenied, () => keyed.AsBob.Catalog.RenameModelAsync(Rename("rn-new", "rn-bobs")).ResponseAsync)).Status.Detail);
        var resumed = await keyed.AsAlice.Training.Train(new StartJobRequest { ModelName = "rn-new", Resume = true, Options = new Protos.V1.TrainingOptions { MaxSteps = 5, SampleChars = 0 } }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase);
        Assert.False(Directory.Exists(Path.Combine(Models, "rn-old"))); // not made again by the resume
        await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "rn-new" });
    }

    [Fact]
    public async Task A_session_on_a_model_renamed_twice_and_then_deleted_is_told_where_its_model_went_each_time()
    {
        await keyed.AsAlice.Training.Train(Trained("rc-a")).Events();
        var session = await keyed.AsAlice.Generation.Open("rc-a", seed: 3);
        Task<string> Forked() => Refused(StatusCode.NotFound, () => keyed.AsAlice.Generation.ForkAsync(new ForkRequest { SessionId = session.Id }).ResponseAsync)
            .ContinueWith(t => t.Result.Status.Detail);

        await keyed.AsAlice.Catalog.RenameModelAsync(Rename("rc-a", "rc-b"));
        await keyed.AsAlice.Catalog.RenameModelAsync(Rename("rc-b", "rc-c"));
        Assert.Contains("its model 'rc-a' was renamed to 'rc-c' (RenameModel) after the session opened", await Forked());
        await keyed.AsAlice.Catalog.RenameModelAsync(Rename("rc-c", "rc-a"));
        Assert.Contains("its model 'rc-a' was renamed and renamed back (RenameModel) after the session opened. " +
                        "The session itself still works (Generate, Feed); open a new session on 'rc-a' (OpenSession) to fork from.", await Forked());
        await keyed.AsAlice.Catalog.RenameModelAsync(Rename("rc-a", "rc-c"));

        await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "rc-c" });
        Assert.Equal($"Session '{session.Id}' cannot be forked: its model 'rc-a' no longer exists (it was deleted). " +
                     "The session itself still works (Generate, Feed); new sessions on the model, forks included, need the model.", await Forked());
        Assert.Equal(5, (await keyed.AsAlice.Generation.Generate(session.Id, 5)).Length);
        await keyed.AsAlice.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
    }

    [Fact]
    public async Task A_rename_leaves_the_ended_jobs_of_a_deleted_model_of_the_same_name_naming_that_one()
    {
        // The first job trained a model deleted since; the second the model of that name now, which is renamed.
        var before = (await keyed.AsAlice.Training.Train(Trained("rn-again")).Events())[0].JobId;
        await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "rn-again" });
        var now = (await keyed.AsAlice.Training.Train(Trained("rn-again")).Events())[0].JobId;

        await keyed.AsAlice.Catalog.RenameModelAsync(Rename("rn-again", "rn-again-renamed"));

        var listed = (await keyed.AsAlice.Training.ListJobsAsync(new ListJobsRequest())).Jobs;
        Assert.Equal("rn-again-renamed", listed.Single(j => j.Id == now).ModelName);
        Assert.Equal("rn-again", listed.Single(j => j.Id == before).ModelName); // it never trained the renamed model
        Assert.Equal("rn-again", (await keyed.AsAlice.Training.GetJobAsync(new GetJobRequest { JobId = before })).ModelName);
        // Their stored rows, which the next start lists, say the same.
        var stored = keyed.Server.Services.GetRequiredService<Persistence.ServerDatabase>().EndedJobs(10_000);
        Assert.Equal(("rn-again", "rn-again-renamed"), (stored.Single(j => j.Id == before).ModelName, stored.Single(j => j.Id == now).ModelName));
        await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "rn-again-renamed" });
    }

    [Fact]
    public async Task A_model_renamed_to_a_deleted_models_name_and_on_takes_only_its_own_jobs_with_it()
    {
        // The deleted model's job ended after the renamed model's row was made: only which model each job trained tells them apart.
        var mine = (await keyed.AsAlice.Training.Train(Trained("rn-first")).Events())[0].JobId;
        var gone = (await keyed.AsAlice.Training.Train(Trained("rn-taken")).Events())[0].JobId;
        await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "rn-taken" });
        await keyed.AsAlice.Catalog.RenameModelAsync(Rename("rn-first", "rn-taken"));
        await keyed.AsAlice.Catalog.RenameModelAsync(Rename("rn-taken", "rn-last"));

        var listed = (await keyed.AsAlice.Training.ListJobsAsync(new ListJobsRequest())).Jobs;
        Assert.Equal(("rn-last", "rn-taken"), (listed.Single(j => j.Id == mine).ModelName, listed.Single(j => j.Id == gone).ModelName));
        var stored = keyed.Server.Services.GetRequiredService<Persistence.ServerDatabase>().EndedJobs(10_000);
        Assert.Equal(("rn-last", "rn-taken"), (stored.Single(j => j.Id == mine).ModelName, stored.Single(j => j.Id == gone).ModelName));
        await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "rn-last" });
    }

    [Fact]
    public async Task A_model_made_outside_the_server_and_shared_after_its_resume_takes_that_resume_job_with_it_but_not_a_deleted_namesakes()
    {
        // A deleted model's job, then a model of the same name made outside the server (charrnn train: no owner row), resumed by the
        // admin and shared after: the share makes its row, later than the resume ended.
        var gone = (await keyed.AsAdmin.Training.Train(Trained("rn-outside")).Events())[0].JobId;
        await keyed.AsAdmin.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "rn-outside" });
        await keyed.AsAdmin.Training.Train(Trained("rn-source")).Events();
        var source = Path.Combine(Models, "rn-source");
        Directory.CreateDirectory(Path.Combine(Models, "rn-outside"));
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(Models, "rn-outside", Path.GetFileName(file)));
        var resume = (await keyed.AsAdmin.Training.Train(new StartJobRequest { ModelName = "rn-outside", Resume = true, Options = new Protos.V1.TrainingOptions { MaxSteps = 5, SampleChars = 0 } }).Events())[0].JobId;
        await keyed.AsAdmin.Catalog.ShareModelAsync(new ShareModelRequest { Name = "rn-outside", Shared = true });

        await keyed.AsAdmin.Catalog.RenameModelAsync(Rename("rn-outside", "rn-inside"));

        var listed = (await keyed.AsAdmin.Training.ListJobsAsync(new ListJobsRequest())).Jobs;
        Assert.Equal(("rn-inside", "rn-outside"), (listed.Single(j => j.Id == resume).ModelName, listed.Single(j => j.Id == gone).ModelName));
        var stored = keyed.Server.Services.GetRequiredService<Persistence.ServerDatabase>().EndedJobs(10_000);
        Assert.Equal(("rn-inside", "rn-outside"), (stored.Single(j => j.Id == resume).ModelName, stored.Single(j => j.Id == gone).ModelName));
        foreach (var name in new[] { "rn-inside", "rn-source" })
            await keyed.AsAdmin.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = name });
    }

    [Fact]
    public async Task A_rename_is_refused_with_the_code_and_a_message_saying_why()
    {
        await keyed.AsAlice.Training.Train(Trained("rn-mine")).Events();
        var alice = keyed.AsAlice.Catalog;

        Assert.Equal("new_name 'a/b' is not a valid name; a model name is 1 to 64 characters from letters, digits, '.', '_' and '-', starting with a letter or digit (names are not paths).",
            (await Refused(StatusCode.InvalidArgument, () => alice.RenameModelAsync(Rename("rn-mine", "a/b")).ResponseAsync)).Status.Detail);
        Assert.StartsWith("new_name 'nul' is not allowed: NUL is a device name on Windows",
            (await Refused(StatusCode.InvalidArgument, () => alice.RenameModelAsync(Rename("rn-mine", "nul")).ResponseAsync)).Status.Detail);
        Assert.Equal("new_name 'rn-mine' is the model's name already; give the name it should have.",
            (await Refused(StatusCode.InvalidArgument, () => alice.RenameModelAsync(Rename("rn-mine", "rn-mine")).ResponseAsync)).Status.Detail);
        Assert.StartsWith("No model 'rn-none' on this server",
            (await Refused(StatusCode.NotFound, () => alice.RenameModelAsync(Rename("rn-none", "rn-some")).ResponseAsync)).Status.Detail);

        // Any key's model keeps its name: never replaced, in any case.
        Assert.Equal("A model named 'gru' exists, and a rename never replaces one; choose another new_name (or delete that model first, if this key may).",
            (await Refused(StatusCode.AlreadyExists, () => alice.RenameModelAsync(Rename("rn-mine", "gru")).ResponseAsync)).Status.Detail);
        Assert.Equal("A model named 'gru' exists, and names may not differ only in case (on some file systems they are one folder); choose another new_name.",
            (await Refused(StatusCode.AlreadyExists, () => alice.RenameModelAsync(Rename("rn-mine", "GRU")).ResponseAsync)).Status.Detail);
        await Refused(StatusCode.AlreadyExists, () => keyed.AsAdmin.Catalog.RenameModelAsync(Rename("lstm", "rn-mine")).ResponseAsync); // alice's, unseen by others
        Assert.True(Directory.Exists(Path.Combine(Models, "gru")) && Directory.Exists(Path.Combine(Models, "rn-mine")) && Directory.Exists(Path.Combine(Models, "lstm")));

        // As DeleteModel: another key's model, or an ownerless one for a non-admin; an unshared one of another key is not found.
        Assert.Equal("Model 'gru' was made outside the server and has no owner; only an admin key can rename it.",
            (await Refused(StatusCode.PermissionDenied, () => alice.RenameModelAsync(Rename("gru", "rn-gru")).ResponseAsync)).Status.Detail);
        await Refused(StatusCode.NotFound, () => keyed.AsBob.Catalog.RenameModelAsync(Rename("rn-mine", "rn-bobs")).ResponseAsync);

        // A `charrnn train` or resume writing into its folder.
        using (Engine.Checkpoints.ModelFolder.HoldForTraining(Path.Combine(Models, "rn-mine")))
            Assert.StartsWith("Model 'rn-mine' cannot be renamed now: Another charrnn train or resume is writing to",
                (await Refused(StatusCode.FailedPrecondition, () => alice.RenameModelAsync(Rename("rn-mine", "rn-held")).ResponseAsync)).Status.Detail);
        Assert.True(Directory.Exists(Path.Combine(Models, "rn-mine")));
        Assert.False(Directory.Exists(Path.Combine(Models, "rn-held")));
        Assert.Null(Ownership("rn-held")); // the copied row went back too
        Assert.Equal("alice", Ownership("rn-mine")?.Owner);
        await alice.DeleteModelAsync(new DeleteModelRequest { Name = "rn-mine" });
    }

    [Fact]
    public async Task A_model_renamed_to_its_own_name_in_another_case_moves_with_its_owner_and_sharing()
    {
        await keyed.AsAlice.Training.Train(Trained("rn-case")).Events();
        await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = "rn-case", Shared = true });

        // Names are unique in any case, but the model that holds the name is not another model: a case-only rename is allowed.
        var renamed = await keyed.AsAlice.Catalog.RenameModelAsync(Rename("rn-case", "RN-Case"));
        Assert.Equal(("RN-Case", "alice", true), (renamed.Name, renamed.Owner, renamed.Shared));
        Assert.Equal(["RN-Case"], Directory.GetDirectories(Models).Select(Path.GetFileName).Where(n => string.Equals(n, "rn-case", StringComparison.OrdinalIgnoreCase)));
        Assert.True(File.Exists(Path.Combine(Models, "RN-Case", "best.ckpt")));
        Assert.Empty(Directory.GetFileSystemEntries(Models, ".renaming-*")); // its note and the folder's stop between are gone
        Assert.Null(Ownership("rn-case"));
        Assert.Equal("alice", Ownership("RN-Case")?.Owner);
        var listed = (await keyed.AsBob.Catalog.ListModelsAsync(new ListModelsRequest())).Models;
        Assert.Contains(listed, m => m is { Name: "RN-Case", Owner: "alice", Shared: true });
        Assert.DoesNotContain(listed, m => m.Name == "rn-case");
        await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "RN-Case" });
    }

    [Theory]
    [InlineData("rn-stays", "rn-went")]
    [InlineData("rn-case-stays", "RN-Case-Stays")] // its own name in another case: moved through the note's folder, and back
    public async Task A_rename_whose_last_database_write_fails_leaves_the_model_at_its_old_name_with_its_row(string name, string newName)
    {
        // The folder had moved when the database could not forget the old name's row (a full disk): the call failed, yet the
        // model was listed under the new name only, with the old row left and the jobs not following, until a restart.
        var jobId = (await keyed.AsAlice.Training.Train(Trained(name)).Events())[0].JobId;
        await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = name, Shared = true });
        var session = await keyed.AsBob.Generation.Open(name, seed: 3);
        using (new RefusedDatabaseWrite(Models, $"old.name = '{name}'", "DELETE ON models"))
        {
            var e = await Calls.Fails(() => keyed.AsAlice.Catalog.RenameModelAsync(Rename(name, newName)).ResponseAsync);
            Assert.Equal("The server could not store what RenameModel changes: its disk is full (or over its quota, or failing). "
                         + "Nothing changed: the model keeps its old name. Try again once the server's operator has made room.", e.Status.Detail);
        }
        Assert.Equal([name], Directory.GetDirectories(Models).Select(Path.GetFileName).Where(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)));
        Assert.True(File.Exists(Path.Combine(Models, name, "best.ckpt")));
        Assert.Empty(Directory.GetFileSystemEntries(Models, ".renaming-*")); // nothing left for the next start to finish
        Assert.Equal(("alice", true), (Ownership(name)?.Owner, Ownership(name)?.Shared));
        Assert.Null(Ownership(newName));
        var listed = (await keyed.AsBob.Catalog.ListModelsAsync(new ListModelsRequest())).Models;
        Assert.Contains(listed, m => m.Name == name && m.Owner == "alice" && m.Shared);
        Assert.Equal(name, (await keyed.AsAlice.Training.GetJobAsync(new GetJobRequest { JobId = jobId })).ModelName);
        // Its sessions are not told it was renamed: it was not.
        var fork = await keyed.AsBob.Generation.ForkAsync(new ForkRequest { SessionId = session.Id });
        await keyed.AsBob.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = fork.Id });

        var renamed = await keyed.AsAlice.Catalog.RenameModelAsync(Rename(name, newName)); // the disk has room again
        Assert.Equal((newName, "alice", true), (renamed.Name, renamed.Owner, renamed.Shared));
        Assert.Equal(newName, (await keyed.AsAlice.Training.GetJobAsync(new GetJobRequest { JobId = jobId })).ModelName);
        await keyed.AsBob.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
        await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = newName });
    }

    private Persistence.ModelRecord? Ownership(string name) => keyed.Server.Services.GetRequiredService<TrainedModels.ModelStore>().Ownership(name);

    [Fact]
    public async Task A_model_a_job_trains_or_starts_from_is_not_renamed_until_the_job_ends()
    {
        await keyed.AsAlice.Training.Train(Trained("rn-trained")).Events();
        await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = "rn-trained", Shared = true });
        // Both jobs long enough that only StopJob ends them before the renames below are tried: a 2-step fine-tune once
        // ended first on a loaded host, and the rename went through. max_steps alone is not enough: epochs = 1 (the
        // fine-tune's as it was, and the resume's, kept from the model) ends a job after one pass over the corpus (about 70 steps).
        var resume = new StartJobRequest { ModelName = "rn-trained", Resume = true, Options = new Protos.V1.TrainingOptions { MaxSteps = 1_000_000, Epochs = 10_000, SampleChars = 0 } };
        var training = await keyed.AsAlice.Training.StartJobAsync(resume);
        var fineTune = new StartJobRequest { ModelName = "rn-tuned", InitFrom = "rn-trained", CorpusName = "tiny", Options = new Protos.V1.TrainingOptions { MaxSteps = 1_000_000, Epochs = 10_000, SampleChars = 0 } };
        var tuning = await keyed.AsBob.Training.StartJobAsync(fineTune); // queued behind alice's

        Assert.Equal("Model 'rn-trained' is being trained by a job; stop the job first (StopJob), then rename it.",
            (await Refused(StatusCode.FailedPrecondition, () => keyed.AsAlice.Catalog.RenameModelAsync(Rename("rn-trained", "rn-moved")).ResponseAsync)).Status.Detail);
        // Nor the name a job is making.
        Assert.Equal("A job is making a model named 'rn-tuned'; choose another new_name.",
            (await Refused(StatusCode.AlreadyExists, () => keyed.AsAdmin.Catalog.RenameModelAsync(Rename("gru", "rn-tuned")).ResponseAsync)).Status.Detail);
        await keyed.AsAlice.Training.StopJobAsync(new StopJobRequest { JobId = training.Id });
        await keyed.AsAlice.Training.WatchJob(new WatchJobRequest { JobId = training.Id }).Events(); // to its end

        // Bob's fine-tune, queued or running now, still reads it.
        Assert.Matches("^Model 'rn-trained' is the model another key's job \\((running|queued)\\) starts from \\(init_from\\); wait for it to end, then rename the model\\.$",
            (await Refused(StatusCode.FailedPrecondition, () => keyed.AsAlice.Catalog.RenameModelAsync(Rename("rn-trained", "rn-moved")).ResponseAsync)).Status.Detail);
        await keyed.AsBob.Training.StopJobAsync(new StopJobRequest { JobId = tuning.Id });
        await keyed.AsBob.Training.WatchJob(new WatchJobRequest { JobId = tuning.Id }).Events();
        await keyed.AsAlice.Catalog.RenameModelAsync(Rename("rn-trained", "rn-moved")); // free now
        await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "rn-moved" });
        if (Directory.Exists(Path.Combine(Models, "rn-tuned"))) // stopped before its start, it made none
            await keyed.AsBob.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "rn-tuned" });
    }

    [Fact]
    public async Task While_a_model_is_renamed_no_job_import_delete_or_rename_takes_either_name()
    {
        await keyed.AsAlice.Training.Train(Trained("rn-moving")).Events();
        var jobs = keyed.Server.Services.GetRequiredService<Jobs.JobQueue>();
        using (jobs.HoldForRename("rn-moving", "rn-target", new Security.Caller("alice", Admin: false))) // as a RenameModel between its checks and its move
        {
            const string renaming = "Model 'rn-moving' is being renamed to 'rn-target' (RenameModel); ";
            Assert.Equal(renaming + "delete it once RenameModel has returned.",
                (await Refused(StatusCode.FailedPrecondition, () => keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "rn-moving" }).ResponseAsync)).Status.Detail);
            Assert.Equal(renaming + "start the job once RenameModel has returned.",
                (await Refused(StatusCode.FailedPrecondition, () => keyed.AsAlice.Training.StartJobAsync(new StartJobRequest { ModelName = "rn-moving", Resume = true, Options = new Protos.V1.TrainingOptions { MaxSteps = 5 } }).ResponseAsync)).Status.Detail);
            Assert.Equal(renaming + "start the job once RenameModel has returned.",
                (await Refused(StatusCode.FailedPrecondition, () => keyed.AsBob.Training.StartJobAsync(Trained("RN-target")).ResponseAsync)).Status.Detail);
            Assert.Equal(renaming + "rename it once that call has returned.",
                (await Refused(StatusCode.FailedPrecondition, () => keyed.AsAlice.Catalog.RenameModelAsync(Rename("rn-moving", "rn-elsewhere")).ResponseAsync)).Status.Detail);
            Assert.Equal(renaming + "choose another new_name, or retry once that call has returned.",
                (await Refused(StatusCode.FailedPrecondition, () => keyed.AsAdmin.Catalog.RenameModelAsync(Rename("gru", "rn-target")).ResponseAsync)).Status.Detail);
        }
        await keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "rn-moving" }); // the hold went with the call
    }
}
