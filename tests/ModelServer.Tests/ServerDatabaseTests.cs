namespace CharRnn.ModelServer.Tests;

/// <summary>The server database on its own: a job's stored training time, an older database gaining a column, a row that cannot be stored.</summary>
public class ServerDatabaseTests
{
    [Fact]
    public void An_older_database_marks_the_jobs_that_ended_before_their_names_model_row_as_an_earlier_models()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-db-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(models);
        var options = Microsoft.Extensions.Options.Options.Create(new Hosting.ServerOptions { ModelsDirectory = models });
        var plan = new Persistence.JobRecordPlan("stateful-gru", null, new Engine.Training.TrainingOptions(), "tiny", false, false);
        using (var database = new Persistence.ServerDatabase(options))
        {
            // j-old trained a model "m" deleted before model_gone was kept; j-new the "m" made since (its row younger than j-old's end).
            database.InsertJob(new Persistence.JobRecord("j-old", "local", "m", "queued", plan, DateTimeOffset.UtcNow, null, null, "", 0, 0, null));
            database.UpdateJob("j-old", "finished", "done", 3, 3, null, DateTimeOffset.UtcNow.AddHours(-2), DateTimeOffset.UtcNow.AddHours(-1), TimeSpan.FromSeconds(1));
            database.InsertJob(new Persistence.JobRecord("j-new", "local", "m", "queued", plan, DateTimeOffset.UtcNow, null, null, "", 0, 0, null), newModelOwner: "local");
            database.UpdateJob("j-new", "finished", "done", 3, 3, null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(1), TimeSpan.FromSeconds(1));
        }
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(models, "charrnn.db")};Pooling=False"))
        {
            old.Open();
            using var drop = old.CreateCommand();
            drop.CommandText = "ALTER TABLE jobs DROP COLUMN model_gone"; // as a database from before it
            drop.ExecuteNonQuery();
        }
        using (var reopened = new Persistence.ServerDatabase(options))
        {
            Assert.Equal(["j-new"], reopened.JobIdsOfModel("m"));
            reopened.FinishModelRename("m", "m2");
            Assert.Equal(new Dictionary<string, string> { ["j-old"] = "m", ["j-new"] = "m2" }, reopened.EndedJobs(10).ToDictionary(j => j.Id, j => j.ModelName));
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(models, true);
    }

    [Fact]
    public void An_older_database_marks_the_jobs_of_a_model_deleted_before_it_as_an_earlier_models_though_no_row_names_it_yet()
    {
        // Before model_gone a rename told a deleted model's jobs apart by time, against the row a later model of the name makes
        // (at its first job, import or rename): a database upgraded while no such row exists yet must not lose that.
        var models = Path.Combine(Path.GetTempPath(), "charrnn-db-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(models);
        Directory.CreateDirectory(Path.Combine(models, "kept")); // a model made outside the server (no row), resumed on it
        var options = Microsoft.Extensions.Options.Options.Create(new Hosting.ServerOptions { ModelsDirectory = models });
        var plan = new Persistence.JobRecordPlan("stateful-gru", null, new Engine.Training.TrainingOptions(), "tiny", false, false);
        using (var database = new Persistence.ServerDatabase(options))
        {
            foreach (var (id, model) in new[] { ("j-gone", "gone"), ("j-kept", "kept") })
            {
                database.InsertJob(new Persistence.JobRecord(id, "local", model, "queued", plan, DateTimeOffset.UtcNow.AddHours(-3), null, null, "", 0, 0, null));
                database.UpdateJob(id, "finished", "done", 3, 3, null, DateTimeOffset.UtcNow.AddHours(-2), DateTimeOffset.UtcNow.AddHours(-1), TimeSpan.FromSeconds(1));
            }
        }
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(models, "charrnn.db")};Pooling=False"))
        {
            old.Open();
            using var drop = old.CreateCommand();
            drop.CommandText = "ALTER TABLE jobs DROP COLUMN model_gone"; // as a database from before it, "gone" deleted (folder and row) under it
            drop.ExecuteNonQuery();
        }
        using (var reopened = new Persistence.ServerDatabase(options))
        {
            Assert.Empty(reopened.JobIdsOfModel("gone"));
            Assert.Equal(["j-kept"], reopened.JobIdsOfModel("kept"));
            // A new "gone", made and renamed since, leaves the deleted one's job behind, as the rename of the older server did.
            reopened.InsertJob(new Persistence.JobRecord("j-new", "local", "gone", "queued", plan, DateTimeOffset.UtcNow, null, null, "", 0, 0, null), newModelOwner: "local");
            reopened.UpdateJob("j-new", "finished", "done", 3, 3, null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(1), TimeSpan.FromSeconds(1));
            reopened.FinishModelRename("gone", "g2");
            Assert.Equal(new Dictionary<string, string> { ["j-gone"] = "gone", ["j-new"] = "g2", ["j-kept"] = "kept" }, reopened.EndedJobs(10).ToDictionary(j => j.Id, j => j.ModelName));
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(models, true);
    }

    [Fact]
    public void A_jobs_training_time_is_kept_for_its_time_budget_and_an_older_database_gains_the_column()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-db-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(models);
        // A database from before run_seconds: the jobs table without it.
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(models, "charrnn.db")}"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE jobs(id TEXT PRIMARY KEY, owner TEXT NOT NULL, model_name TEXT NOT NULL, state TEXT NOT NULL, plan TEXT NOT NULL,
                    created TEXT NOT NULL, started TEXT, ended TEXT, reason TEXT NOT NULL DEFAULT '', step INTEGER NOT NULL DEFAULT 0,
                    total_steps INTEGER NOT NULL DEFAULT 0, best_valid_loss REAL);
                """;
            create.ExecuteNonQuery();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var options = Microsoft.Extensions.Options.Options.Create(new Hosting.ServerOptions { ModelsDirectory = models });
        using (var database = new Persistence.ServerDatabase(options))
        {
            var plan = new Persistence.JobRecordPlan("stateful-gru", null, new Engine.Training.TrainingOptions(), "tiny", false, false);
            database.InsertJob(new Persistence.JobRecord("j-1", "local", "m", "queued", plan, DateTimeOffset.UtcNow, null, null, "", 0, 0, null));
            database.UpdateJob("j-1", "running", "", 10, 100, null, DateTimeOffset.UtcNow, null, TimeSpan.FromSeconds(42));
            database.UpdateJob("j-1", "running", "", 11, 100, null, null, null, TimeSpan.FromSeconds(5)); // a stale write never takes time back
            database.InsertJob(new Persistence.JobRecord("j-2", "local", "m2", "queued", plan, DateTimeOffset.UtcNow, null, null, "", 0, 0, null));
            database.UpdateJob("j-2", "finished", "done", 20, 20, 1.5, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, TimeSpan.FromSeconds(9));
            database.UpdateProgress("j-2", 17, 20, 1.7, TimeSpan.FromSeconds(8)); // written late, in the background: the end stands
            database.UpdateProgress("j-1", 12, 100, null, TimeSpan.FromSeconds(43));
            database.InsertJob(new Persistence.JobRecord("j-3", "local", "m3", "queued", plan, DateTimeOffset.UtcNow, null, null, "", 0, 0, null));
            database.UpdateJob("j-3", "stopped", "stopped by key 'local'", 3, 20, null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, TimeSpan.FromSeconds(1),
                stoppedOnRequest: true);
        }
        using (var reopened = new Persistence.ServerDatabase(options))
        {
            var running = reopened.UnfinishedJobs().Single(j => j.Id == "j-1");
            Assert.Equal((12L, 43.0), (running.Step, running.RunSeconds));
            var ended = reopened.EndedJobs(10).Single(j => j.Id == "j-2");
            Assert.Equal(("finished", 20L, 1.5), (ended.State, ended.Step, ended.BestValidLoss));
            Assert.False(ended.StoppedOnRequest);
            Assert.True(reopened.EndedJobs(10).Single(j => j.Id == "j-3").StoppedOnRequest); // the column an older database gains
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(models, true);
    }

    [Fact]
    public void A_job_whose_model_owner_cannot_be_stored_is_not_stored_either()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-db-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(models);
        var options = Microsoft.Extensions.Options.Options.Create(new Hosting.ServerOptions { ModelsDirectory = models });
        try
        {
            using (var database = new Persistence.ServerDatabase(options))
            {
                using (var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(models, "charrnn.db")};Pooling=False"))
                {
                    other.Open();
                    using var trigger = other.CreateCommand(); // the second write fails (a full disk, an I/O error)
                    trigger.CommandText = "CREATE TRIGGER refuse BEFORE INSERT ON models BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;";
                    trigger.ExecuteNonQuery();
                }
                var plan = new Persistence.JobRecordPlan("stateful-gru", null, new Engine.Training.TrainingOptions(), "tiny", false, false);
                Assert.ThrowsAny<Exception>(() => database.InsertJob(
                    new Persistence.JobRecord("j-1", "alice", "m", "queued", plan, DateTimeOffset.UtcNow, null, null, "", 0, 0, null), newModelOwner: "alice"));
                Assert.Empty(database.UnfinishedJobs()); // else a restart would run a job its caller was told had failed
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(models, true);
        }
    }
}
