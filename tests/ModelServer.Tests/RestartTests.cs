using Microsoft.Extensions.Hosting;
using Grpc.Core;
using CharRnn.Protos.V1;
using CharRnn.ModelServer.TrainedModels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CharRnn.ModelServer.Tests;

/// <summary>What survives a server's stop and start: the models folder's lock, stopped jobs, checkpoints.</summary>
public class RestartTests
{
    private static Hosting.ServerOptions Options(string models) => new() { Listen = "127.0.0.1:0", ModelsDirectory = models, Device = "cpu", Threads = 1 };

    /// <summary>As dd if=/dev/urandom bs=4096 seek=<paramref name="fromPage"/> count=6 conv=notrunc does: six pages of noise.</summary>
    private static void DamagePages(string file, int fromPage)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
        stream.Position = fromPage * 4096L;
        var noise = new byte[6 * 4096];
        new Random(7).NextBytes(noise);
        stream.Write(noise);
    }

    /// <summary>Starts a server on <paramref name="models"/>, which must refuse to start; returns why.</summary>
    private static async Task<InvalidDataException> RefusedStart(string models)
    {
        Microsoft.AspNetCore.Builder.WebApplication? server = null;
        try
        {
            return await Assert.ThrowsAsync<InvalidDataException>(async () =>
            {
                server = Hosting.ServerHost.Build([], Options(models), _ => { });
                await Hosting.ServerHost.StartAsync(server);
            });
        }
        finally
        {
            if (server != null) await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_second_server_on_the_same_models_folder_is_refused_until_the_first_stops()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-lock-" + Guid.NewGuid().ToString("N")[..8]);
        var first = Hosting.ServerHost.Build([], Options(models), _ => { });
        await Hosting.ServerHost.StartAsync(first);
        var second = Hosting.ServerHost.Build([], Options(models), _ => { });
        var e = await Assert.ThrowsAsync<Persistence.ModelsFolderInUseException>(() => Hosting.ServerHost.StartAsync(second));
        Assert.Contains("Another charrnn process is using the models folder", e.Message);
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
    public async Task A_server_is_refused_while_cli_trainings_hold_its_folder_and_says_so()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-lock-" + Guid.NewGuid().ToString("N")[..8]);
        var first = Hosting.ServerHost.Build([], Options(models), _ => { });
        await Hosting.ServerHost.StartAsync(first); // leaves charrnn.lock behind, as any server does
        await first.StopAsync();
        await first.DisposeAsync();

        using (var training = Persistence.ServerDatabase.HoldIfServed(models))
        {
            Assert.NotNull(training);
            using (var another = Persistence.ServerDatabase.HoldIfServed(models)) Assert.NotNull(another); // a second run, into another model folder
            var server = Hosting.ServerHost.Build([], Options(models), _ => { });
            var e = await Assert.ThrowsAsync<Persistence.ModelsFolderInUseException>(() => Hosting.ServerHost.StartAsync(server));
            Assert.Contains("a charrnn train/resume into it", e.Message);
            await server.DisposeAsync();
        }
        Directory.Delete(models, true);
    }

    [Fact]
    public async Task A_database_damaged_in_the_middle_stops_the_start_as_a_damaged_header_does()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-damaged-middle-" + Guid.NewGuid().ToString("N")[..8]);
        using (var database = new Persistence.ServerDatabase(Microsoft.Extensions.Options.Options.Create(Options(models))))
        {
            // Enough rows for a few dozen pages, the jobs table's among them.
            var plan = new Persistence.JobRecordPlan("stateful-gru", null, new Engine.Training.TrainingOptions(), "tiny", false, false);
            for (var i = 0; i < 400; i++)
                database.InsertJob(new Persistence.JobRecord($"j-{i}", "local", $"model-{i}", i % 2 == 0 ? "queued" : "finished", plan, DateTimeOffset.UtcNow,
                    null, null, new string('r', 200), 0, 0, null));
        }
        var file = Path.Combine(models, "charrnn.db");
        var length = new FileInfo(file).Length;
        Assert.True(length > 10 * 4096, $"the database should span more than the damaged pages ({length} bytes)");
        DamagePages(file, fromPage: 3); // the header stays intact
        var bytes = File.ReadAllBytes(file);

        var e = await RefusedStart(models);
        Assert.StartsWith($"The server database {file} is damaged", e.Message);
        Assert.Contains("Move it aside to start with an empty one", e.Message);
        Assert.DoesNotContain('\n', e.Message); // one line
        Assert.Equal(bytes, File.ReadAllBytes(file)); // left as it was
        Directory.Delete(models, true);
    }

    [Fact]
    public async Task A_damaged_database_of_an_older_version_is_refused_before_its_migration_or_the_switch_to_wal_writes_to_it()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-damaged-old-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(models);
        var file = Path.Combine(models, "charrnn.db");
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
        {
            old.Open(); // a rollback journal, and jobs without the columns added since (run_seconds, last_sequence, key_hash)
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE models(name TEXT PRIMARY KEY, owner TEXT NOT NULL, shared INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL);
                CREATE TABLE jobs(id TEXT PRIMARY KEY, owner TEXT NOT NULL, model_name TEXT NOT NULL, state TEXT NOT NULL, plan TEXT NOT NULL,
                    created TEXT NOT NULL, started TEXT, ended TEXT, reason TEXT NOT NULL DEFAULT '', step INTEGER NOT NULL DEFAULT 0,
                    total_steps INTEGER NOT NULL DEFAULT 0, best_valid_loss REAL);
                CREATE TABLE job_events(job_id TEXT NOT NULL, sequence INTEGER NOT NULL, time TEXT NOT NULL, step INTEGER NOT NULL,
                    payload TEXT NOT NULL, PRIMARY KEY(job_id, sequence)) WITHOUT ROWID;
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 399)
                INSERT INTO jobs(id, owner, model_name, state, plan, created, reason) SELECT 'j-' || i, 'local', 'model-' || i, 'finished', '{}', '2025-01-01', printf('%.200c', 'r') FROM n;
                """;
            create.ExecuteNonQuery();
        }
        DamagePages(file, fromPage: 3); // the jobs table's pages: the header and the schema stay intact
        var bytes = File.ReadAllBytes(file);

        Assert.StartsWith($"The server database {file} is damaged", (await RefusedStart(models)).Message);
        Assert.Equal(bytes, File.ReadAllBytes(file)); // not written: no WAL header bytes, no added columns
        Directory.Delete(models, true);
    }

    [Fact]
    public async Task A_damaged_page_among_job_events_does_not_stop_the_start_which_reads_no_more_than_the_jobs()
    {
        // job_events is nearly all of a team server's database (hundreds of MB): a start that read every page took seconds.
        var models = Path.Combine(Path.GetTempPath(), "charrnn-damaged-events-" + Guid.NewGuid().ToString("N")[..8]);
        using (var database = new Persistence.ServerDatabase(Microsoft.Extensions.Options.Options.Create(Options(models))))
        {
            var plan = new Persistence.JobRecordPlan("stateful-gru", null, new Engine.Training.TrainingOptions(), "tiny", false, false);
            database.InsertJob(new Persistence.JobRecord("j-0", "local", "model-0", "finished", plan, DateTimeOffset.UtcNow, null, DateTimeOffset.UtcNow,
                "done", 0, 0, null));
            database.AppendJobEvents(Enumerable.Range(0, 2000)
                .Select(i => new Persistence.StoredJobEvent("j-0", i, DateTimeOffset.UtcNow, i, new string('p', 200))).ToList());
        }
        var file = Path.Combine(models, "charrnn.db");
        Assert.True(new FileInfo(file).Length > 80 * 4096, "the events should span the damaged pages");
        DamagePages(file, fromPage: 50); // leaves of job_events, past the schema's and the jobs' pages

        var server = Hosting.ServerHost.Build([], Options(models), _ => { });
        await Hosting.ServerHost.StartAsync(server);
        await server.StopAsync();
        await server.DisposeAsync();
        Directory.Delete(models, true);
    }

    [Fact]
    public async Task A_damaged_database_stops_the_start_naming_the_file_and_what_to_do()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-damaged-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(models);
        var database = Path.Combine(models, "charrnn.db");
        File.WriteAllBytes(database, System.Text.Encoding.ASCII.GetBytes(new string('x', 8192)));
        var e = await RefusedStart(models);
        Assert.StartsWith($"The server database {database} is damaged", e.Message);
        Assert.Contains("Move it aside to start with an empty one", e.Message);
        Assert.Equal(8192, new FileInfo(database).Length); // left as it was, for whoever wants to look at it

        File.Move(database, database + ".damaged");
        var again = Hosting.ServerHost.Build([], Options(models), _ => { });
        await Hosting.ServerHost.StartAsync(again); // the lock went with the failed start
        await again.StopAsync();
        await again.DisposeAsync();
        Directory.Delete(models, true);
    }

    [Fact]
    public async Task A_start_removes_temporary_files_that_crashed_writes_left_except_where_a_cli_run_trains()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-leftovers-" + Guid.NewGuid().ToString("N")[..8]);
        var left = Path.Combine(models, "crashed", ".last.ckpt.0123abcd.tmp");
        var training = Path.Combine(models, "training", ".best.ckpt.4567ef01.tmp");
        var other = Path.Combine(models, "crashed", "notes.txt");
        foreach (var file in new[] { left, training, other })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, "x");
        }
        using (Engine.Checkpoints.ModelFolder.HoldForTraining(Path.GetDirectoryName(training)!)) // a `charrnn train` mid-write there
        {
            var server = Hosting.ServerHost.Build([], Options(models), _ => { });
            await Hosting.ServerHost.StartAsync(server);
            await server.StopAsync();
            await server.DisposeAsync();
        }
        Assert.False(File.Exists(left));
        Assert.True(File.Exists(training));
        Assert.True(File.Exists(other)); // only the temporary files of its own writes
        Directory.Delete(models, true);
    }

    [Fact]
    public Task A_delete_cut_short_after_its_rename_leaves_no_owner_row_for_the_next_model_of_that_name() =>
        // kill -9 between Delete's rename and its ForgetModel: the folder is aside, the row still there.
        StartAfterCallsCutShort(".deleting-", "last.ckpt");

    [Fact]
    public Task A_delete_left_hidden_and_marked_unrecorded_leaves_a_model_made_outside_the_server_at_its_name_nobodys() =>
        // The delete's database write and its move back both refused: the folder aside carries the mark that says so.
        StartAfterCallsCutShort(".deleting-", ModelStore.UnrecordedDeleteMarker);

    [Fact]
    public Task An_import_cut_short_leaves_no_folder_and_no_owner_row_for_a_model_it_never_stored() =>
        // kill -9 between StoreImported's row and its rename: the import's folder still staged, the row already there.
        StartAfterCallsCutShort(".importing-", "upload.safetensors");

    /// <summary>
    /// Alice owns two models, both shared: "gone", whose folder is only <paramref name="prefix"/>gone-GUID now (holding
    /// <paramref name="leftFile"/>), as a call cut short left it; and "kept", a model, with such a folder of its own beside it.
    /// A start and stop removes both folders and gone's row (a model trained under the name later is not alice's, nor shared)
    /// and keeps kept's after an import, or after a delete whose folder is unmarked (a crash cut it short, or an older build could not
    /// remove a recorded delete's folder and the server made kept again since: a private model must stay private); after a delete
    /// marked unrecorded (<see cref="ModelStore.UnrecordedDeleteMarker"/>), kept's model was made outside the server since, and its row goes too.
    /// </summary>
    private static async Task StartAfterCallsCutShort(string prefix, string leftFile)
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-cutshort-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(models);
        var dbOptions = Microsoft.Extensions.Options.Options.Create(Options(models));
        using (var database = new Persistence.ServerDatabase(dbOptions))
        {
            foreach (var name in new[] { "gone", "kept" })
            {
                database.SetModelOwner(name, "alice", shared: true);
                var left = Path.Combine(models, $"{prefix}{name}-{Guid.NewGuid():N}");
                Directory.CreateDirectory(left);
                File.WriteAllText(Path.Combine(left, leftFile), "x");
            }
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.CreateDirectory(Path.Combine(models, "kept"));
        File.WriteAllText(Path.Combine(models, "kept", "last.ckpt"), "x");
        try
        {
            await StartAndStop(models);
            Assert.Empty(Directory.GetDirectories(models, prefix + "*"));
            using var reopened = new Persistence.ServerDatabase(dbOptions);
            Assert.Null(reopened.Model("gone"));
            // Beside a delete's folder marked unrecorded, the model was made outside the server (one the server makes records the delete
            // first, removing the mark): nobody's, not the deleted one's owner's.
            Assert.Equal(leftFile == ModelStore.UnrecordedDeleteMarker ? null : new Persistence.ModelRecord("kept", "alice", true), reopened.Model("kept"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(models, true);
        }
    }

    [Fact]
    public async Task A_rename_cut_short_leaves_the_model_at_one_name_with_its_owner_and_no_row_at_the_other()
    {
        // kill -9 within RenameModel: its note written and the row copied to the new name, the folder moved ("moved") or not yet ("stayed").
        var models = Path.Combine(Path.GetTempPath(), "charrnn-renamecut-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(models);
        var dbOptions = Microsoft.Extensions.Options.Options.Create(Options(models));
        var plan = new Persistence.JobRecordPlan("stateful-gru", null, new Engine.Training.TrainingOptions(), "tiny", false, false);
        using (var database = new Persistence.ServerDatabase(dbOptions))
            foreach (var (from, to, at) in new[] { ("stayed", "stayed-new", "stayed"), ("moved-old", "moved", "moved"), ("halfway", "HalfWay", (string?)null) })
            {
                database.InsertJob(new Persistence.JobRecord("j-" + from, "alice", from, "finished", plan, DateTimeOffset.UtcNow, null, DateTimeOffset.UtcNow, "", 3, 3, null));
                database.SetModelOwner(from, "alice", shared: true);
                database.CopyModel(from, to);
                var note = Path.Combine(models, $".renaming-{Guid.NewGuid():N}");
                File.WriteAllText(note, $"{from}\n{to}\n");
                // A case-only rename moves through a folder beside its note: cut short between its two moves, the folder is there.
                var folder = at == null ? note + TrainedModels.RenameNote.StopSuffix : Path.Combine(models, at);
                Directory.CreateDirectory(folder);
                File.WriteAllText(Path.Combine(folder, "last.ckpt"), "x");
            }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            await StartAndStop(models);
            Assert.Empty(Directory.GetFiles(models, ".renaming-*"));
            using var reopened = new Persistence.ServerDatabase(dbOptions);
            Assert.Equal(new Persistence.ModelRecord("stayed", "alice", true), reopened.Model("stayed")); // as before the rename
            Assert.Null(reopened.Model("stayed-new"));
            Assert.Equal(new Persistence.ModelRecord("moved", "alice", true), reopened.Model("moved")); // as after it
            Assert.Null(reopened.Model("moved-old")); // a model trained later under the old name is not alice's
            Assert.Equal(new Persistence.ModelRecord("HalfWay", "alice", true), reopened.Model("HalfWay")); // finished: at its new name
            Assert.Null(reopened.Model("halfway"));
            Assert.True(File.Exists(Path.Combine(models, "HalfWay", "last.ckpt")));
            Assert.Empty(Directory.GetFileSystemEntries(models, ".renaming-*"));
            // The jobs that trained each name the model where it is now.
            Assert.Equal(new Dictionary<string, string> { ["j-stayed"] = "stayed", ["j-moved-old"] = "moved", ["j-halfway"] = "HalfWay" },
                reopened.EndedJobs(10).ToDictionary(j => j.Id, j => j.ModelName));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(models, true);
        }
    }

    [Fact]
    public async Task A_rename_cut_short_takes_only_its_models_jobs_and_a_delete_cut_short_leaves_its_jobs_to_no_later_namesake()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-renamegone-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(models);
        var dbOptions = Microsoft.Extensions.Options.Options.Create(Options(models));
        var plan = new Persistence.JobRecordPlan("stateful-gru", null, new Engine.Training.TrainingOptions(), "tiny", false, false);
        Persistence.JobRecord Ended(string id, string model) => new(id, "alice", model, "finished", plan, DateTimeOffset.UtcNow, null, DateTimeOffset.UtcNow, "", 3, 3, null);
        using (var database = new Persistence.ServerDatabase(dbOptions))
        {
            // An earlier "taken", deleted; then the model "first" renamed to "taken", its job with it; a rename of it on to "last"
            // cut short after its folder moved.
            database.InsertJob(Ended("j-gone", "taken"), newModelOwner: "alice");
            database.ForgetDeletedModel("taken");
            database.InsertJob(Ended("j-mine", "first"), newModelOwner: "alice");
            database.CopyModel("first", "taken");
            database.FinishModelRename("first", "taken");
            database.CopyModel("taken", "last");
            File.WriteAllText(Path.Combine(models, $".renaming-{Guid.NewGuid():N}"), "taken\nlast\n");
            Directory.CreateDirectory(Path.Combine(models, "last"));
            File.WriteAllText(Path.Combine(models, "last", "last.ckpt"), "x");
            // "ghost": deleted, cut short after its folder was moved aside (its row and jobs as they were).
            database.InsertJob(Ended("j-ghost", "ghost"), newModelOwner: "alice");
            Directory.CreateDirectory(Path.Combine(models, $".deleting-ghost-{Guid.NewGuid():N}"));
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            await StartAndStop(models);
            using var reopened = new Persistence.ServerDatabase(dbOptions);
            Assert.Equal(new Dictionary<string, string> { ["j-mine"] = "last", ["j-gone"] = "taken", ["j-ghost"] = "ghost" },
                reopened.EndedJobs(10).ToDictionary(j => j.Id, j => j.ModelName));
            Assert.Empty(reopened.JobIdsOfModel("ghost")); // a model made as "ghost" later does not take it along when renamed
            Assert.Equal(["j-mine"], reopened.JobIdsOfModel("last"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(models, true);
        }
    }

    [Fact]
    public async Task A_case_only_rename_cut_short_whose_new_name_is_taken_meanwhile_keeps_its_folder_note_and_owner_until_the_name_is_free()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-renametaken-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(models);
        var dbOptions = Microsoft.Extensions.Options.Options.Create(Options(models));
        var note = Path.Combine(models, $".renaming-{Guid.NewGuid():N}");
        using (var database = new Persistence.ServerDatabase(dbOptions))
        {
            database.SetModelOwner("tiny2", "alice");
            database.CopyModel("tiny2", "TINY2");
        }
        File.WriteAllText(note, "tiny2\nTINY2\n");
        var hidden = note + TrainedModels.RenameNote.StopSuffix;
        Directory.CreateDirectory(hidden);
        File.WriteAllText(Path.Combine(hidden, "last.ckpt"), "alice's");
        // Before the next start, a charrnn train outside the server makes a model at the new name.
        Directory.CreateDirectory(Path.Combine(models, "TINY2"));
        File.WriteAllText(Path.Combine(models, "TINY2", "last.ckpt"), "another");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            await StartAndStop(models);
            Assert.True(File.Exists(note));
            Assert.Equal("alice's", File.ReadAllText(Path.Combine(hidden, "last.ckpt")));
            using (var reopened = new Persistence.ServerDatabase(dbOptions))
                Assert.Equal("alice", reopened.Model("tiny2")?.Owner);

            // The name freed, the next start finishes the rename: the model at its new name with its owner.
            Directory.Move(Path.Combine(models, "TINY2"), Path.Combine(models, "other"));
            await StartAndStop(models);
            Assert.False(File.Exists(note));
            Assert.Equal("alice's", File.ReadAllText(Path.Combine(models, "TINY2", "last.ckpt")));
            using var finished = new Persistence.ServerDatabase(dbOptions);
            Assert.Equal("alice", finished.Model("TINY2")?.Owner);
            Assert.Null(finished.Model("tiny2"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(models, true);
        }
    }

    /// <summary>Starts a server on <paramref name="models"/> (its start-up recovery runs) and stops it, its database closed.</summary>
    private static async Task StartAndStop(string models)
    {
        var server = Hosting.ServerHost.Build([], Options(models), _ => { });
        await Hosting.ServerHost.StartAsync(server);
        await server.StopAsync();
        await server.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    private static (string Root, Hosting.ServerOptions Options) FolderWithTinyCorpus(string name)
    {
        var root = Path.Combine(Path.GetTempPath(), $"charrnn-{name}-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(root, "corpora"));
        File.WriteAllText(Path.Combine(root, "corpora", "tiny.txt"), ServerFixture.TinyText);
        var options = Options(Path.Combine(root, "models"));
        options.CorporaDirectory = Path.Combine(root, "corpora");
        return (root, options);
    }

    /// <summary>A tiny GRU trained for five steps on a server of its own, which is then stopped; its events as the training call saw them.</summary>
    private static async Task<(string Root, Hosting.ServerOptions Options, List<JobEvent> Trained)> FiveStepsTrained(string model)
    {
        var (root, options) = FolderWithTinyCorpus(model);
        var request = new StartJobRequest { ModelName = model, Architecture = "stateful-gru", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = 5, Epochs = 1, SampleChars = 0 } };
        request.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 8, ["bs"] = 4 });
        return (root, options, await WithServer(options, async training => await training.Train(request).Events()));
    }

    /// <summary>Starts a server, lets <paramref name="use"/> call it, and stops it as SIGTERM does (a running job checkpoints and resumes at the next start).</summary>
    private static Task<T> WithServer<T>(Hosting.ServerOptions options, Func<Training.TrainingClient, Task<T>> use) =>
        WithChannel(options, channel => use(new Training.TrainingClient(channel)));

    /// <summary>As <see cref="WithServer"/>, for a test that calls more than Training.</summary>
    private static async Task<T> WithChannel<T>(Hosting.ServerOptions options, Func<Grpc.Net.Client.GrpcChannel, Task<T>> use)
    {
        var app = Hosting.ServerHost.Build([], options, _ => { });
        try
        {
            using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(await Hosting.ServerHost.StartAsync(app));
            return await use(channel);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Ended_jobs_are_listed_and_watchable_after_a_restart()
    {
        var (root, options, trained) = await FiveStepsTrained("kept");
        Task<T> WithServer<T>(Func<Training.TrainingClient, Task<T>> use) => RestartTests.WithServer(options, use);
        var id = trained[0].JobId;

        var (listed, watched) = await WithServer(async training => (
            (await training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.Id == id),
            await training.WatchJob(new WatchJobRequest { JobId = id }).Events()));
        Assert.Equal(Job.Types.State.Finished, listed.State);
        Assert.Equal("kept", listed.ModelName);
        Assert.Equal(5, listed.Step);
        // Its history as the first server sent it: every event but progress (which is stored at most once a second), same numbers, same content.
        Assert.Equal(trained.Where(e => e.EventCase != JobEvent.EventOneofCase.Progress).Select(e => e.ToString()),
                     watched.Where(e => e.EventCase != JobEvent.EventOneofCase.Progress).Select(e => e.ToString()));
        Assert.Contains(watched, e => e.EventCase == JobEvent.EventOneofCase.Progress);
        Assert.All(watched.Where(e => e.EventCase == JobEvent.EventOneofCase.Progress),
            e => Assert.Equal(trained.Single(t => t.Sequence == e.Sequence).ToString(), e.ToString()));
        Assert.Equal(JobEvent.EventOneofCase.Finished, watched[^1].EventCase);
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task An_ended_job_names_its_model_as_renamed_and_still_does_after_a_restart()
    {
        var (root, options, trained) = await FiveStepsTrained("named-before");
        var id = trained[0].JobId;
        var renamed = await WithChannel(options, async channel =>
        {
            await new Catalog.CatalogClient(channel).RenameModelAsync(new RenameModelRequest { Name = "named-before", NewName = "named-after" });
            var training = new Training.TrainingClient(channel);
            return ((await training.GetJobAsync(new GetJobRequest { JobId = id })).ModelName,
                    (await training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.Id == id).ModelName);
        });
        Assert.Equal(("named-after", "named-after"), renamed);
        // Its stored row was renamed with the model: the next start lists it so too (and finds its checkpoint: stopped jobs look).
        var restarted = await WithServer(options, async training => (await training.GetJobAsync(new GetJobRequest { JobId = id })).ModelName);
        Assert.Equal("named-after", restarted);
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task An_ended_job_reports_the_epoch_it_ended_in_after_a_restart()
    {
        var (root, options) = FolderWithTinyCorpus("epochs");
        var request = new StartJobRequest { ModelName = "epochs", Architecture = "stateful-gru", CorpusName = "tiny", Options = new TrainingOptions { Epochs = 2, SampleChars = 0 } };
        request.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 8, ["bs"] = 4 });
        var before = await WithServer(options, async training =>
        {
            var id = (await training.Train(request).Events())[0].JobId;
            return await training.GetJobAsync(new GetJobRequest { JobId = id });
        });
        Assert.Equal(2, before.Epoch);

        // The jobs table has no epoch: the restart reads it from the job's stored end, not its (thinned) progress.
        var (got, listed) = await WithServer(options, async training => (
            await training.GetJobAsync(new GetJobRequest { JobId = before.Id }),
            (await training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.Id == before.Id)));
        Assert.Equal(2, got.Epoch);
        Assert.Equal(2, listed.Epoch);
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task An_ended_resume_job_lists_its_architecture_and_creation_after_a_restart()
    {
        var (root, options, _) = await FiveStepsTrained("resumed-arch");
        var resumed = await WithServer(options, async training =>
            await training.Train(new StartJobRequest { ModelName = "resumed-arch", Resume = true, Options = new TrainingOptions { MaxSteps = 7 } }).Events());
        var id = resumed[0].JobId;
        var before = await WithServer(options, async training => await training.GetJobAsync(new GetJobRequest { JobId = id }));
        // The job's row says it, so the start reads no checkpoint for it (and knows it with the checkpoint gone).
        File.Delete(Path.Combine(options.ModelsDirectory, "resumed-arch", "last.ckpt"));
        var after = await WithServer(options, async training => await training.GetJobAsync(new GetJobRequest { JobId = id }));
        Assert.Equal("stateful-gru", after.Architecture);
        Assert.Equal(before.Created, after.Created);
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task An_ended_jobs_warnings_are_listed_after_a_restart()
    {
        var (root, options) = FolderWithTinyCorpus("warned");
        var request = new StartJobRequest { ModelName = "warned", Architecture = "stateful-gru", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = 2, Epochs = 1, SampleChars = 0, LearningRate = { 0 } } };
        request.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 8, ["bs"] = 4 });
        var before = await WithServer(options, async training =>
        {
            var id = (await training.Train(request).Events())[0].JobId;
            return await training.GetJobAsync(new GetJobRequest { JobId = id });
        });
        Assert.StartsWith("learning_rate = 0: no weight will change", Assert.Single(before.Warnings));
        // Stored with the job's row: the restart does not work them out again (the plan is gone once a job ends).
        var (got, listed) = await WithServer(options, async training => (
            await training.GetJobAsync(new GetJobRequest { JobId = before.Id }),
            (await training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.Id == before.Id)));
        Assert.Equal(before.Warnings, got.Warnings);
        Assert.Equal(before.Warnings, listed.Warnings);
        Assert.Contains(Assert.Single(before.WarningParts).Parts, p => p.Setting == "learning_rate");
        Assert.Equal(before.WarningParts, got.WarningParts); // the parts too: a client still words them its own way
        Assert.Equal(before.WarningParts, listed.WarningParts);
        Directory.Delete(root, true);
    }

    /// <summary>A models folder whose database has <paramref name="rows"/> (each a tiny new-model job of 3 steps), as a server left them.</summary>
    private static (string Root, Hosting.ServerOptions Options) FolderWithJobRows(string name, Func<Persistence.JobRecordPlan, Persistence.JobRecord[]> rows)
    {
        var (root, options) = FolderWithTinyCorpus(name);
        Directory.CreateDirectory(options.ModelsDirectory);
        var plan = new Persistence.JobRecordPlan("stateful-gru", new Dictionary<string, double> { ["n_hidden"] = 8, ["bs"] = 4 },
            new Engine.Training.TrainingOptions { MaxSteps = 3, SampleChars = 0 }, "tiny", false, false);
        using var database = new Persistence.ServerDatabase(Microsoft.Extensions.Options.Options.Create(options));
        foreach (var row in rows(plan)) database.InsertJob(row);
        return (root, options);
    }

    [Fact]
    public async Task A_start_deletes_the_empty_write_check_a_killed_charrnn_train_left_in_a_model_folder()
    {
        var (root, options) = FolderWithTinyCorpus("write-check");
        var folder = Directory.CreateDirectory(Path.Combine(options.ModelsDirectory, "killed")).FullName;
        var noSuchProcess = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max"), System.Globalization.CultureInfo.InvariantCulture); // ids stay below it
        var stale = Path.Combine(folder, Engine.Checkpoints.ModelFolder.WriteCheckFile(noSuchProcess));
        var running = Path.Combine(folder, Engine.Checkpoints.ModelFolder.WriteCheckFile(Environment.ProcessId));
        File.WriteAllBytes(stale, []);
        File.WriteAllBytes(running, []);

        await WithServer(options, _ => Task.FromResult(0));
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(running)); // its process may still be checking the folder
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task The_job_that_was_running_resumes_before_older_queued_ones()
    {
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-5);
        var (root, options) = FolderWithJobRows("recover-order", plan => [
            new Persistence.JobRecord("j-waited", "local", "waited", "queued", plan, t0, null, null, "", 0, 0, null),
            new Persistence.JobRecord("j-ran", "local", "ran", "running", plan, t0.AddMinutes(1), t0.AddMinutes(2), null, "", 0, 0, null)]);
        var started = await WithServer(options, async training =>
        {
            var times = new Dictionary<string, DateTimeOffset>();
            foreach (var id in new[] { "j-waited", "j-ran" })
                times[id] = (await training.WatchJob(new WatchJobRequest { JobId = id }).Events()).Last(e => e.EventCase == JobEvent.EventOneofCase.Started).Time.ToDateTimeOffset();
            return times;
        });
        Assert.True(started["j-ran"] < started["j-waited"], $"the job that was running started at {started["j-ran"]:HH:mm:ss.fff}, the queued one at {started["j-waited"]:HH:mm:ss.fff}");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(root, true);
    }

    /// <summary>Makes the database refuse, with <paramref name="error"/>, the updates of its jobs table <paramref name="when"/> says (SQL on old and new).</summary>
    private static void RefuseUpdates(Hosting.ServerOptions options, string when, string error)
    {
        using var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(options.ModelsDirectory, "charrnn.db")};Pooling=False");
        other.Open();
        using var trigger = other.CreateCommand();
        trigger.CommandText = $"CREATE TRIGGER refuse BEFORE UPDATE ON jobs WHEN {when} BEGIN SELECT RAISE(ABORT, '{error}'); END;";
        trigger.ExecuteNonQuery();
    }

    [Fact]
    public async Task A_job_whose_recovery_failed_and_whose_failure_cannot_be_stored_either_is_listed_failed_saying_why()
    {
        var (root, options) = FolderWithJobRows("recover-full", plan => [
            new Persistence.JobRecord("j-full", "local", "full", "queued", plan, DateTimeOffset.UtcNow, null, null, "", 0, 0, null)]);
        RefuseUpdates(options, "old.id = 'j-full'", "database or disk is full"); // every write of its row, its failure's too, as on a full disk

        var (listed, got, watched, another) = await WithServer(options, async training => (
            (await training.ListJobsAsync(new ListJobsRequest())).Jobs.SingleOrDefault(j => j.Id == "j-full"),
            await training.GetJobAsync(new GetJobRequest { JobId = "j-full" }),
            await training.WatchJob(new WatchJobRequest { JobId = "j-full" }).Events(),
            await Calls.Fails(() => training.CheckJobAsync(new StartJobRequest { ModelName = "full", Architecture = "stateful-gru", CorpusName = "tiny" }).ResponseAsync)));
        Assert.NotNull(listed);
        Assert.Equal(Job.Types.State.Failed, listed.State);
        Assert.StartsWith("could not be recovered after a restart: ", listed.Reason);
        Assert.Contains("database or disk is full", listed.Reason);
        Assert.Contains("the next start tries again", listed.Reason);
        Assert.Equal(listed.Reason, got.Reason);
        Assert.Equal(listed.Reason, watched[^1].Failed.Reason);
        // Its row is still queued, so the next start recovers it: a job on its model meanwhile would be a second one.
        Assert.Equal(StatusCode.FailedPrecondition, another.StatusCode);
        Assert.StartsWith("Model 'full' has job j-full, which could not be recovered at this server's start", another.Status.Detail);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task A_model_whose_unrecovered_jobs_failure_could_not_be_stored_is_not_renamed_nor_is_a_model_renamed_to_its_name()
    {
        var (root, options, _) = await FiveStepsTrained("stuck");
        CopyFolder(Path.Combine(options.ModelsDirectory, "stuck"), Path.Combine(options.ModelsDirectory, "other"));
        // Two jobs queued at the stop, on a corpus gone since: a resume of "stuck", and a new model "ghost" that has no folder yet.
        var gone = new Persistence.JobRecordPlan("stateful-gru", new Dictionary<string, double> { ["n_hidden"] = 8, ["bs"] = 4 },
            new Engine.Training.TrainingOptions { MaxSteps = 3, SampleChars = 0 }, "gone", false, false);
        using (var database = new Persistence.ServerDatabase(Microsoft.Extensions.Options.Options.Create(options)))
        {
            database.InsertJob(new Persistence.JobRecord("j-stuck", "local", "stuck", "queued", gone with { Architecture = null, HyperParameters = null, Resume = true },
                DateTimeOffset.UtcNow, null, null, "", 0, 0, null));
            database.InsertJob(new Persistence.JobRecord("j-ghost", "local", "ghost", "queued", gone, DateTimeOffset.UtcNow, null, null, "", 0, 0, null));
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        RefuseUpdates(options, "old.id IN ('j-stuck', 'j-ghost')", "database or disk is full"); // their failures are not stored

        var (from, to, renamed) = await WithChannel(options, async channel =>
        {
            var catalog = new Catalog.CatalogClient(channel);
            return (
                // Renamed, the row would name no model: the next start would fail the job, or make a new model under the old name.
                await Calls.Fails(() => catalog.RenameModelAsync(new RenameModelRequest { Name = "stuck", NewName = "moved" }).ResponseAsync),
                // Renamed to the name, the next start would resume "other" with ghost's job.
                await Calls.Fails(() => catalog.RenameModelAsync(new RenameModelRequest { Name = "other", NewName = "Ghost" }).ResponseAsync),
                await catalog.RenameModelAsync(new RenameModelRequest { Name = "other", NewName = "free" }));
        });
        Assert.Equal(StatusCode.FailedPrecondition, from.StatusCode);
        Assert.Equal("Model 'stuck' has job j-stuck, which could not be recovered at this server's start, and its failure could not be stored either (GetJob says why): " +
                     "the next start tries it again. Free disk space and restart the server before renaming this model.", from.Status.Detail);
        var info = from.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!;
        Assert.Equal(("stuck", "j-stuck"), (info.Metadata["model"], info.Metadata["job_id"]));
        Assert.Equal(StatusCode.FailedPrecondition, to.StatusCode);
        Assert.StartsWith("Model 'Ghost' has job j-ghost, which could not be recovered at this server's start,", to.Status.Detail);
        Assert.EndsWith("restart the server before renaming a model to 'Ghost'.", to.Status.Detail);
        Assert.Equal("free", renamed.Name); // a rename between other names goes on
        Assert.True(File.Exists(Path.Combine(options.ModelsDirectory, "stuck", "last.ckpt")));
        Assert.False(Directory.Exists(Path.Combine(options.ModelsDirectory, "Ghost")));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(root, true);
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    [Fact]
    public async Task A_database_error_recovering_one_job_fails_that_job_and_the_server_starts()
    {
        var (root, options) = FolderWithJobRows("recover-db", plan => [
            new Persistence.JobRecord("j-bad", "local", "bad", "queued", plan, DateTimeOffset.UtcNow, null, null, "", 0, 0, null),
            new Persistence.JobRecord("j-good", "local", "good", "queued", plan, DateTimeOffset.UtcNow, null, null, "", 0, 0, null)]);
        // Requeuing j-bad's row fails, as a damaged page or a full disk would.
        RefuseUpdates(options, "old.id = 'j-bad' AND new.state = 'queued'", "disk I/O error");

        var jobs = await WithServer(options, async training =>
        {
            var good = await training.WatchJob(new WatchJobRequest { JobId = "j-good" }).Events();
            Assert.Equal(JobEvent.EventOneofCase.Finished, good[^1].EventCase); // the other job ran
            return (await training.ListJobsAsync(new ListJobsRequest())).Jobs;
        });
        var bad = jobs.Single(j => j.Id == "j-bad");
        Assert.Equal(Job.Types.State.Failed, bad.State);
        Assert.Contains("could not be recovered after a restart", bad.Reason);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task An_ended_job_whose_end_was_not_stored_ends_as_its_row_says()
    {
        var (root, options, trained) = await FiveStepsTrained("no-end");
        var id = trained[0].JobId;

        // As a kill -9 between the row's update and the event's write would leave it.
        DeleteStoredEvent(options, id, trained[^1].Sequence);

        var watched = await WithServer(options, async training => await training.WatchJob(new WatchJobRequest { JobId = id }).Events());
        Assert.Equal(JobEvent.EventOneofCase.Finished, watched[^1].EventCase);
        Assert.Equal(trained[^1].Finished.Reason, watched[^1].Finished.Reason);
        Assert.Equal(5, watched[^1].Step);
        Assert.Equal(trained.Where(e => e.EventCase == JobEvent.EventOneofCase.Started).Select(e => e.ToString()),
                     watched.Where(e => e.EventCase == JobEvent.EventOneofCase.Started).Select(e => e.ToString()));
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task A_job_stopped_on_request_whose_end_was_not_stored_still_says_on_request_after_a_restart()
    {
        var (root, options) = FolderWithTinyCorpus("no-stop-end");
        var request = new StartJobRequest
        {
            ModelName = "no-stop-end", Architecture = "stateful-gru", CorpusName = "tiny",
            Options = new TrainingOptions { MaxSteps = 1_000_000, Epochs = 1000, SampleChars = 0, ProgressIntervalSeconds = 0.05 },
        };
        request.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 8, ["bs"] = 4 });
        var (id, stopped) = await WithServer(options, async training =>
        {
            var job = await training.StartJobAsync(request);
            var events = new List<JobEvent>();
            var stopAsked = false;
            await foreach (var e in training.WatchJob(new WatchJobRequest { JobId = job.Id }).ResponseStream.ReadAllAsync())
            {
                events.Add(e);
                if (e.EventCase == JobEvent.EventOneofCase.Progress && !stopAsked)
                {
                    stopAsked = true;
                    await training.StopJobAsync(new StopJobRequest { JobId = job.Id });
                }
            }
            return (job.Id, events[^1]);
        });
        Assert.Equal(JobEvent.EventOneofCase.Stopped, stopped.EventCase);
        Assert.True(stopped.Stopped.OnRequest);

        // As a kill -9 between the row's update and the event's write would leave it: the end is rebuilt from the row.
        DeleteStoredEvent(options, id, stopped.Sequence);

        var watched = await WithServer(options, async training => await training.WatchJob(new WatchJobRequest { JobId = id }).Events());
        Assert.Equal(JobEvent.EventOneofCase.Stopped, watched[^1].EventCase);
        Assert.Equal(stopped.Stopped.Reason, watched[^1].Stopped.Reason);
        Assert.True(watched[^1].Stopped.OnRequest); // a client reattaching is told someone stopped it, not that it ran out
        Directory.Delete(root, true);
    }

    /// <summary>Deletes one of a job's stored events from the database of a stopped server.</summary>
    private static void DeleteStoredEvent(Hosting.ServerOptions options, string jobId, long sequence)
    {
        using var database = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(options.ModelsDirectory, "charrnn.db")};Pooling=False");
        database.Open();
        using var delete = database.CreateCommand();
        delete.CommandText = "DELETE FROM job_events WHERE job_id = $id AND sequence = $last";
        delete.Parameters.AddWithValue("$id", jobId);
        delete.Parameters.AddWithValue("$last", sequence);
        Assert.Equal(1, delete.ExecuteNonQuery());
    }

    private static Metadata As(string key) => new() { { "authorization", "Bearer " + key } };

    /// <summary>
    /// A long job on a tiny model started with <paramref name="key"/> on a server over <paramref name="options"/>,
    /// running when that server stops (so that the next start resumes it); its id.
    /// </summary>
    private static Task<string> JobRunningAtShutdown(Hosting.ServerOptions options, string modelName, string key)
    {
        var request = new StartJobRequest
        {
            ModelName = modelName, Architecture = "stateful-gru", CorpusName = "tiny",
            Options = new TrainingOptions { MaxSteps = 1_000_000, Epochs = 1000, SampleChars = 0, ProgressIntervalSeconds = 0.05 },
        };
        request.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 8, ["bs"] = 4 });
        return WithServer(options, async training =>
        {
            var job = await training.StartJobAsync(request, As(key));
            await foreach (var e in training.WatchJob(new WatchJobRequest { JobId = job.Id }, As(key)).ResponseStream.ReadAllAsync())
                if (e.EventCase == JobEvent.EventOneofCase.Progress) break; // running: the restart resumes it
            return job.Id;
        });
    }

    /// <summary>
    /// A folder with the tiny corpus and a keys file with key 'temp' (and an admin key named <paramref name="admin"/> unless empty),
    /// and a job of 'temp's on model <paramref name="model"/> running when its server stopped.
    /// </summary>
    private static async Task<(string Root, Hosting.ServerOptions Options, string KeysFile, string Temp, string Admin, string JobId)> TempKeysJobRunningAtShutdown(string model, string admin = "")
    {
        var (root, options) = FolderWithTinyCorpus(model);
        var keysFile = Path.Combine(root, "keys.json");
        var temp = Security.ApiKeyStore.Load(keysFile).Add("temp", admin: false);
        var adminKey = admin.Length > 0 ? Security.ApiKeyStore.Load(keysFile).Add(admin, admin: true) : "";
        options.KeysFile = keysFile;
        return (root, options, keysFile, temp, adminKey, await JobRunningAtShutdown(options, model, temp));
    }

    /// <summary>A job's events, watched with <paramref name="key"/> on a server over <paramref name="options"/>, to its end.</summary>
    private static Task<List<JobEvent>> EventsAfterRestart(Hosting.ServerOptions options, string id, string key) => WithServer(options, async training =>
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await training.WatchJob(new WatchJobRequest { JobId = id }, As(key), cancellationToken: patience.Token).Events(patience.Token);
    });

    [Fact]
    public async Task A_job_recovered_after_a_restart_still_stops_when_the_key_that_started_it_is_rotated()
    {
        var (root, options, keysFile, leaked, _, id) = await TempKeysJobRunningAtShutdown("rotated");
        // While the server is down the leaked key is rotated: its name, and the job's model, go to a new key.
        Assert.True(Security.ApiKeyStore.Load(keysFile).Remove("temp"));
        var rotated = Security.ApiKeyStore.Load(keysFile).Add("temp", admin: false, reuseName: true);

        var events = await EventsAfterRestart(options, id, rotated);
        Assert.Equal(JobEvent.EventOneofCase.Stopped, events[^1].EventCase);
        Assert.Equal("stopped: key 'temp' was removed", events[^1].Stopped.Reason);
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task A_job_whose_key_was_removed_while_the_server_was_down_is_stopped_at_the_start_before_it_trains()
    {
        var (root, options, keysFile, _, ops, id) = await TempKeysJobRunningAtShutdown("orphaned", admin: "ops");
        Assert.True(Security.ApiKeyStore.Load(keysFile).Remove("temp")); // while the server is down

        var events = await EventsAfterRestart(options, id, ops);
        Assert.Equal(JobEvent.EventOneofCase.Stopped, events[^1].EventCase);
        Assert.Equal("stopped: key 'temp' was removed", events[^1].Stopped.Reason);
        // Queued again at the start, then stopped: never started (the sweeper, a second or two later, stopped it once it trained).
        var sinceRestart = events.Skip(events.FindLastIndex(e => e.EventCase == JobEvent.EventOneofCase.Queued)).Select(e => e.EventCase).ToList();
        Assert.Equal([JobEvent.EventOneofCase.Queued, JobEvent.EventOneofCase.Stopped], sinceRestart);
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task A_keys_file_caught_half_rewritten_at_the_start_does_not_stop_a_valid_keys_job()
    {
        var (root, options, keysFile, temp, _, id) = await TempKeysJobRunningAtShutdown("rewritten", admin: "ops");
        var whole = File.ReadAllText(keysFile);
        // An editor rewriting the file in place, caught at the start with 'ops' written and 'temp' not yet.
        var entries = System.Text.Json.Nodes.JsonNode.Parse(whole)!.AsArray();
        entries.Remove(entries.Single(e => (string?)e!["name"] == "temp"));
        File.WriteAllText(keysFile, entries.ToJsonString());

        var log = new CapturedLog();
        var app = Hosting.ServerHost.Build([], options, l => l.AddProvider(log));
        try
        {
            var starting = Task.Run(() => Hosting.ServerHost.StartAsync(app)); // the start waits in the recovery: on another thread
            for (var waited = 0; waited < 30_000 && log.With("reading it again before stopping them").Count == 0 && !starting.IsCompleted; waited += 10)
                await Task.Delay(10);
            File.WriteAllText(keysFile, whole); // the editor's write ends: 'temp' is there
            using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(await starting);
            var training = new Training.TrainingClient(channel);
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var sinceRestart = new List<JobEvent.EventOneofCase>();
            var queued = 0; // the first run's 'queued', then the restart's
            await foreach (var e in training.WatchJob(new WatchJobRequest { JobId = id }, As(temp), cancellationToken: patience.Token).ResponseStream.ReadAllAsync(patience.Token))
            {
                if (e.EventCase == JobEvent.EventOneofCase.Queued) { queued++; sinceRestart.Clear(); }
                sinceRestart.Add(e.EventCase);
                if (queued == 2 && e.EventCase is JobEvent.EventOneofCase.Progress or JobEvent.EventOneofCase.Stopped or JobEvent.EventOneofCase.Failed) break;
            }
            Assert.Equal([JobEvent.EventOneofCase.Queued, JobEvent.EventOneofCase.Started, JobEvent.EventOneofCase.Progress], sinceRestart.Take(3));
            Assert.Single(log.With($"Job {id} goes on: its key ('temp') is in the keys file after all"));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task A_job_recovered_after_a_restart_gets_the_servers_cap_on_job_time()
    {
        var (root, options, _, key, _, id) = await TempKeysJobRunningAtShutdown("capped"); // a million steps, no budget, no cap
        options.Limits.MaxJobHours = 0.1 / 3600; // the next start caps a job at 0.1 s, less than it has already trained

        var events = await EventsAfterRestart(options, id, key);
        Assert.Equal(JobEvent.EventOneofCase.Stopped, events[^1].EventCase);
        Assert.StartsWith("time budget of 0.1s reached", events[^1].Stopped.Reason);
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task A_job_resumed_after_a_shutdown_keeps_one_history_and_one_end_through_later_restarts()
    {
        var (root, options) = FolderWithTinyCorpus("twice");
        Task WithServer(Func<Training.TrainingClient, Task> use) => RestartTests.WithServer(options, async t => { await use(t); return 0; });
        var request = new StartJobRequest
        {
            ModelName = "twice", Architecture = "stateful-gru", CorpusName = "tiny",
            Options = new TrainingOptions { MaxSteps = 3000, Epochs = 1000, SampleChars = 0, ProgressIntervalSeconds = 0.05 },
        };
        request.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 8, ["bs"] = 4 });
        string id = "";
        long lastSeen = -1;
        await WithServer(async training =>
        {
            id = (await training.StartJobAsync(request)).Id;
            await foreach (var e in training.WatchJob(new WatchJobRequest { JobId = id }).ResponseStream.ReadAllAsync())
            {
                lastSeen = e.Sequence;
                if (e.EventCase == JobEvent.EventOneofCase.Progress && e.Step >= 20) break;
            }
        });
        // A watcher carrying on after the restart from the last event it got: the resumed run's start and all after it, nothing seen twice.
        List<JobEvent> carriedOn = [];
        await WithServer(async training => carriedOn = await training.WatchJob(new WatchJobRequest { JobId = id, AfterSequence = lastSeen }).Events());
        Assert.All(carriedOn, e => Assert.True(e.Sequence > lastSeen));
        Assert.True(Assert.Single(carriedOn, e => e.EventCase == JobEvent.EventOneofCase.Started).Started.ResumedFromStep > 0);
        Assert.Equal(JobEvent.EventOneofCase.Finished, carriedOn[^1].EventCase);
        List<JobEvent> history = [];
        await WithServer(async training => history = await training.WatchJob(new WatchJobRequest { JobId = id }).Events());

        Assert.Equal(JobEvent.EventOneofCase.Finished, history[^1].EventCase);
        Assert.Equal(3000, history[^1].Step);
        Assert.Single(history, e => e.EventCase is JobEvent.EventOneofCase.Finished or JobEvent.EventOneofCase.Stopped or JobEvent.EventOneofCase.Failed);
        var starts = history.Where(e => e.EventCase == JobEvent.EventOneofCase.Started).ToList();
        Assert.Equal(2, starts.Count);
        var resumedFrom = starts[1].Started.ResumedFromStep;
        Assert.True(resumedFrom >= 20, $"resumed from {resumedFrom}");
        // One curve: nothing the first run sent past the step the second resumed from, steps rising throughout.
        Assert.DoesNotContain(history.TakeWhile(e => e != starts[1]), e => e.Step > resumedFrom);
        var steps = history.Where(e => e.EventCase == JobEvent.EventOneofCase.Progress).Select(e => e.Step).ToList();
        Assert.Equal(steps.Order(), steps);
        Assert.True(history.Zip(history.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task A_job_stopped_as_the_server_shuts_down_stays_stopped()
    {
        using var server = new ServerFixture(o => o.Threads = 1);
        var job = await StartedLongJob(server, "stop-then-quit");

        // The stop arrives while the device loop is held and shutdown begins as it is released: the loop's last
        // slice or Shutdown ends the job, and either way it must end stopped, not stay to be resumed.
        var worker = server.Services.GetRequiredService<DeviceLoop.DeviceWorker>();
        using var release = new ManualResetEventSlim();
        var held = worker.Run(() => release.Wait(TimeSpan.FromSeconds(20)));
        await server.Training.StopJobAsync(new StopJobRequest { JobId = job.Id });
        var shutdownBegun = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = server.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => shutdownBegun.TrySetResult());
        var stopping = Task.Run(server.StopServer);
        await shutdownBegun.Task.WaitAsync(TimeSpan.FromSeconds(20));
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

    /// <summary>Starts a job on <paramref name="server"/> that trains until stopped, and returns it once it has started.</summary>
    private static async Task<Job> StartedLongJob(ServerFixture server, string model)
    {
        var job = await server.Training.StartJobAsync(new StartJobRequest
        {
            ModelName = model, Architecture = "stateful-gru", CorpusName = "tiny",
            Options = new TrainingOptions { Epochs = 1000, MaxSteps = 1_000_000, SampleChars = 0 },
        });
        await foreach (var e in server.Training.WatchJob(new WatchJobRequest { JobId = job.Id }).ResponseStream.ReadAllAsync())
            if (e.EventCase == JobEvent.EventOneofCase.Started) break;
        return job;
    }

    [Fact]
    public async Task A_running_job_checkpoints_as_the_host_begins_to_stop_not_after_the_streams_have_ended()
    {
        // Played: with a client's Generate stalled (the client stopped reading), SIGTERM's shutdown waited the host's 30 s for
        // that stream, training on, and the job checkpointed only then, past docker stop's 10 s before its SIGKILL. The host
        // calls StoppingAsync of its lifecycle services before it waits for any stream: the job's checkpoint must come there.
        using var server = new ServerFixture(o => o.Threads = 1);
        var job = await StartedLongJob(server, "stops-at-once");
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var watch = server.Training.WatchJob(new WatchJobRequest { JobId = job.Id }, cancellationToken: patience.Token);
        var events = watch.ResponseStream.ReadAllAsync(patience.Token).GetAsyncEnumerator();

        foreach (var service in server.Services.GetServices<IHostedService>().OfType<IHostedLifecycleService>())
            await service.StoppingAsync(CancellationToken.None);

        while (await events.MoveNextAsync() && events.Current.EventCase != JobEvent.EventOneofCase.Stopped) { }
        Assert.Equal("server shutting down; the job resumes when the server starts again", events.Current.Stopped.Reason);
        Assert.True(events.Current.Stopped.CheckpointSaved);
        // The loop still serves what the streams need until the host stops it.
        Assert.True(server.Services.GetRequiredService<DeviceLoop.DeviceWorker>().IsAlive);
        var session = await server.Generation.Open("lstm", seed: 3);
        Assert.Equal(5, (await server.Generation.Generate(session.Id, 5)).Length);
    }

    [Fact]
    public async Task A_running_jobs_step_and_training_time_are_stored_every_few_seconds_however_rare_its_progress_events()
    {
        // What a kill -9 leaves: the row as last stored while the job ran. Progress events an hour apart must not
        // leave it an hour behind (a time budget would then train that much longer after the restart).
        var (root, options) = FolderWithTinyCorpus("rare-progress");
        var request = new StartJobRequest { ModelName = "rare-progress", Architecture = "stateful-gru", CorpusName = "tiny",
            Options = new TrainingOptions { Epochs = 10_000, SampleChars = 0, ProgressIntervalSeconds = 3600 } };
        request.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 8, ["bs"] = 4 });
        var stored = await WithServer(options, async training =>
        {
            var job = await training.StartJobAsync(request);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            (long Step, double RunSeconds) row;
            do
            {
                await Task.Delay(500);
                // Read beside the running server (its lock keeps a second ServerDatabase out).
                using var database = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(options.ModelsDirectory, "charrnn.db")};Mode=ReadOnly");
                database.Open();
                using var query = database.CreateCommand();
                query.CommandText = "SELECT step, run_seconds FROM jobs WHERE id = $id AND state = 'running'";
                query.Parameters.AddWithValue("$id", job.Id);
                using var reader = query.ExecuteReader();
                row = reader.Read() ? (reader.GetInt64(0), reader.GetDouble(1)) : (0, 0);
            } while (row.RunSeconds < 4 && DateTime.UtcNow < deadline);
            return row;
        });
        Assert.True(stored.RunSeconds >= 4, $"after up to 30 s of training the row says {stored.RunSeconds:F1} s trained, step {stored.Step}");
        Assert.True(stored.Step > 1, $"the row's step is {stored.Step}");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(root, true);
    }
}
