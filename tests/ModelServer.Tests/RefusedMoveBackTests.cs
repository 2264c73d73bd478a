using CharRnn.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A rename or delete whose last database write the disk refuses (<see cref="RefusedDatabaseWrite"/>) and whose folder the
/// file system will not move back either (ModelStore.MoveBackInstead stands in for it): what the caller is told, what the
/// server lists after, and what the next start does. Each test stops its own server to start again on its models folder.
/// </summary>
public class RefusedMoveBackTests
{
    private static StartJobRequest Trained(string name) => new()
    {
        ModelName = name, Architecture = "stateful-gru", CorpusName = "tiny",
        Options = new Protos.V1.TrainingOptions { MaxSteps = 3, Epochs = 1, SampleChars = 0 },
        Hyperparameters = { ["n_hidden"] = 8, ["bs"] = 4 },
    };

    private static TrainedModels.ModelStore Store(ServerFixture server) => server.Services.GetRequiredService<TrainedModels.ModelStore>();

    /// <summary>Trains <paramref name="name"/> by a job: the job's id and the model's owner row.</summary>
    private static async Task<(string JobId, Persistence.ModelRecord Owner)> TrainedByJob(ServerFixture server, string name)
    {
        var jobId = (await server.Training.Train(Trained(name)).Events())[0].JobId;
        return (jobId, Assert.IsType<Persistence.ModelRecord>(Store(server).Ownership(name)));
    }

    /// <summary>The file system refuses every move back after a refused rename's or delete's write.</summary>
    private static void RefuseMoveBack(ServerFixture server) => Store(server).MoveBackInstead = (_, _, _) => throw new IOException("Device or resource busy");

    private static async Task<List<string>> Listed(ServerFixture server) =>
        (await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Select(m => m.Name).ToList();

    /// <summary>
    /// Stops <paramref name="server"/> and does what the next start does to its models folder first (JobQueue's recovery:
    /// RemoveDeleted finishes the deletes and renames left); the store and database it started with, for a look.
    /// </summary>
    private sealed class NextStart : IDisposable
    {
        public NextStart(ServerFixture server)
        {
            server.StopServer();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            var options = Microsoft.Extensions.Options.Options.Create(new Hosting.ServerOptions { ModelsDirectory = server.Options.ModelsDirectory, Device = "cpu" });
            // The stopped host lets the folder's lock go a moment after StopServer returns (its disposal ends on another thread).
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                try { Database = new Persistence.ServerDatabase(options); break; }
                catch (Persistence.ModelsFolderInUseException) when (waited.Elapsed < TimeSpan.FromSeconds(30)) { Thread.Sleep(50); }
            }
            Store = new TrainedModels.ModelStore(options, Database, Microsoft.Extensions.Logging.Abstractions.NullLogger<TrainedModels.ModelStore>.Instance);
            Store.RemoveDeleted();
        }

        public Persistence.ServerDatabase Database { get; }
        public TrainedModels.ModelStore Store { get; }

        public void Dispose()
        {
            Database.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }

    [Fact]
    public async Task A_rename_whose_last_write_and_move_back_both_fail_stands_and_the_next_start_finishes_recording_it()
    {
        using var server = new ServerFixture();
        var models = server.Options.ModelsDirectory;
        var (jobId, owner) = await TrainedByJob(server, "mb-old");
        RefuseMoveBack(server);
        using (new RefusedDatabaseWrite(models, "old.name = 'mb-old'", "DELETE ON models"))
        {
            // The folder is at its new name with its owner's row there: the rename is done but for the old row, so it stands.
            var renamed = await server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "mb-old", NewName = "mb-new" });
            Assert.Equal(("mb-new", owner.Owner), (renamed.Name, renamed.Owner));
        }
        Assert.Contains("mb-new", await Listed(server));
        Assert.DoesNotContain("mb-old", await Listed(server));
        Assert.Single(Directory.GetFiles(models, ".renaming-*")); // its note, for the next start
        Assert.Single(server.Log.With("Model mb-old stays renamed to mb-new; the server's next start finishes recording the rename"));
        // Its job names it as it is now, as a recorded rename's does, not by the old name until the next start.
        Assert.Equal("mb-new", (await server.Training.GetJobAsync(new GetJobRequest { JobId = jobId })).ModelName);
        Assert.Equal("mb-new", (await server.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.Id == jobId).ModelName);

        using var next = new NextStart(server);
        Assert.Empty(Directory.GetFileSystemEntries(models, ".renaming-*"));
        Assert.Equal(["mb-new"], next.Store.List().Select(m => m.Name).Where(n => n.StartsWith("mb-")));
        Assert.Null(next.Database.Model("mb-old")); // a model trained later under the old name is not the owner's
        Assert.Equal(owner with { Name = "mb-new" }, next.Database.Model("mb-new"));
        Assert.Equal("mb-new", next.Database.EndedJobs(10).Single(j => j.Id == jobId).ModelName); // its job follows it
    }

    [Theory]
    [InlineData("mb-first")] // renamed back
    [InlineData("mb-third")] // renamed on
    public async Task A_rename_after_one_that_stands_unrecorded_takes_the_models_jobs_along_now_and_after_the_next_start(string last)
    {
        using var server = new ServerFixture();
        var models = server.Options.ModelsDirectory;
        var (jobId, owner) = await TrainedByJob(server, "mb-first");
        RefuseMoveBack(server);
        using (new RefusedDatabaseWrite(models, "old.name = 'mb-first'", "DELETE ON models"))
            await server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "mb-first", NewName = "mb-second" }); // stands unrecorded
        Store(server).MoveBackInstead = null;

        // The disk has room again: the next rename records the first one, then itself.
        var renamed = await server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "mb-second", NewName = last });
        Assert.Equal((last, owner.Owner), (renamed.Name, renamed.Owner));
        Assert.Equal(last, (await server.Training.GetJobAsync(new GetJobRequest { JobId = jobId })).ModelName);
        Assert.Equal(last, (await server.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.Id == jobId).ModelName);
        Assert.Empty(Directory.GetFiles(models, ".renaming-*"));

        using var next = new NextStart(server);
        Assert.Equal([last], next.Store.List().Select(m => m.Name).Where(n => n.StartsWith("mb-")));
        Assert.Equal(owner with { Name = last }, next.Database.Model(last));
        if (last != "mb-first") Assert.Null(next.Database.Model("mb-first"));
        Assert.Null(next.Database.Model("mb-second"));
        Assert.Equal(last, next.Database.EndedJobs(10).Single(j => j.Id == jobId).ModelName);
        Assert.Contains(jobId, next.Database.JobIdsOfModel(last));
    }

    /// <summary>While the disk still refuses to record a rename that stands, a rename on is refused as the disk's refusal, nothing changed; with room again, it goes.</summary>
    [Fact]
    public async Task A_rename_after_one_that_stands_unrecorded_is_refused_while_the_disk_still_refuses_to_record_that_one()
    {
        using var server = new ServerFixture();
        var (jobId, _) = await TrainedByJob(server, "mb-one");
        RefuseMoveBack(server);
        using (new RefusedDatabaseWrite(server.Options.ModelsDirectory, "old.name = 'mb-one'", "DELETE ON models"))
        {
            await server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "mb-one", NewName = "mb-two" }); // stands unrecorded
            var e = await Calls.Fails(() => server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "mb-two", NewName = "mb-three" }).ResponseAsync);
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            Assert.Contains("Nothing changed", e.Status.Detail);
            Assert.Equal(["mb-two"], (await Listed(server)).Where(n => n.StartsWith("mb-")));
        }
        await server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "mb-two", NewName = "mb-three" });
        Assert.Equal("mb-three", (await server.Training.GetJobAsync(new GetJobRequest { JobId = jobId })).ModelName);
    }

    [Fact]
    public async Task A_case_only_rename_left_between_its_two_moves_is_out_of_every_listing_until_the_next_start_finishes_it()
    {
        using var server = new ServerFixture();
        var models = server.Options.ModelsDirectory;
        await server.Training.Train(Trained("mb-case")).Events();
        var owner = Store(server).Ownership("mb-case");
        Assert.NotNull(owner);
        // Moving back goes through the folder beside the note: the first move done, the second refused, and the one back too.
        Store(server).MoveBackInstead = (folder, _, via) =>
        {
            Directory.Move(folder, via!);
            throw new IOException("Device or resource busy");
        };
        using (new RefusedDatabaseWrite(models, "old.name = 'mb-case'", "DELETE ON models"))
        {
            var e = await Calls.Fails(() => server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "mb-case", NewName = "MB-Case" }).ResponseAsync);
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            Assert.Equal("The server could not store what RenameModel changes: its disk is full (or over its quota, or failing). "
                         + "Model 'mb-case' is out of every listing, between its two moves, until the server's next start finishes its rename to 'MB-Case'. "
                         + "Do not try again (a rename finds no model 'mb-case' now); the server's operator should make room and start the server again.", e.Status.Detail);
        }
        // As it says: a retry finds no model to rename.
        Assert.Equal(StatusCode.NotFound, (await Calls.Fails(() => server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "mb-case", NewName = "MB-Case" }).ResponseAsync)).StatusCode);
        var listed = await Listed(server);
        Assert.DoesNotContain("mb-case", listed);
        Assert.DoesNotContain("MB-Case", listed);
        var note = Assert.Single(Directory.GetFiles(models, ".renaming-*"));
        Assert.True(File.Exists(Path.Combine(note + TrainedModels.RenameNote.StopSuffix, "best.ckpt")));

        using var next = new NextStart(server);
        Assert.Empty(Directory.GetFileSystemEntries(models, ".renaming-*"));
        Assert.Equal(["MB-Case"], next.Store.List().Select(m => m.Name).Where(n => n.StartsWith("mb-", StringComparison.OrdinalIgnoreCase)));
        Assert.True(File.Exists(Path.Combine(models, "MB-Case", "best.ckpt")));
        Assert.Null(next.Database.Model("mb-case"));
        Assert.Equal(owner with { Name = "MB-Case" }, next.Database.Model("MB-Case"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // permission denied: refused as the delete's own refusal says, not as "Nothing changed: the model is still there"
    public async Task A_delete_whose_write_and_move_back_both_fail_is_hidden_and_the_next_start_deletes_it(bool permissionDenied)
    {
        using var server = new ServerFixture();
        var models = server.Options.ModelsDirectory;
        server.TrainModel("mb-del", "stateful-rnn", steps: 5);
        server.Services.GetRequiredService<Persistence.ServerDatabase>().SetModelOwner("mb-del", "local", shared: true);
        Store(server).MoveBackInstead = (_, _, _) => throw (permissionDenied ? new UnauthorizedAccessException("Access to the path is denied.") : new IOException("Device or resource busy"));
        using (new RefusedDatabaseWrite(models, "old.name = 'mb-del'", "DELETE ON models"))
        {
            var e = await Calls.Fails(() => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "mb-del" }).ResponseAsync);
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            Assert.Equal("The server could not store what DeleteModel changes: its disk is full (or over its quota, or failing). "
                         + "Model 'mb-del' could not be put back: it is out of every listing, and the server's next start deletes it, as asked. "
                         + "Do not try again (a delete finds no model 'mb-del' now); the server's operator should make room.", e.Status.Detail);
        }
        // As it says: a retry finds no model to delete.
        Assert.Equal(StatusCode.NotFound, (await Calls.Fails(() => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "mb-del" }).ResponseAsync)).StatusCode);
        Assert.DoesNotContain("mb-del", await Listed(server));
        Assert.Equal(StatusCode.NotFound, (await Calls.Fails(() => server.Catalog.GetModelAsync(new GetModelRequest { Name = "mb-del" }).ResponseAsync)).StatusCode);
        Assert.Single(Directory.GetDirectories(models, ".deleting-mb-del-*"));

        using var next = new NextStart(server);
        Assert.Empty(Directory.GetDirectories(models, ".deleting-mb-del-*"));
        Assert.DoesNotContain("mb-del", next.Store.List().Select(m => m.Name));
        Assert.Null(next.Database.Model("mb-del")); // a model trained later under the name is not the old owner's, nor shared
    }

    [Fact]
    public async Task A_model_made_again_under_a_hidden_deletes_name_before_the_next_start_keeps_its_jobs_and_owner_after_it()
    {
        using var server = new ServerFixture();
        var models = server.Options.ModelsDirectory;
        await server.Training.Train(Trained("mb-again")).Events();
        Store(server).MoveBackInstead = (_, _, _) => throw new IOException("Device or resource busy");
        using (new RefusedDatabaseWrite(models, "old.name = 'mb-again'", "DELETE ON models"))
            Assert.Equal(StatusCode.ResourceExhausted, (await Calls.Fails(() => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "mb-again" }).ResponseAsync)).StatusCode);
        Assert.Single(Directory.GetDirectories(models, ".deleting-mb-again-*"));

        // Made again under the name (room made on the disk) before the server stops: another model, with a job of its own.
        var again = (await server.Training.Train(Trained("mb-again")).Events())[0].JobId;
        var owner = Store(server).Ownership("mb-again");
        Assert.NotNull(owner);

        using var next = new NextStart(server);
        Assert.Empty(Directory.GetDirectories(models, ".deleting-mb-again-*")); // the hidden one deleted, as its refusal said
        Assert.Contains("mb-again", next.Store.List().Select(m => m.Name));
        Assert.Equal(owner, next.Database.Model("mb-again")); // the new model's row kept
        Assert.Contains(again, next.Database.JobIdsOfModel("mb-again")); // its job is not taken for the deleted one's
    }

    [Fact]
    public async Task The_jobs_of_a_hidden_deletes_model_stay_with_it_when_a_model_made_again_under_its_name_is_renamed()
    {
        using var server = new ServerFixture();
        var models = server.Options.ModelsDirectory;
        var deleted = (await server.Training.Train(Trained("mb-gone")).Events())[0].JobId;
        Store(server).MoveBackInstead = (_, _, _) => throw new IOException("Device or resource busy");
        using (new RefusedDatabaseWrite(models, "old.name = 'mb-gone'", "DELETE ON models"))
            Assert.Equal(StatusCode.ResourceExhausted, (await Calls.Fails(() => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "mb-gone" }).ResponseAsync)).StatusCode);

        // Made again under the name, then renamed: its own job follows it; the hidden one's, as a deleted model's, keeps naming that one.
        var again = (await server.Training.Train(Trained("mb-gone")).Events())[0].JobId;
        await server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "mb-gone", NewName = "mb-moved" });
        Assert.Equal(("mb-gone", "mb-moved"), ((await server.Training.GetJobAsync(new GetJobRequest { JobId = deleted })).ModelName,
            (await server.Training.GetJobAsync(new GetJobRequest { JobId = again })).ModelName));
        var listed = (await server.Training.ListJobsAsync(new ListJobsRequest())).Jobs;
        Assert.Equal(("mb-gone", "mb-moved"), (listed.Single(j => j.Id == deleted).ModelName, listed.Single(j => j.Id == again).ModelName));

        using var next = new NextStart(server);
        Assert.Equal(["mb-moved"], next.Store.List().Select(m => m.Name).Where(n => n.StartsWith("mb-")));
        Assert.Equal(("mb-gone", "mb-moved"), (next.Database.EndedJobs(10).Single(j => j.Id == deleted).ModelName, next.Database.EndedJobs(10).Single(j => j.Id == again).ModelName));
        Assert.Equal([again], next.Database.JobIdsOfModel("mb-moved"));
    }

    [Theory]
    [InlineData("import")] // ImportModel makes the model again under the name
    [InlineData("rename")] // another model is renamed onto the name
    public async Task The_jobs_of_a_hidden_deletes_model_stay_with_it_when_a_model_imported_or_renamed_onto_its_name_is_renamed(string madeBy)
    {
        using var server = new ServerFixture();
        var models = server.Options.ModelsDirectory;
        var deleted = (await server.Training.Train(Trained("mb-made")).Events())[0].JobId;
        Store(server).MoveBackInstead = (_, _, _) => throw new IOException("Device or resource busy");
        using (new RefusedDatabaseWrite(models, "old.name = 'mb-made'", "DELETE ON models"))
            Assert.Equal(StatusCode.ResourceExhausted, (await Calls.Fails(() => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "mb-made" }).ResponseAsync)).StatusCode);

        await server.Training.Train(Trained("mb-source")).Events();
        if (madeBy == "rename")
            await server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "mb-source", NewName = "mb-made" });
        else
        {
            var file = new List<byte>();
            using (var export = server.Catalog.ExportModel(new ExportModelRequest { Name = "mb-source" }))
                await foreach (var chunk in export.ResponseStream.ReadAllAsync()) file.AddRange(chunk.Data);
            using var import = server.Catalog.ImportModel();
            await import.RequestStream.WriteAsync(new ImportModelRequest { Header = new ImportModelHeader { Name = "mb-made" } });
            await import.RequestStream.WriteAsync(new ImportModelRequest { Data = Google.Protobuf.ByteString.CopyFrom([.. file]) });
            await import.RequestStream.CompleteAsync();
            await import.ResponseAsync;
        }
        await server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "mb-made", NewName = "mb-moved" });
        Assert.Equal("mb-made", (await server.Training.GetJobAsync(new GetJobRequest { JobId = deleted })).ModelName);
        Assert.Equal("mb-made", (await server.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.Id == deleted).ModelName);

        using var next = new NextStart(server);
        Assert.Equal("mb-made", next.Database.EndedJobs(10).Single(j => j.Id == deleted).ModelName);
        Assert.DoesNotContain(deleted, next.Database.JobIdsOfModel("mb-moved"));
    }

    [Fact]
    public async Task A_hidden_deletes_name_is_free_to_another_key_whose_model_there_is_its_own_not_the_old_owners()
    {
        using var keyed = new KeyedServer();
        var server = keyed.Server;
        await keyed.AsAlice.Training.Train(Trained("mb-free")).Events();
        await keyed.AsAlice.Catalog.ShareModelAsync(new ShareModelRequest { Name = "mb-free", Shared = true });
        Store(server).MoveBackInstead = (_, _, _) => throw new IOException("Device or resource busy");
        using (new RefusedDatabaseWrite(server.Options.ModelsDirectory, "old.name = 'mb-free'", "DELETE ON models"))
            Assert.Equal(StatusCode.ResourceExhausted, (await Calls.Fails(() => keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "mb-free" }).ResponseAsync)).StatusCode);
        Assert.Equal("alice", server.Services.GetRequiredService<Persistence.ServerDatabase>().Model("mb-free")?.Owner); // the row the refused write kept
        Assert.Null(Store(server).Ownership("mb-free")); // but no model's owner now

        // Free from every key's view, as the refusal says: bob's job makes a model there, bob's alone, not shared as alice's was.
        await keyed.AsBob.Training.Train(Trained("mb-free")).Events();
        var bobs = (await keyed.AsBob.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "mb-free");
        Assert.Equal(("bob", false), (bobs.Owner, bobs.Shared));
        Assert.DoesNotContain("mb-free", (await keyed.AsAlice.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Select(m => m.Name));
        Assert.Equal(StatusCode.NotFound, (await Calls.Fails(() => keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "mb-free" }).ResponseAsync)).StatusCode);

        using var next = new NextStart(server);
        Assert.Empty(Directory.GetDirectories(server.Options.ModelsDirectory, ".deleting-mb-free-*"));
        Assert.Equal("bob", next.Database.Model("mb-free")?.Owner);
    }

    /// <summary>
    /// A model made outside the server (charrnn train) under a hidden delete's name is not the deleted model: it belongs to
    /// nobody, as deploy.md says of models made outside the server (every key reads it, only admins change it), before and after the next start.
    /// </summary>
    [Fact]
    public async Task A_model_made_outside_the_server_under_a_hidden_deletes_name_is_nobodys_not_the_deleted_models_owners()
    {
        using var keyed = new KeyedServer();
        var server = keyed.Server;
        await keyed.AsAlice.Training.Train(Trained("mb-out")).Events();
        Store(server).MoveBackInstead = (_, _, _) => throw new IOException("Device or resource busy");
        using (new RefusedDatabaseWrite(server.Options.ModelsDirectory, "old.name = 'mb-out'", "DELETE ON models"))
            Assert.Equal(StatusCode.ResourceExhausted, (await Calls.Fails(() => keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "mb-out" }).ResponseAsync)).StatusCode);

        server.TrainOn("mb-out", ServerFixture.TinyCorpus()); // charrnn train into the same models folder
        var bobs = (await keyed.AsBob.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "mb-out");
        Assert.Equal("", bobs.Owner);
        var denied = await Calls.Fails(() => keyed.AsAlice.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "mb-out" }).ResponseAsync);
        Assert.Equal((StatusCode.PermissionDenied, "Model 'mb-out' was made outside the server and has no owner; only an admin key can delete it."), (denied.StatusCode, denied.Status.Detail));
        // Nor does it count against alice's max_models_per_key: the row left there is no one's.
        Assert.Equal(0, (await keyed.AsAlice.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).KeyUsage.Single().Models);

        using var next = new NextStart(server);
        Assert.Empty(Directory.GetDirectories(server.Options.ModelsDirectory, ".deleting-mb-out-*"));
        Assert.Contains("mb-out", next.Store.List().Select(m => m.Name));
        Assert.Null(next.Database.Model("mb-out"));
    }
}
