using System.Text;
using CharRnn.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

[Collection(ServerCollection.Name)]
public class CatalogTests(ServerFixture server)
{
    [Fact]
    public async Task Architectures_come_with_their_hyperparameter_specs_and_server_caps()
    {
        var response = await server.Catalog.ListArchitecturesAsync(new ListArchitecturesRequest());
        Assert.Equal(CharRnn.Engine.Models.Architectures.All.Select(a => a.Name), response.Architectures.Select(a => a.Name));
        var lstm = response.Architectures.Single(a => a.Name == "stateful-lstm");
        Assert.True(lstm.Stateful);
        Assert.Equal("CharSeqStatefulLSTM", lstm.LessonClass); // the notebook's name for it
        Assert.Equal("CharSeqStatefulRnn2", response.Architectures.Single(a => a.Name == "stateful-rnn-cell").LessonClass);
        Assert.Equal("nn.LSTM with n layers and dropout; the best model of the lesson (trained with SGDR).", lstm.Summary);
        var hidden = lstm.Hyperparameters.Single(p => p.Name == "n_hidden");
        Assert.Equal(512, hidden.DefaultValue);
        Assert.Equal(2048, hidden.Max); // the server's cap, below the engine's 4096
        Assert.True(hidden.CappedByServer);
        Assert.False(lstm.Hyperparameters.Single(p => p.Name == "dropout").CappedByServer);
        Assert.Equal(HyperParameterSpec.Types.Type.Int, hidden.Type);
        Assert.False(string.IsNullOrEmpty(hidden.Doc));
        var epochs = response.TrainingOptions.Single(o => o.Name == "epochs");
        Assert.Equal(10_000, epochs.Max); // max_epochs, below the engine's 100000
        Assert.True(epochs.CappedByServer);
        Assert.False(response.TrainingOptions.Single(o => o.Name == "lr").CappedByServer);
        Assert.Equal("epochs", epochs.OptionField);
        Assert.Equal("learning_rate", response.TrainingOptions.Single(o => o.Name == "lr").OptionField);
        Assert.Equal("valid_fraction", response.TrainingOptions.Single(o => o.Name == "val_fraction").OptionField);
        Assert.Equal("keep_cycle_checkpoints", response.TrainingOptions.Single(o => o.Name == "keep_cycles").OptionField);
        // The server's own options are listed with their ranges too, so a form can check them.
        var budget = response.TrainingOptions.Single(o => o.Name == "time_budget_seconds");
        Assert.Equal(("time_budget_seconds", 0, 0, 366 * 86_400.0), (budget.OptionField, budget.DefaultValue, budget.Min, budget.Max));
        var interval = response.TrainingOptions.Single(o => o.Name == "progress_interval_seconds");
        Assert.Equal(("progress_interval_seconds", 0.5, 0.05, 3600.0), (interval.OptionField, interval.DefaultValue, interval.Min, interval.Max));
        Assert.Equal(["adam", "adamw"], response.Optimizers);
        Assert.Contains("sgdr", response.ScheduleHelp);
    }

    [Fact]
    public async Task A_passage_comes_from_the_held_out_fifth_and_a_seed_repeats_it()
    {
        var request = new GetPassageRequest { CorpusName = "tiny", Length = 50, Seed = 7 };
        var passage = await server.Catalog.GetPassageAsync(request);
        Assert.InRange(passage.Text.Length, 1, 50);
        Assert.True(passage.Offset >= (int)(ServerFixture.TinyText.Length * 0.8), $"offset {passage.Offset} is in the training text");
        Assert.Equal(ServerFixture.TinyText.Substring((int)passage.Offset, passage.Text.Length), passage.Text);
        Assert.Equal(passage.Text, (await server.Catalog.GetPassageAsync(request)).Text);

        var tooLong = await Calls.Fails(() => server.Catalog.GetPassageAsync(new GetPassageRequest { CorpusName = "tiny", Length = 5001 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, tooLong.StatusCode);
        Assert.Contains("1 to 5000", tooLong.Status.Detail);
        File.WriteAllText(Path.Combine(server.Options.CorporaDirectory!, "empty.txt"), "");
        var empty = await Calls.Fails(() => server.Catalog.GetPassageAsync(new GetPassageRequest { CorpusName = "empty" }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, empty.StatusCode);
        Assert.Contains("is empty", empty.Status.Detail);
        File.Delete(Path.Combine(server.Options.CorporaDirectory!, "empty.txt"));
    }

    [Fact]
    public async Task A_passage_for_a_model_comes_from_the_end_of_its_own_corpus_that_it_held_out()
    {
        // A model that validated on the last half may be shown any of it, not only the last fifth.
        var text = string.Concat(Enumerable.Repeat("the cat sat. ", 70)) + string.Concat(Enumerable.Repeat("a dog ran. ", 80));
        File.WriteAllText(Path.Combine(server.Options.CorporaDirectory!, "halves.txt"), text);
        server.TrainOn("halves-model", new Engine.Text.Corpus("halves", text, Engine.Text.Corpus.HexSha256(Encoding.UTF8.GetBytes(text))), validFraction: 0.5);
        var offsets = new List<long>();
        for (ulong seed = 0; seed < 20; seed++)
        {
            var passage = await server.Catalog.GetPassageAsync(new GetPassageRequest { ModelName = "halves-model", Length = 40, Seed = seed });
            Assert.Equal("halves", passage.CorpusName);
            Assert.Equal(text.Substring((int)passage.Offset, passage.Text.Length), passage.Text);
            offsets.Add(passage.Offset);
        }
        Assert.All(offsets, o => Assert.True(o >= text.Length / 2, $"offset {o} is in the text the model trained on"));
        Assert.Contains(offsets, o => o < text.Length * 0.8); // its own held-out half, not the default fifth

        // Uploaded text is the copy in the model's folder, which no corpus name reaches.
        var uploaded = string.Concat(Enumerable.Repeat("xyz zyx. ", 150));
        var folder = server.TrainOn("upload-model", new Engine.Text.Corpus("upload", uploaded, Engine.Text.Corpus.HexSha256(Encoding.UTF8.GetBytes(uploaded))), validFraction: 0.2);
        File.WriteAllText(Path.Combine(folder, Engine.Checkpoints.ModelFolder.UploadedCorpusFile), uploaded);
        var fromUpload = await server.Catalog.GetPassageAsync(new GetPassageRequest { ModelName = "upload-model", Length = 40, Seed = 1 });
        Assert.Equal("upload", fromUpload.CorpusName);
        Assert.Equal(uploaded.Substring((int)fromUpload.Offset, fromUpload.Text.Length), fromUpload.Text);

        var otherCorpus = await Calls.Fails(() => server.Catalog.GetPassageAsync(new GetPassageRequest { ModelName = "halves-model", CorpusName = "tiny" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, otherCorpus.StatusCode);
        Assert.Equal("corpus_name 'tiny' is not the corpus model 'halves-model' was trained on ('halves'); leave corpus_name empty with model_name.", otherCorpus.Status.Detail);
        var noModel = await Calls.Fails(() => server.Catalog.GetPassageAsync(new GetPassageRequest { ModelName = "halves-modle" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, noModel.StatusCode);
        Assert.EndsWith("Did you mean 'halves-model'?", noModel.Status.Detail);
        File.Delete(Path.Combine(server.Options.CorporaDirectory!, "halves.txt"));
        var noCorpus = await Calls.Fails(() => server.Catalog.GetPassageAsync(new GetPassageRequest { ModelName = "halves-model" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, noCorpus.StatusCode);
        Assert.Equal("Model 'halves-model' was trained on corpus 'halves', which this server does not have; add it as halves.txt to the server's corpora folder.", noCorpus.Status.Detail);
    }

    [Fact]
    public async Task A_lowercased_model_gets_lowercased_passages_and_its_errors_name_characters_as_sent()
    {
        var text = string.Concat(Enumerable.Repeat("The Cat Sat. ", 100));
        File.WriteAllText(Path.Combine(server.Options.CorporaDirectory!, "capitals.txt"), text);
        server.TrainOn("lower-model", new Engine.Text.Corpus("capitals", text, Engine.Text.Corpus.HexSha256(Encoding.UTF8.GetBytes(text))), validFraction: 0.5, lowercase: true);
        var passage = await server.Catalog.GetPassageAsync(new GetPassageRequest { ModelName = "lower-model", Length = 40, Seed = 3 });
        Assert.Equal(text.Substring((int)passage.Offset, passage.Text.Length).ToLowerInvariant(), passage.Text); // as the model reads it

        var refused = await Calls.Fails(() => server.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = "lower-model", Prime = "\u03A9at" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("'\u03A9' (U+03A9)", refused.Status.Detail); // what was sent, not the 'ω' it became
        Assert.DoesNotContain("U+03C9", refused.Status.Detail);
        File.Delete(Path.Combine(server.Options.CorporaDirectory!, "capitals.txt"));
    }

    [Fact]
    public async Task Models_are_listed_with_details_and_history()
    {
        var models = (await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models;
        var gru = models.Single(m => m.Name == "gru");
        Assert.Equal("stateful-gru", gru.Architecture);
        Assert.True(gru.ParameterCount > 0);
        Assert.Equal("tiny", gru.CorpusName);
        Assert.True(gru.SizeBytes > 0);

        var details = await server.Catalog.GetModelAsync(new GetModelRequest { Name = "gru" });
        Assert.Equal(24, details.Hyperparameters["n_hidden"]);
        Assert.Equal("best.ckpt", details.Checkpoint);
        Assert.NotEmpty(details.History);
        // Its run ended between epoch ends with weights better than any epoch's: those are its best (best.ckpt).
        Assert.Equal(details.Summary.BestValidLoss, Math.Min(details.History.Min(h => h.ValidLoss), details.Summary.LastValidLoss));
        Assert.True(details.Summary.BestValidLoss < details.History.Min(h => h.ValidLoss));
        Assert.StartsWith("\0", details.Vocabulary);
    }

    [Fact]
    public async Task A_corrupt_model_folder_is_reported_not_fatal()
    {
        var folder = Directory.CreateDirectory(Path.Combine(server.Options.ModelsDirectory, "broken")).FullName;
        File.WriteAllText(Path.Combine(folder, "last.ckpt"), "not a checkpoint");
        try
        {
            var models = (await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models;
            Assert.Contains("not a CharRnn checkpoint", models.Single(m => m.Name == "broken").Error);
            Assert.Contains(models, m => m.Name == "gru" && m.Error == "");
            var e = await Calls.Fails(() => server.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = "broken" }).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.Contains("broken", e.Status.Detail);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public async Task A_model_folder_whose_name_the_api_refuses_is_listed_with_an_error_saying_so()
    {
        // As `charrnn train --out "models/my model"` makes it: a good model in a folder no call can name.
        var source = Path.Combine(server.Options.ModelsDirectory, "gru");
        var folder = Directory.CreateDirectory(Path.Combine(server.Options.ModelsDirectory, "my model")).FullName;
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        try
        {
            var listed = (await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "my model");
            Assert.StartsWith("the folder name 'my model' is not a valid model name (1 to 64 characters from letters", listed.Error);
            Assert.EndsWith("rename the folder to use it on this server", listed.Error);
            Assert.Equal("", listed.Architecture); // not offered as a usable model
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    /// <summary>A copy of the fixture's gru model named <paramref name="name"/>, its <paramref name="checkpoint"/> cut to 1,000 bytes (damaged).</summary>
    private string CopyOfGruCut(string name, string checkpoint)
    {
        var source = Path.Combine(server.Options.ModelsDirectory, "gru");
        var folder = Directory.CreateDirectory(Path.Combine(server.Options.ModelsDirectory, name)).FullName;
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        var cut = Path.Combine(folder, checkpoint);
        File.WriteAllBytes(cut, File.ReadAllBytes(cut)[..1000]);
        return folder;
    }

    [Fact]
    public async Task A_model_with_a_damaged_best_checkpoint_is_listed_with_a_warning_and_details_naming_last()
    {
        var folder = CopyOfGruCut("best-broken", "best.ckpt");
        try
        {
            var listed = (await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "best-broken");
            Assert.Equal("", listed.Error);
            Assert.StartsWith("best.ckpt cannot be loaded (it is damaged or truncated", listed.Warning);
            var details = await server.Catalog.GetModelAsync(new GetModelRequest { Name = "best-broken" });
            Assert.Equal("last.ckpt", details.Checkpoint); // info's "generation uses" line, as the server's loading falls back
            Assert.Equal(listed.Warning, details.Summary.Warning);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public async Task A_model_with_a_damaged_last_checkpoint_is_listed_usable_with_a_warning()
    {
        var folder = CopyOfGruCut("half-broken", "last.ckpt");
        try
        {
            var listed = (await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "half-broken");
            Assert.Equal("", listed.Error);
            Assert.Equal("stateful-gru", listed.Architecture); // generation still has best.ckpt
            Assert.StartsWith("last.ckpt cannot be loaded (it is damaged or truncated", listed.Warning);
            Assert.Equal("", (await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "gru").Warning);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public async Task Unknown_models_are_not_found()
    {
        var e = await Calls.Fails(() => server.Catalog.GetModelAsync(new GetModelRequest { Name = "nope" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains("No model 'nope'", e.Status.Detail);
    }

    [Theory]
    [InlineData("../gru")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("/etc")]
    [InlineData("")]
    public async Task Path_like_model_names_are_rejected_everywhere(string name)
    {
        foreach (var call in new Func<Task>[]
        {
            () => server.Catalog.GetModelAsync(new GetModelRequest { Name = name }).ResponseAsync,
            () => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = name }).ResponseAsync,
            () => server.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = name }).ResponseAsync,
            () => server.Training.StartJobAsync(new StartJobRequest { ModelName = name, Architecture = "stateful-gru", CorpusName = "tiny" }).ResponseAsync,
        })
        {
            var e = await Calls.Fails(call);
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains("name", e.Status.Detail);
        }
        Assert.True(Directory.Exists(Path.Combine(server.Options.ModelsDirectory, "gru")));
    }

    // Any client's learner may type the lesson's class name: told this project's name, not "is not known" alone.
    [Theory]
    [InlineData("CharSeqStatefulLSTM", " The lesson's CharSeqStatefulLSTM is stateful-lstm here.")]
    [InlineData("stateful-lsmt", " Did you mean 'stateful-lstm'?")]
    public async Task A_job_on_an_unknown_architecture_names_the_one_meant(string given, string end)
    {
        var e = await Calls.Fails(() => server.Training.StartJobAsync(new StartJobRequest { ModelName = "lesson-named", Architecture = given, CorpusName = "tiny" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith($"architecture '{given}' is not known; choose one of: char3, ", e.Status.Detail);
        Assert.Contains("stateful-lstm." + end, e.Status.Detail);
    }

    [Fact]
    public async Task Deleting_a_model_removes_it_and_open_sessions_keep_working()
    {
        server.TrainModel("doomed", "stateful-rnn", steps: 5);
        var session = await server.Generation.Open("doomed", seed: 3);
        await server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "doomed" });
        Assert.False(Directory.Exists(Path.Combine(server.Options.ModelsDirectory, "doomed")));
        Assert.DoesNotContain((await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "doomed");
        Assert.Equal(10, (await server.Generation.Generate(session.Id, 10)).Length);
        // A fork is a new session on the model: refused as OpenSession on it is.
        var fork = await Calls.Fails(() => server.Generation.ForkAsync(new ForkRequest { SessionId = session.Id }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, fork.StatusCode);
        Assert.StartsWith($"Session '{session.Id}' cannot be forked: its model 'doomed' no longer exists (it was deleted).", fork.Status.Detail);
        await server.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
        var e = await Calls.Fails(() => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "doomed" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public async Task A_delete_whose_database_write_fails_keeps_the_model_where_it_was()
    {
        // Found on a full disk: DeleteModel failed (the database could not forget the model's row), yet the model was gone from
        // every listing, its folder left aside as .deleting-NAME-GUID for the next start to delete. A trigger stands in for
        // the full disk here: it refuses the delete of this model's row as SQLite's full disk would.
        server.TrainModel("undeletable", "stateful-rnn", steps: 5);
        server.Services.GetRequiredService<Persistence.ServerDatabase>().SetModelOwner("undeletable", "local");
        using var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.Options.ModelsDirectory, "charrnn.db")};Pooling=False");
        other.Open();
        void Sql(string sql) { using var c = other.CreateCommand(); c.CommandText = sql; c.ExecuteNonQuery(); }
        Sql("CREATE TRIGGER disk_full BEFORE DELETE ON models WHEN old.name = 'undeletable' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
        try
        {
            var e = await Calls.Fails(() => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "undeletable" }).ResponseAsync);
            Assert.NotEqual(StatusCode.OK, e.StatusCode);
            Assert.Contains((await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "undeletable");
            Assert.True(File.Exists(Path.Combine(server.Options.ModelsDirectory, "undeletable", "last.ckpt")));
            Assert.Empty(Directory.GetDirectories(server.Options.ModelsDirectory, ".deleting-undeletable-*"));
        }
        finally { Sql("DROP TRIGGER disk_full"); }
        await server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "undeletable" }); // the disk has room again
        Assert.False(Directory.Exists(Path.Combine(server.Options.ModelsDirectory, "undeletable")));
    }

    [Fact]
    public async Task A_delete_or_rename_of_a_model_another_call_is_deleting_is_refused_saying_to_ask_ListModels_once_it_returns()
    {
        // A DeleteModel in flight at the moment of the second call: held here as DeleteModel holds it, so the race is no race.
        server.TrainModel("held-delete", "stateful-rnn", steps: 5);
        var jobs = server.Services.GetRequiredService<Jobs.JobQueue>();
        using (jobs.HoldForDelete("held-delete", Security.Caller.Local))
        {
            var delete = await Calls.Fails(() => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "held-delete" }).ResponseAsync);
            var rename = await Calls.Fails(() => server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "held-delete", NewName = "held-renamed" }).ResponseAsync);
            Assert.Equal((StatusCode.FailedPrecondition, "Model 'held-delete' is being deleted by another call; once that call has returned, ListModels says whether it is gone."),
                (delete.StatusCode, delete.Status.Detail));
            Assert.Equal((StatusCode.FailedPrecondition, "Model 'held-delete' is being deleted by another call; once that call has returned, ListModels says whether it is still there to rename."),
                (rename.StatusCode, rename.Status.Detail));
            foreach (var e in new[] { delete, rename })
                Assert.Equal("held-delete", e.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Metadata["model"]);
            // Neither touched it: the call holding it finds it where it was.
            Assert.True(File.Exists(Path.Combine(server.Options.ModelsDirectory, "held-delete", "last.ckpt")));
            Assert.False(Directory.Exists(Path.Combine(server.Options.ModelsDirectory, "held-renamed")));
        }
        await server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "held-delete" }); // once it has returned
        Assert.DoesNotContain((await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "held-delete");
    }

    [Fact]
    public async Task A_session_whose_model_was_deleted_and_made_again_under_its_name_is_not_forked_onto_the_old_weights()
    {
        server.TrainModel("reborn", "stateful-rnn", steps: 5);
        var session = await server.Generation.Open("reborn", seed: 3);
        await server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "reborn" });
        server.TrainModel("reborn", "stateful-rnn", steps: 5); // another model under the same name
        var fork = await Calls.Fails(() => server.Generation.ForkAsync(new ForkRequest { SessionId = session.Id }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, fork.StatusCode);
        Assert.StartsWith($"Session '{session.Id}' cannot be forked: its model 'reborn' was deleted after the session opened, " +
                          "and the model now under that name is another one.", fork.Status.Detail);
        Assert.Equal(10, (await server.Generation.Generate(session.Id, 10)).Length); // the session itself goes on
        var fresh = await server.Generation.Open("reborn", seed: 3); // the new model: a session on it forks
        var forked = await server.Generation.ForkAsync(new ForkRequest { SessionId = fresh.Id });
        foreach (var id in new[] { session.Id, fresh.Id, forked.Id })
            await server.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = id });
    }

    [Fact]
    public async Task A_model_folder_a_cli_run_is_writing_is_neither_trained_into_nor_deleted()
    {
        server.TrainModel("cli-held", "stateful-rnn", steps: 5);
        var folder = Path.Combine(server.Options.ModelsDirectory, "cli-held");
        var fresh = Path.Combine(server.Options.ModelsDirectory, "cli-fresh");
        using (Engine.Checkpoints.ModelFolder.HoldForTraining(folder)) // as `charrnn train --out` (or resume) into it does
        using (Engine.Checkpoints.ModelFolder.HoldForTraining(fresh)) // one that has not saved yet
        {
            var e = await Calls.Fails(() => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "cli-held" }).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.StartsWith("Model 'cli-held' cannot be deleted now: Another charrnn train or resume is writing to", e.Status.Detail);

            var job = new StartJobRequest { ModelName = "cli-fresh", Architecture = "stateful-rnn", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = 5, SampleChars = 0 } };
            job.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 8, ["bs"] = 4 });
            var events = await server.Training.Train(job).Events();
            Assert.Equal(JobEvent.EventOneofCase.Failed, events[^1].EventCase);
            Assert.StartsWith($"Another charrnn train or resume is writing to '{fresh}'", events[^1].Failed.Reason);
        }
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await server.Training.Train(new StartJobRequest
        {
            ModelName = "cli-fresh2", Architecture = "stateful-rnn", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = 2, SampleChars = 0 },
        }).Events())[^1].EventCase); // jobs train as before where no one else writes
        Assert.False(File.Exists(Path.Combine(server.Options.ModelsDirectory, "cli-fresh2", Engine.Checkpoints.ModelFolder.TrainingLockFile))); // released at the end
        await server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "cli-held" }); // free now
    }

    [Fact]
    public async Task Corpora_and_server_info_are_listed()
    {
        var corpora = (await server.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora;
        Assert.Contains(corpora, c => c.Name == "nietzsche");
        Assert.Contains(corpora, c => c.Name == "tiny" && c.Available);
        var info = await server.Catalog.GetServerInfoAsync(new GetServerInfoRequest());
        Assert.StartsWith("cpu", info.Device);
        Assert.Equal("float32", info.GenerationPrecision); // the default, said rather than left empty as an older server leaves it
        Assert.Equal(server.Options.Limits.MaxSessions, info.Limits.MaxSessions);
        Assert.Equal(10, info.Limits.MaxTemperature); // what SamplingSettings.temperature accepts
        Assert.Equal(server.Options.Limits.MaxEpochs, info.Limits.MaxEpochs); // the limit epochs errors name
        Assert.Equal((server.Options.Limits.MaxSessionsPerKey, server.Options.Limits.MaxJobsPerKey, server.Options.Limits.MaxCharsPerMinutePerKey),
            (info.Limits.MaxSessionsPerKey, info.Limits.MaxJobsPerKey, info.Limits.MaxCharsPerMinutePerKey));
        Assert.Matches(@"^\d+\.\d+\.\d+(\+[0-9a-f]{7,})?$", info.Version); // semantic version, then the commit where built from git
        Assert.Equal((4L * server.Options.Limits.MaxPrimeChars + (1 << 20), server.Options.Limits.MaxUploadBytes + (1 << 20)),
            (info.Limits.MaxMessageBytes, info.Limits.MaxTrainingMessageBytes));
    }

    [Fact]
    public async Task A_message_over_the_limit_is_refused_saying_its_size_and_the_limit_not_as_the_transports_bare_refusal()
    {
        var limit = (await server.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).Limits.MaxMessageBytes;
        var e = await Calls.Fails(() => server.Catalog.GetModelAsync(new GetModelRequest { Name = new string('a', (int)limit) }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains($"this server takes messages up to {limit:N0} bytes", e.Status.Detail);
        Assert.Contains("Retrying it cannot succeed", e.Status.Detail);
    }
}
