using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

[Collection(ServerCollection.Name)]
public class CatalogTests(ServerFixture server)
{
    [Fact]
    public async Task Architectures_come_with_their_hyperparameter_specs_and_server_caps()
    {
        var response = await server.Catalog.ListArchitecturesAsync(new ListArchitecturesRequest());
        Assert.Equal(10, response.Architectures.Count);
        var lstm = response.Architectures.Single(a => a.Name == "stateful-lstm");
        Assert.True(lstm.Stateful);
        var hidden = lstm.Hyperparameters.Single(p => p.Name == "n_hidden");
        Assert.Equal(512, hidden.DefaultValue);
        Assert.Equal(2048, hidden.Max); // the server's cap, below the engine's 4096
        Assert.Equal(HyperParameterSpec.Types.Type.Int, hidden.Type);
        Assert.False(string.IsNullOrEmpty(hidden.Doc));
        var epochs = response.TrainingOptions.Single(o => o.Name == "epochs");
        Assert.Equal(10_000, epochs.Max); // max_epochs, below the engine's 100000
        Assert.Equal("epochs", epochs.OptionField);
        Assert.Equal("learning_rate", response.TrainingOptions.Single(o => o.Name == "lr").OptionField);
        Assert.Equal("valid_fraction", response.TrainingOptions.Single(o => o.Name == "val_fraction").OptionField);
        Assert.Equal("keep_cycle_checkpoints", response.TrainingOptions.Single(o => o.Name == "keep_cycles").OptionField);
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

    [Fact]
    public async Task Deleting_a_model_removes_it_and_open_sessions_keep_working()
    {
        server.TrainModel("doomed", "stateful-rnn", steps: 5);
        var session = await server.Generation.Open("doomed", seed: 3);
        await server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "doomed" });
        Assert.False(Directory.Exists(Path.Combine(server.Options.ModelsDirectory, "doomed")));
        Assert.DoesNotContain((await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "doomed");
        Assert.Equal(10, (await server.Generation.Generate(session.Id, 10)).Length);
        await server.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
        var e = await Calls.Fails(() => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "doomed" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
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
        Assert.Equal(server.Options.Limits.MaxSessions, info.Limits.MaxSessions);
        Assert.Equal(10, info.Limits.MaxTemperature); // what SamplingSettings.temperature accepts
        Assert.Equal((server.Options.Limits.MaxSessionsPerKey, server.Options.Limits.MaxJobsPerKey, server.Options.Limits.MaxCharsPerMinutePerKey),
            (info.Limits.MaxSessionsPerKey, info.Limits.MaxJobsPerKey, info.Limits.MaxCharsPerMinutePerKey));
        Assert.Matches(@"^\d+\.\d+\.\d+(\+[0-9a-f]{7,})?$", info.Version); // semantic version, then the commit where built from git
    }
}
