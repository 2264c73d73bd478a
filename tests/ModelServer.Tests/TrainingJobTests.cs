using CharRnn.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

[Collection(ServerCollection.Name)]
public class TrainingJobTests(ServerFixture server)
{
    private Training.TrainingClient Client => server.Training;

    private static StartJobRequest Request(string name, int maxSteps = 40, string architecture = "stateful-gru", int epochs = 2)
    {
        var request = new StartJobRequest
        {
            ModelName = name,
            Architecture = architecture,
            CorpusName = "tiny",
            Options = new TrainingOptions { Epochs = epochs, MaxSteps = maxSteps, ProgressIntervalSeconds = 0.05, SampleChars = 20 },
        };
        request.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 16, ["n_fac"] = 8, ["bs"] = 8, ["bptt"] = 8 });
        request.Options.LearningRate.Add(1e-2);
        return request;
    }

    private static string Kind(JobEvent e) => e.EventCase.ToString();

    [Fact]
    public async Task An_imported_model_is_listed_and_read_but_a_resume_is_refused_saying_why()
    {
        var events = await Client.Train(Request("to-import", maxSteps: 5, epochs: 1)).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);
        var file = Path.Combine(Path.GetTempPath(), $"charrnn-import-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var trained = Engine.Checkpoints.TrainedModel.Load(Path.Combine(server.Options.ModelsDirectory, "to-import", "last.ckpt"), TorchSharp.torch.CPU))
                Engine.Export.PyTorchExport.Of(trained, "to-import/last.ckpt").Write(file);
            using var contents = Engine.Export.SafetensorsReader.Read(file);
            using var checkpoint = Engine.Export.PyTorchImport.ToCheckpoint(contents, file, DateTimeOffset.UtcNow);
            Engine.Checkpoints.CheckpointFile.Write(Path.Combine(server.Options.ModelsDirectory, "imported", "last.ckpt"), checkpoint);
        }
        finally { File.Delete(file); }

        var details = await server.Catalog.GetModelAsync(new GetModelRequest { Name = "imported" });
        Assert.Equal(("stateful-gru", "tiny", false), (details.Summary.Architecture, details.Summary.CorpusName, details.Summary.HasBestValidLoss));
        foreach (var call in new Func<Task>[]
        {
            () => Client.StartJobAsync(new StartJobRequest { ModelName = "imported", Resume = true }).ResponseAsync,
            () => Client.CheckJobAsync(new StartJobRequest { ModelName = "imported", Resume = true }).ResponseAsync,
        })
        {
            var e = await Calls.Fails(call);
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.Equal($"Model 'imported' cannot be resumed: it was imported from '{Path.GetFileName(file)}', which holds the weights but not the optimizer state, " +
                         "training options or corpus fingerprint a resume continues from; generate from it or evaluate it, or train a new model from its weights " +
                         "(init_from = 'imported', with a new model_name).", e.Status.Detail);
        }
    }

    [Fact]
    public async Task A_job_whose_loss_ends_far_worse_than_a_uniform_guess_fails_as_diverged()
    {
        var request = Request("diverging", maxSteps: 0, epochs: 2);
        request.Options.LearningRate[0] = 10; // Adam stays finite, and far worse than guessing
        var events = await Client.Train(request).Events();
        var failed = events[^1];
        Assert.Equal(JobEvent.EventOneofCase.Failed, failed.EventCase);
        Assert.StartsWith("Training diverged: ", failed.Failed.Reason);
        Assert.Contains("is more than twice what guessing every character equally likely scores", failed.Failed.Reason);
        Assert.DoesNotContain(events, e => e.EventCase == JobEvent.EventOneofCase.EpochEnd); // stopped before its first epoch was recorded
    }

    [Fact]
    public async Task A_two_layer_GRU_with_dropout_trains_and_generates_and_feeds_over_the_server_as_the_engine_does()
    {
        var request = Request("gru-two-layers", maxSteps: 60, epochs: 2);
        request.Hyperparameters["layers"] = 2;
        request.Hyperparameters["dropout"] = 0.2;
        var events = await Client.Train(request).Events();
        Assert.Equal("Finished", Kind(events[^1]));
        var details = await server.Catalog.GetModelAsync(new GetModelRequest { Name = "gru-two-layers" });
        Assert.Equal(2, details.Hyperparameters["layers"]);
        Assert.Equal(0.2, details.Hyperparameters["dropout"]);

        // Two greedy sessions stepped in one batch: each the text the engine gives alone.
        var first = await server.Generation.Open("gru-two-layers", temperature: 0, prime: "the ");
        var second = await server.Generation.Open("gru-two-layers", temperature: 0, prime: "sat ");
        var texts = await Task.WhenAll(server.Generation.Generate(first.Id, 60), server.Generation.Generate(second.Id, 60));
        var fed = await server.Generation.FeedAsync(new FeedRequest { SessionId = first.Id, Text = ServerFixture.TinyText[..100] });

        using var trained = Engine.Checkpoints.TrainedModel.Load(Engine.Checkpoints.ModelFolder.CheckpointForGeneration(Path.Combine(server.Options.ModelsDirectory, "gru-two-layers")), TorchSharp.torch.CPU);
        Assert.Equal(2, ((Engine.Models.StatefulCharModel)trained.Model).Layers);
        using var alone = new Engine.Sampling.GenerationSession(trained.Model, trained.Vocabulary, new Engine.Sampling.SamplingSettings(Temperature: 0));
        string Greedy(string prime)
        {
            alone.Reset();
            alone.Feed(prime);
            return string.Concat(alone.Generate(60).Select(c => c.Text));
        }
        Assert.Equal(Greedy("sat "), texts[1]);
        Assert.Equal(Greedy("the "), texts[0]);
        Assert.Equal(alone.Feed(ServerFixture.TinyText[..100]).Loss, fed.Loss, 4);
    }

    /// <summary>
    /// Started.corpus_code_points counts the corpus in characters, an emoji beyond U+FFFF once, as CorpusInfo.code_points
    /// does; corpus_characters keeps its UTF-16 units (the emoji twice). Before it, a client had only the UTF-16 count.
    /// </summary>
    [Fact]
    public async Task Started_counts_the_corpus_in_characters_and_in_utf16_units()
    {
        var request = Request("started-sizes", maxSteps: 2, epochs: 1);
        request.CorpusText = string.Concat(Enumerable.Repeat("abcabd ", 300)) + "😀 🐱\n";
        var started = (await Client.Train(request).Events()).Single(e => e.EventCase == JobEvent.EventOneofCase.Started).Started;
        Assert.Equal((request.CorpusText.Length, request.CorpusText.Length - 2), (started.CorpusCharacters, started.CorpusCodePoints));
    }

    [Fact]
    public async Task Train_streams_queued_started_progress_epochs_checkpoints_and_finished()
    {
        var events = await Client.Train(Request("streamed", maxSteps: 0, epochs: 2)).Events();
        var kinds = events.Select(Kind).ToList();
        Assert.Equal("Queued", kinds[0]);
        Assert.Equal("Started", kinds[1]);
        Assert.Equal("Finished", kinds[^1]);
        Assert.Equal(2, kinds.Count(k => k == "EpochEnd"));
        Assert.Contains("Progress", kinds);
        Assert.Contains(events, e => e.CheckpointSaved?.File == "best.ckpt");
        // A checkpoint event says the step it holds; the event itself is where training had got to when it was whole.
        Assert.All(events.Where(e => e.EventCase == JobEvent.EventOneofCase.CheckpointSaved),
            e => Assert.True(e.CheckpointSaved.Step > 0 && e.Step >= e.CheckpointSaved.Step, $"event step {e.Step}, checkpoint step {e.CheckpointSaved.Step}"));
        Assert.Equal(Enumerable.Range(0, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));
        var epochs = events.Where(e => e.EventCase == JobEvent.EventOneofCase.EpochEnd).Select(e => e.EpochEnd.Record).ToList();
        var vocabulary = events.Single(e => e.EventCase == JobEvent.EventOneofCase.Started).Started.VocabularySize;
        Assert.All(epochs, e => Assert.True(e.ValidLoss < Math.Log(vocabulary), $"valid loss {e.ValidLoss} is no better than guessing among {vocabulary} chars"));
        Assert.False(string.IsNullOrEmpty(epochs[0].Sample));
        Assert.Equal(epochs[^1].ValidLoss, events[^1].Finished.FinalValidLoss); // ended at an epoch's end: that epoch's measure
        Assert.Equal(epochs[^1].ValidAccuracy, events[^1].Finished.FinalValidAccuracy);
        var progress = events.Where(e => e.EventCase == JobEvent.EventOneofCase.Progress).Select(e => e.Progress).ToList();
        Assert.All(progress, p => Assert.True(p.Loss > 0 && p.CharsPerSecond > 0));
        // Public epochs count from 1, as EpochRecord.epoch does: the one being trained.
        Assert.Equal(1, progress[0].Epoch);
        Assert.All(progress, p => Assert.InRange(p.Epoch, 1, 2));

        var model = await server.Catalog.GetModelAsync(new GetModelRequest { Name = "streamed" });
        Assert.Equal(2, model.Summary.EpochsTrained);
        Assert.Equal(epochs[^1].ValidLoss, model.Summary.LastValidLoss);
        Assert.False(model.Summary.Training);
        var job = await Client.GetJobAsync(new GetJobRequest { JobId = events[0].JobId });
        Assert.Equal(Job.Types.State.Finished, job.State);
        Assert.Equal(2, job.Epoch); // a finished job reports its last epoch
    }

    [Fact]
    public async Task A_job_that_ends_between_epoch_ends_says_the_validation_loss_of_the_weights_it_saved()
    {
        var events = await Client.Train(Request("mid-epoch", maxSteps: 7, epochs: 5)).Events();
        Assert.DoesNotContain(events, e => e.EventCase == JobEvent.EventOneofCase.EpochEnd);
        var finished = events[^1].Finished;
        Assert.NotNull(finished);
        Assert.True(finished.HasFinalValidLoss, "a job ended by max_steps between epoch ends says nothing of how good its model is");
        Assert.Equal(finished.FinalValidLoss, finished.BestValidLoss); // no epoch ended: its last weights are the model's best
        // The loss of what it saved: last.ckpt, validated here by the engine.
        var corpus = new Engine.Text.Corpus("tiny", ServerFixture.TinyText, Engine.Text.Corpus.HexSha256(System.Text.Encoding.UTF8.GetBytes(ServerFixture.TinyText)));
        using var saved = Engine.Training.Trainer.Resume(Path.Combine(server.Options.ModelsDirectory, "mid-epoch", Engine.Training.Trainer.LastCheckpoint), corpus, TorchSharp.torch.CPU, null);
        Assert.Equal(7, saved.Position.Step);
        var (loss, accuracy) = saved.Validate();
        Assert.Equal(loss, finished.FinalValidLoss, 6);
        Assert.Equal(accuracy, finished.FinalValidAccuracy, 6);
        var summary = (await server.Catalog.GetModelAsync(new GetModelRequest { Name = "mid-epoch" })).Summary;
        Assert.Equal(finished.FinalValidLoss, summary.BestValidLoss);
        Assert.Equal(finished.FinalValidLoss, summary.LastValidLoss); // a model list can say how good it is
    }

    [Fact]
    public async Task A_job_that_runs_out_of_its_time_budget_says_the_validation_loss_of_the_weights_it_saved()
    {
        var request = Request("out-of-time", maxSteps: 0, epochs: 1000);
        request.Options.TimeBudgetSeconds = 1;
        var events = await Client.Train(request).Events();
        var stopped = events[^1].Stopped;
        Assert.NotNull(stopped);
        Assert.Contains("time budget", stopped.Reason);
        Assert.True(stopped.HasFinalValidLoss);
        Assert.True(stopped.FinalValidLoss > 0 && stopped.FinalValidLoss < Math.Log(events.Single(e => e.Started != null).Started.VocabularySize), $"final valid loss {stopped.FinalValidLoss}");
    }

    [Fact]
    public async Task A_server_cap_on_job_time_is_the_budget_of_a_job_without_one_and_refuses_a_larger_one()
    {
        var limits = server.Options.Limits;
        limits.MaxJobHours = 0.5 / 3600; // half a second, as `serve --max-job-hours` would set it
        try
        {
            Assert.Equal(0.5, (await server.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).Limits.MaxJobSeconds, 6);
            var greedy = Request("capped-greedy", maxSteps: 0, epochs: 1000);
            greedy.Options.TimeBudgetSeconds = 2;
            var refused = await Calls.Fails(() => Client.StartJobAsync(greedy).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            Assert.Equal("options.time_budget_seconds = 2 is more than this server gives one job (0.5 s, limit max_job_seconds); ask for at most 0.5, or leave it unset to get that.",
                refused.Status.Detail);

            // Without a budget of its own, the job gets the cap's and stops there: a cap of a microsecond, which its
            // first step outlasts, so that 1,000 epochs (a thousand steps at least) cannot end it first however fast it trains.
            limits.MaxJobHours = 1e-6 / 3600;
            var events = await Client.Train(Request("capped", maxSteps: 0, epochs: 1000)).Events();
            Assert.Equal(JobEvent.EventOneofCase.Stopped, events[^1].EventCase);
            // Its key never asked for a budget: the reason says whose it is, and that the model trains on by a resume.
            Assert.Equal("time budget of 0.000001s reached: this server's cap on one job's training time in a run (limit max_job_seconds, " +
                         "charrnn serve --max-job-hours); resume the model to train on", events[^1].Stopped.Reason);
            Assert.False(events[^1].Stopped.OnRequest); // it stopped by itself: no one asked
        }
        finally { limits.MaxJobHours = 0; }
    }

    [Fact]
    public async Task Watching_after_a_sequence_the_job_has_not_reached_is_refused_and_after_its_last_gives_nothing_more()
    {
        var events = await Client.Train(Request("sequenced", maxSteps: 3, epochs: 1)).Events();
        var last = events[^1].Sequence;
        var e = await Calls.Fails(() => Client.WatchJob(new WatchJobRequest { JobId = events[0].JobId, AfterSequence = last + 1 }).Events());
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal($"after_sequence = {last + 1} is past job {events[0].JobId}'s newest event ({last}); use the sequence of the last event received from this job, or -1 for all.", e.Status.Detail);
        Assert.Empty(await Client.WatchJob(new WatchJobRequest { JobId = events[0].JobId, AfterSequence = last }).Events()); // all seen
        Assert.Equal(events.Count, (await Client.WatchJob(new WatchJobRequest { JobId = events[0].JobId, AfterSequence = -1 }).Events()).Count);
    }

    [Fact]
    public async Task A_new_model_is_listed_as_queued_before_its_job_begins_and_says_why_it_cannot_be_used_yet()
    {
        var saved = await Client.Train(Request("saved-first", maxSteps: 3, epochs: 1)).Events(); // a model whose resume will wait in the queue
        var worker = server.Services.GetRequiredService<DeviceLoop.DeviceWorker>();
        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        var held = worker.Run(() => { entered.Set(); return release.Wait(TimeSpan.FromSeconds(30)); }); // the job stays queued meanwhile
        try
        {
            Assert.True(entered.Wait(TimeSpan.FromSeconds(30)));
            var job = await Client.StartJobAsync(Request("unsaved", maxSteps: 5, epochs: 1));
            var listed = (await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "unsaved");
            // Queued, not training: its job has not begun (and it has no parameters to count yet).
            Assert.Equal((false, true, "stateful-gru", "tiny", false), (listed.Training, listed.Queued, listed.Architecture, listed.CorpusName, listed.HasBestValidLoss));
            var resume = await Client.StartJobAsync(new StartJobRequest { ModelName = "saved-first", Resume = true, Options = new TrainingOptions { MaxSteps = saved[^1].Step + 2 } });
            var waiting = (await server.Catalog.GetModelAsync(new GetModelRequest { Name = "saved-first" })).Summary; // a saved model can be asked for
            Assert.Equal((false, true), (waiting.Training, waiting.Queued));
            Assert.Equal((false, true), (await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Where(m => m.Name == "saved-first").Select(m => (m.Training, m.Queued)).Single());
            await Client.StopJobAsync(new StopJobRequest { JobId = resume.Id });
            foreach (var call in new Func<Task>[]
            {
                () => server.Catalog.GetModelAsync(new GetModelRequest { Name = "unsaved" }).ResponseAsync,
                () => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "unsaved" }).ResponseAsync,
                () => server.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = "unsaved" }).ResponseAsync,
                () => server.Catalog.GetPassageAsync(new GetPassageRequest { ModelName = "unsaved" }).ResponseAsync,
                () => Client.StartJobAsync(new StartJobRequest { ModelName = "unsaved", Resume = true }).ResponseAsync, // not "no model"
                () => Client.CheckJobAsync(new StartJobRequest { ModelName = "unsaved", Resume = true }).ResponseAsync,
            })
            {
                var e = await Calls.Fails(call);
                Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode); // not NOT_FOUND: its name is taken, and it will exist
                // Queued, not started: it says so, and what the client can do, not that the job is making it.
                Assert.Equal($"Model 'unsaved' has no checkpoint yet: job {job.Id}, which will make it, is queued (position 1) " +
                             "and has not started; WatchJob follows it, StopJob takes it off the queue.", e.Status.Detail);
            }
            await Client.StopJobAsync(new StopJobRequest { JobId = job.Id });
        }
        finally
        {
            release.Set();
            await held;
        }
        Assert.DoesNotContain((await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "unsaved"); // stopped while queued: nothing made
    }

    [Fact]
    public async Task A_resumed_job_has_no_time_budget_unless_given_one_again()
    {
        var first = Request("budget-once", maxSteps: 0, epochs: 1000);
        first.Options.TimeBudgetSeconds = 0.001;
        var events = await Client.Train(first).Events();
        Assert.Contains("time budget", events[^1].Stopped.Reason);
        var resume = new StartJobRequest { ModelName = "budget-once", Resume = true, Options = new TrainingOptions { MaxSteps = events[^1].Step + 3 } };
        events = await Client.Train(resume).Events();
        Assert.True(events[^1].Finished != null, $"the resumed job ended: {events[^1]}"); // by its max_steps, not the first run's budget
        var model = await server.Catalog.GetModelAsync(new GetModelRequest { Name = "budget-once" });
        Assert.Equal(0, model.TrainingOptions.TimeBudgetSeconds);
    }

    [Fact]
    public async Task A_job_survives_its_watcher_leaving_and_can_be_reattached_from_a_step_by_several_watchers()
    {
        var job = await Client.StartJobAsync(Request("watched", maxSteps: 120, epochs: 10));
        using (var cancel = new CancellationTokenSource())
        {
            using var first = Client.WatchJob(new WatchJobRequest { JobId = job.Id }, cancellationToken: cancel.Token);
            await foreach (var e in first.ResponseStream.ReadAllAsync(cancel.Token).WithCancellation(cancel.Token))
                if (e.Step >= 40) break; // the watcher leaves mid-job
        }
        // Past step 30 already: what comes before it is stored, and from_step filters stored events (live ones all come).
        var fromStep = 30;
        var a = Client.WatchJob(new WatchJobRequest { JobId = job.Id, FromStep = fromStep }).Events();
        var b = Client.WatchJob(new WatchJobRequest { JobId = job.Id, FromStep = fromStep }).Events();
        var (eventsA, eventsB) = (await a, await b);
        Assert.Equal(eventsA.Select(e => e.Sequence), eventsB.Select(e => e.Sequence));
        Assert.All(eventsA, e => Assert.True(e.Step >= fromStep));
        Assert.Equal(JobEvent.EventOneofCase.Finished, eventsA[^1].EventCase);
        Assert.Equal(120, eventsA[^1].Step);
    }

    /// <summary>
    /// A 40-epoch job on a corpus of random letters, written as <paramref name="corpus"/>: nothing in its training text
    /// predicts its validation text, so the validation loss soon stops improving (for patience to end it).
    /// </summary>
    private StartJobRequest NoiseJob(string model, string corpus)
    {
        var random = new Random(3);
        File.WriteAllText(Path.Combine(server.Options.CorporaDirectory!, corpus + ".txt"), new string(Enumerable.Range(0, 1200).Select(_ => (char)('a' + random.Next(8))).ToArray()));
        var request = Request(model, maxSteps: 0, epochs: 40);
        request.CorpusName = corpus;
        request.Hyperparameters["n_hidden"] = 32;
        request.Options.LearningRate[0] = 3e-2;
        request.Options.SampleChars = 0;
        return request;
    }

    [Fact]
    public async Task A_job_with_patience_finishes_early_saying_why_and_a_resume_keeps_counting()
    {
        var request = NoiseJob("patient", "noise");
        request.Options.Patience = 2;
        var events = await Client.Train(request).Events();

        var epochs = events.Where(e => e.EventCase == JobEvent.EventOneofCase.EpochEnd).Select(e => e.EpochEnd.Record).ToList();
        var best = epochs.MinBy(r => r.ValidLoss)!;
        Assert.True(epochs.Count < 40, $"the job should stop early; it trained {epochs.Count} epochs");
        Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);
        Assert.True(events[^1].Finished.StoppedEarly);
        Assert.Equal(FormattableString.Invariant($"stopped early: validation loss has not improved on {best.ValidLoss:F4} (epoch {best.Epoch}) for 2 epochs (patience = 2)"),
            events[^1].Finished.Reason);
        Assert.Contains(events, e => e.CheckpointSaved?.Reason == "finished");
        var watched = (await Client.WatchJob(new WatchJobRequest { JobId = events[0].JobId }).Events())[^1];
        Assert.Equal(events[^1].Finished, watched.Finished); // WatchJob's replay ends the same way
        Assert.Equal(2, (await server.Catalog.GetModelAsync(new GetModelRequest { Name = "patient" })).TrainingOptions.Patience);

        // Resumed as it was, the count goes on from the model's epochs: one more without improvement ends it.
        var resumed = await Client.Train(new StartJobRequest { ModelName = "patient", Resume = true }).Events();
        Assert.Single(resumed, e => e.EventCase == JobEvent.EventOneofCase.EpochEnd);
        Assert.True(resumed[^1].Finished.StoppedEarly);
        Assert.EndsWith("for 3 epochs (patience = 2)", resumed[^1].Finished.Reason);

        // Patience 0 is off: the job trains its epochs.
        var off = await Client.Train(new StartJobRequest { ModelName = "patient", Resume = true, Options = new TrainingOptions { Patience = 0, Epochs = epochs.Count + 3 } }).Events();
        Assert.Equal(2, off.Count(e => e.EventCase == JobEvent.EventOneofCase.EpochEnd));
        Assert.False(off[^1].Finished.StoppedEarly);
    }

    [Fact]
    public async Task A_job_with_a_min_delta_counts_only_drops_larger_than_it_and_keeps_it_for_a_resume()
    {
        var request = NoiseJob("delta", "noise-delta");
        (request.Options.Patience, request.Options.MinDelta) = (2, 0.5); // no epoch on random letters beats the first by half a nat
        var events = await Client.Train(request).Events();

        var epochs = events.Where(e => e.EventCase == JobEvent.EventOneofCase.EpochEnd).Select(e => e.EpochEnd.Record).ToList();
        Assert.Equal(3, epochs.Count);
        Assert.True(events[^1].Finished.StoppedEarly);
        Assert.Equal(FormattableString.Invariant($"stopped early: validation loss has not improved on {epochs[0].ValidLoss:F4} (epoch 1) by more than 0.5 for 2 epochs (patience = 2, min_delta = 0.5)"),
            events[^1].Finished.Reason);
        Assert.Equal(0.5, (await server.Catalog.GetModelAsync(new GetModelRequest { Name = "delta" })).TrainingOptions.MinDelta);

        // Resumed as it was, the model's min_delta holds: one more epoch and it ends again.
        var resumed = await Client.Train(new StartJobRequest { ModelName = "delta", Resume = true }).Events();
        Assert.Single(resumed, e => e.EventCase == JobEvent.EventOneofCase.EpochEnd);
        Assert.EndsWith("for 3 epochs (patience = 2, min_delta = 0.5)", resumed[^1].Finished.Reason);
    }

    /// <summary>
    /// Runs <paramref name="test"/> while a long job trains alone, past its fifth step, with the device loop
    /// and the job's step (read on the device thread); stops the job after.
    /// </summary>
    private async Task WhileAJobTrains(string name, Func<DeviceLoop.DeviceWorker, Func<long>, Task> test)
    {
        var job = await Client.StartJobAsync(Request(name, maxSteps: 100_000, epochs: 1000));
        var jobs = server.Services.GetRequiredService<Jobs.JobQueue>();
        var worker = server.Services.GetRequiredService<DeviceLoop.DeviceWorker>();
        long Step() => jobs.Get(job.Id, Security.Caller.Local).Trainer?.Position.Step ?? -1; // on the device thread
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await worker.Run(Step) < 5 && DateTime.UtcNow < deadline) await Task.Delay(20);
            await test(worker, Step);
        }
        finally
        {
            await Client.StopJobAsync(new StopJobRequest { JobId = job.Id });
            await Client.WatchJob(new WatchJobRequest { JobId = job.Id }).Events();
        }
    }

    [Fact]
    public Task A_backlog_of_commands_takes_turns_with_the_training_job_instead_of_all_running_before_it() =>
        WhileAJobTrains("shares", async (worker, Step) =>
        {
            // Twenty commands of a few ms each queued at once by one key, as one feeding long texts into many sessions
            // queues them: the job trains between them (they earn it its share), where they used to run all before it.
            var backlog = await worker.Run(() => Task.WhenAll(Enumerable.Range(0, 20)
                .Select(_ => worker.Run(() => { Thread.Sleep(5); return Step(); }, owner: "feeder")).ToList()));
            var seen = await backlog;
            Assert.True(seen.Distinct().Count() >= 5, $"the job's step as each command ran: {string.Join(", ", seen)}");
        });

    [Fact]
    public Task Work_that_arrives_while_a_job_trains_alone_waits_for_a_step_not_a_whole_slice() =>
        WhileAJobTrains("yields", async (worker, Step) =>
        {
            // Two commands in a row: the job trains between them only until the second arrives (a step or
            // so), where a slice with no one streaming used to run its whole 250 ms (dozens of tiny steps).
            var gaps = new List<long>();
            for (var i = 0; i < 7; i++)
            {
                var before = await worker.Run(Step);
                gaps.Add(await worker.Run(Step) - before);
            }
            gaps.Sort();
            Assert.True(gaps[gaps.Count / 2] <= 10, $"steps trained between two commands in a row: {string.Join(", ", gaps)}"); // a loaded host's thread pool may take a few steps' time
        });

    [Fact]
    public async Task The_device_serves_others_while_a_jobs_last_checkpoint_is_written()
    {
        var folder = Path.Combine(server.Options.ModelsDirectory, "slow-disk") + Path.DirectorySeparatorChar;
        using var writing = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        // A slow disk, as far as this job's last.ckpt goes: its write waits until the test lets it go.
        Engine.Checkpoints.CheckpointWriteGate.BeforeWrite = path =>
        {
            if (!path.StartsWith(folder, StringComparison.Ordinal) || Path.GetFileName(path) != Engine.Training.Trainer.LastCheckpoint) return;
            writing.Set();
            release.Wait(TimeSpan.FromSeconds(60));
        };
        try
        {
            var job = await Client.StartJobAsync(Request("slow-disk", maxSteps: 5, epochs: 5)); // ends between epoch ends: last.ckpt is its only file
            Assert.True(await Task.Run(() => writing.Wait(TimeSpan.FromSeconds(60))), "the job never wrote its last checkpoint");
            var worker = server.Services.GetRequiredService<DeviceLoop.DeviceWorker>();
            // The device thread is free: a command runs now, not once the file is written.
            Assert.Equal(42, await worker.Run(() => 42).WaitAsync(TimeSpan.FromSeconds(20)));
            var during = await Client.GetJobAsync(new GetJobRequest { JobId = job.Id });
            Assert.Equal(Job.Types.State.Running, during.State); // finished only once the file is there
            Assert.False(File.Exists(folder + Engine.Training.Trainer.LastCheckpoint));

            release.Set();
            var events = await Client.WatchJob(new WatchJobRequest { JobId = job.Id }).Events();
            Assert.Equal("Finished", Kind(events[^1]));
            // The run's end validated its weights, the model's best (no epoch ended): best.ckpt after last.ckpt.
            Assert.Equal([Engine.Training.Trainer.LastCheckpoint, Engine.Training.Trainer.BestCheckpoint],
                events.Where(e => e.EventCase == JobEvent.EventOneofCase.CheckpointSaved).Select(e => e.CheckpointSaved.File));
            Assert.True(File.Exists(folder + Engine.Training.Trainer.LastCheckpoint));
        }
        finally
        {
            Engine.Checkpoints.CheckpointWriteGate.BeforeWrite = null;
            release.Set();
        }
    }

    [Fact]
    public async Task A_last_checkpoint_that_cannot_be_written_fails_the_job_saying_why()
    {
        var folder = Path.Combine(server.Options.ModelsDirectory, "full-disk") + Path.DirectorySeparatorChar;
        Engine.Checkpoints.CheckpointWriteGate.BeforeWrite = path =>
        {
            if (path.StartsWith(folder, StringComparison.Ordinal)) throw new IOException("No space left on device (the test's disk)");
        };
        try
        {
            var events = await Client.Train(Request("full-disk", maxSteps: 5, epochs: 5)).Events();
            Assert.Equal("Failed", Kind(events[^1]));
            // Not "IOException: …" alone: whose fault it is (the server's disk, not the request) and what to do.
            var reason = events[^1].Failed.Reason;
            Assert.StartsWith("The server's disk refused a write for model 'full-disk' (full, over its quota, or failing): No space left on device", reason);
            Assert.EndsWith("The server's operator should make room; then resume the model, or train it anew if it saved no checkpoint.", reason);
            Assert.DoesNotContain(events, e => e.EventCase == JobEvent.EventOneofCase.CheckpointSaved);
            var job = await Client.GetJobAsync(new GetJobRequest { JobId = events[0].JobId });
            // The operator's line is a warning saying so, not an error with a stack trace (no fault of the server's code).
            Assert.Contains(server.Log.With($"Job {job.Id} failed: "), l => l == $"Warning: Job {job.Id} failed: the disk refused a write: No space left on device (the test's disk)");
            Assert.DoesNotContain(server.Log.With($"Job {job.Id} failed"), l => l.StartsWith("Error: ", StringComparison.Ordinal));
            Assert.Equal(Job.Types.State.Failed, job.State);
            Assert.False(File.Exists(folder + Engine.Training.Trainer.LastCheckpoint));
        }
        finally
        {
            Engine.Checkpoints.CheckpointWriteGate.BeforeWrite = null;
        }
    }

    [Fact]
    public async Task An_upload_job_that_fails_before_its_first_checkpoint_leaves_no_folder_and_frees_its_name()
    {
        var folder = Path.Combine(server.Options.ModelsDirectory, "failed-upload");
        Engine.Checkpoints.CheckpointWriteGate.BeforeWrite = path =>
        {
            if (path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal)) throw new IOException("No space left on device (the test's disk)");
        };
        var request = Request("failed-upload", maxSteps: 5, epochs: 5);
        request.CorpusText = string.Concat(Enumerable.Repeat("abcabd ", 300));
        try { Assert.Equal("Failed", Kind((await Client.Train(request).Events())[^1])); }
        finally { Engine.Checkpoints.CheckpointWriteGate.BeforeWrite = null; }
        Assert.False(Directory.Exists(folder));
        Assert.DoesNotContain((await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "failed-upload");
        Assert.Equal("Finished", Kind((await Client.Train(request).Events())[^1])); // the name is free
        Assert.True(File.Exists(Path.Combine(folder, "corpus.txt"))); // a model that saved keeps its upload
    }

    [Fact]
    public async Task An_upload_job_whose_row_the_disk_refuses_leaves_no_folder_and_its_name_free()
    {
        // StartJob wrote the upload into the new model's folder, then the job's row: with the row refused (a full disk) the call
        // failed, but the folder stayed, corpus.txt and no model, so a rename or import to the name was refused ("a folder ...
        // with files in it but no model") until the server's operator removed it.
        var folder = Path.Combine(server.Options.ModelsDirectory, "refused-upload");
        var request = Request("refused-upload", maxSteps: 5, epochs: 1);
        request.CorpusText = string.Concat(Enumerable.Repeat("abcabd ", 300));
        using (new RefusedDatabaseWrite(server.Options.ModelsDirectory, "new.model_name = 'refused-upload'", "INSERT ON jobs"))
            Assert.Equal("The server could not store what StartJob changes: its disk is full (or over its quota, or failing). Nothing changed: no job was queued. "
                         + "Try again once the server's operator has made room.", (await Calls.Fails(() => Client.StartJobAsync(request).ResponseAsync)).Status.Detail);
        Assert.False(Directory.Exists(folder));
        server.TrainModel("refused-upload-elsewhere", "stateful-rnn", steps: 5);
        await server.Catalog.RenameModelAsync(new RenameModelRequest { Name = "refused-upload-elsewhere", NewName = "refused-upload" }); // the name is free
        await server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "refused-upload" });
    }

    [Fact]
    public async Task Stop_saves_a_checkpoint_that_a_resumed_job_continues_from()
    {
        var job = await Client.StartJobAsync(Request("stopped", maxSteps: 100_000, epochs: 1000));
        using (var watch = Client.WatchJob(new WatchJobRequest { JobId = job.Id }))
        {
            await foreach (var e in watch.ResponseStream.ReadAllAsync())
                if (e.Step >= 15) break;
        }
        await Client.StopJobAsync(new StopJobRequest { JobId = job.Id });
        var events = await Client.WatchJob(new WatchJobRequest { JobId = job.Id }).Events();
        var stopped = events[^1];
        Assert.Equal(JobEvent.EventOneofCase.Stopped, stopped.EventCase);
        Assert.True(stopped.Stopped.CheckpointSaved);
        Assert.Equal("stopped on request", stopped.Stopped.Reason); // no keys: no "by key 'local'"
        Assert.True(stopped.Stopped.OnRequest);
        Assert.Contains(events, e => e.CheckpointSaved?.Reason == "stopped");
        var stoppedAt = stopped.Step;
        // Where the model stands, as GetModel and its history say: epochs done, then steps into the next.
        var model = (await server.Catalog.GetModelAsync(new GetModelRequest { Name = "stopped" })).Summary;
        Assert.True(stopped.Stopped.HasEpochsCompleted);
        Assert.Equal(model.EpochsTrained, stopped.Stopped.EpochsCompleted);
        var lastEpochEnd = events.LastOrDefault(e => e.EventCase == JobEvent.EventOneofCase.EpochEnd)?.EpochEnd.Record.Step ?? 0;
        Assert.Equal(stoppedAt - lastEpochEnd, stopped.Stopped.StepsIntoEpoch);
        Assert.InRange(stopped.Stopped.StepsIntoEpoch, 0, stopped.Stopped.BatchesInEpoch - 1);

        var resume = new StartJobRequest { ModelName = "stopped", Resume = true, Options = new TrainingOptions { MaxSteps = stoppedAt + 10 } };
        var resumed = await Client.Train(resume).Events();
        Assert.Equal(stoppedAt, resumed.Single(e => e.EventCase == JobEvent.EventOneofCase.Started).Started.ResumedFromStep);
        Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase);
        Assert.Equal(stoppedAt + 10, resumed[^1].Step);
    }

    [Fact]
    public async Task A_job_keeps_each_sgdr_cycles_end_when_asked_and_a_resume_may_start_to()
    {
        var request = Request("cycles", maxSteps: 100_000, epochs: 1);
        request.Options.Schedule = "sgdr:cycle_len=1,cycle_mult=1";
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await Client.Train(request).Events())[^1].EventCase);
        var folder = Path.Combine(server.Options.ModelsDirectory, "cycles");
        Assert.Empty(Directory.GetFiles(folder, Engine.Training.Trainer.CycleCheckpoints)); // not asked

        var resume = new StartJobRequest { ModelName = "cycles", Resume = true, Options = new TrainingOptions { Epochs = 3, KeepCycleCheckpoints = true } };
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await Client.Train(resume).Events())[^1].EventCase);
        Assert.Equal([Engine.Training.Trainer.CycleCheckpoint(2), Engine.Training.Trainer.CycleCheckpoint(3)],
            Directory.GetFiles(folder, Engine.Training.Trainer.CycleCheckpoints).Select(Path.GetFileName).Order());
        Assert.True((await server.Catalog.GetModelAsync(new GetModelRequest { Name = "cycles" })).TrainingOptions.KeepCycleCheckpoints); // recorded: a later resume keeps them too
    }

    /// <summary>
    /// Runs <paramref name="test"/> while a long job trains, from its first <paramref name="after"/>
    /// event; stops the job at the end (left running, it would hold the shared server's device for
    /// the tests after this one).
    /// </summary>
    private async Task WhileTraining(string name, JobEvent.EventOneofCase after, Func<Job, Task> test)
    {
        var job = await Client.StartJobAsync(Request(name, maxSteps: 100_000, epochs: 1000));
        try
        {
            await foreach (var e in Client.WatchJob(new WatchJobRequest { JobId = job.Id }).ResponseStream.ReadAllAsync())
                if (e.EventCase == after) break;
            await test(job);
        }
        finally
        {
            await Client.StopJobAsync(new StopJobRequest { JobId = job.Id });
            await Client.WatchJob(new WatchJobRequest { JobId = job.Id }).Events();
        }
    }

    [Fact]
    public Task Jobs_queue_while_the_device_is_busy_and_a_queued_job_can_be_stopped() =>
        WhileTraining("queue-a", JobEvent.EventOneofCase.Started, async _ => // the device has taken it from the queue
        {
            var second = await Client.StartJobAsync(Request("queue-b", maxSteps: 10));
            Assert.Equal(Job.Types.State.Queued, second.State);
            Assert.Equal(1, second.QueuePosition);
            var listed = (await Client.ListJobsAsync(new ListJobsRequest())).Jobs;
            Assert.Contains(listed, j => j.Id == second.Id && j.State == Job.Types.State.Queued);

            var stoppedQueued = await Client.StopJobAsync(new StopJobRequest { JobId = second.Id });
            Assert.Equal(Job.Types.State.Stopped, stoppedQueued.State);
            var events = await Client.WatchJob(new WatchJobRequest { JobId = second.Id }).Events();
            Assert.False(events[^1].Stopped.CheckpointSaved);
            Assert.True(events[^1].Stopped.OnRequest); // taken off the queue by StopJob
        });

    [Fact]
    public Task A_name_a_queued_job_will_make_is_refused_saying_the_job_is_queued_not_training() =>
        WhileTraining("namequeue-a", JobEvent.EventOneofCase.Started, async _ => // the device is busy: the next job waits
        {
            var queued = await Client.StartJobAsync(Request("namequeue-b", maxSteps: 10));
            try
            {
                var same = await Calls.Fails(() => Client.StartJobAsync(Request("namequeue-b", maxSteps: 10)).ResponseAsync);
                Assert.Equal(StatusCode.AlreadyExists, same.StatusCode);
                Assert.Equal($"Job {queued.Id} is queued to train model 'namequeue-b'; watch it, stop it, or choose another model_name.", same.Status.Detail);
                var cased = await Calls.Fails(() => Client.StartJobAsync(Request("NameQueue-B", maxSteps: 10)).ResponseAsync);
                Assert.Equal("A job is queued to train a model named 'namequeue-b', and names may not differ only in case; choose another model_name.", cased.Status.Detail);
            }
            finally
            {
                await Client.StopJobAsync(new StopJobRequest { JobId = queued.Id });
            }
        });

    [Fact]
    public Task Stopping_a_queued_job_while_the_database_waits_on_its_disk_holds_up_nothing_else() =>
        WhileTraining("slowdb-a", JobEvent.EventOneofCase.Started, async _ =>
        {
            var second = await Client.StartJobAsync(Request("slowdb-b", maxSteps: 10));
            var queue = server.Services.GetRequiredService<Jobs.JobQueue>();
            // On threads of their own: the pool's threads also wait on the database here (the event journal, progress rows).
            Task<T> OwnThread<T>(Func<T> work) => Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            Task<Jobs.TrainingJob> stop;
            // Another writer holds charrnn.db (as a disk that is slow to sync would): the stop's writes wait.
            using (var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.Options.ModelsDirectory, "charrnn.db")};Pooling=False"))
            {
                other.Open();
                using var write = other.BeginTransaction(deferred: false);
                stop = OwnThread(() => queue.Stop(second.Id, Security.Caller.Local, "stopped by the test"));
                await Task.Delay(300);
                Assert.False(stop.IsCompleted, "the stop did not wait on the database"); // else this test shows nothing
                // The queue answers meanwhile (the old stop held its lock until SQLite's 30 s busy timeout).
                var listed = await OwnThread(() => queue.List(Security.Caller.Local)).WaitAsync(TimeSpan.FromSeconds(20));
                Assert.Contains(listed, j => j.Id == second.Id && j.State == Jobs.JobState.Stopped);
                Assert.False(stop.IsCompleted); // listed while the stop still waited to store it
                write.Rollback();
            }
            Assert.Equal(Jobs.JobState.Stopped, (await stop).State);
        });

    [Fact]
    public Task Generation_uses_the_latest_checkpoint_of_a_job_while_it_trains() =>
        WhileTraining("live", JobEvent.EventOneofCase.CheckpointSaved, async _ =>
        {
            var session = await server.Generation.Open("live", temperature: 0, prime: "the ");
            Assert.Equal(20, (await server.Generation.Generate(session.Id, 20)).Length);
            var model = (await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "live");
            Assert.Equal((true, false), (model.Training, model.Queued)); // running: training, no longer queued
            var delete = await Calls.Fails(() => server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "live" }).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, delete.StatusCode);
        });

    [Fact]
    public async Task While_a_stream_generates_long_training_steps_run_in_pieces_and_the_job_keeps_training()
    {
        // An LSTM step of 1,024 chars takes tens of milliseconds: far over the slice training gets while anyone generates (TrainingSliceMilliseconds).
        var request = Request("pieces", maxSteps: 100_000, architecture: "stateful-lstm", epochs: 1000);
        request.Hyperparameters.Clear();
        request.Hyperparameters.Add(new Dictionary<string, double> { ["n_hidden"] = 256, ["n_fac"] = 8, ["bs"] = 32, ["bptt"] = 32 });
        request.Options.SampleChars = 0;
        var job = await Client.StartJobAsync(request);
        try
        {
            await foreach (var e in Client.WatchJob(new WatchJobRequest { JobId = job.Id }).ResponseStream.ReadAllAsync())
                if (e.EventCase == JobEvent.EventOneofCase.Progress && e.Progress.Step >= 4) break; // whole steps measure the cost per char
            var pieces = Metrics.ServerMetrics.TrainingStepPieces.Value;
            var (slices, steps) = (Metrics.ServerMetrics.TrainingSliceSeconds.Count, Metrics.ServerMetrics.TrainingSteps.WithLabels(Security.Caller.Local.Name).Value);
            var step = (await Client.GetJobAsync(new GetJobRequest { JobId = job.Id })).Step;

            // Streams and training take turns (half the device each by default), and a tiny model's
            // char takes a fraction of a millisecond: a few hundred chars see a few training slices.
            var session = await server.Generation.Open("gru", temperature: 0, prime: "the ");
            for (int call = 0; call < 50; call++)
            {
                Assert.Equal(200, (await server.Generation.Generate(session.Id, 200)).Length);
                var split = Metrics.ServerMetrics.TrainingStepPieces.Value > pieces;
                if (split && (await Client.GetJobAsync(new GetJobRequest { JobId = job.Id })).Step > step) break; // a split step ends after all its pieces
            }

            Assert.True(Metrics.ServerMetrics.TrainingStepPieces.Value > pieces, "training steps should have been split while the stream generated");
            Assert.True((await Client.GetJobAsync(new GetJobRequest { JobId = job.Id })).Step > step, "the job should keep training while the stream generates");
            Assert.True(Metrics.ServerMetrics.TrainingSliceSeconds.Count > slices, "slices run while anyone streams are what streams wait for, and are observed");
            Assert.True(Metrics.ServerMetrics.TrainingSteps.WithLabels(Security.Caller.Local.Name).Value > steps, "every completed step is counted, for the key that started the job");
        }
        finally
        {
            await Client.StopJobAsync(new StopJobRequest { JobId = job.Id });
            Assert.Equal(JobEvent.EventOneofCase.Stopped, (await Client.WatchJob(new WatchJobRequest { JobId = job.Id }).Events())[^1].EventCase);
        }
    }

    [Fact]
    public async Task Uploaded_text_trains_and_is_kept_for_resuming()
    {
        var request = Request("uploaded", maxSteps: 12);
        request.CorpusText = string.Concat(Enumerable.Repeat("abcabd ", 300));
        var events = await Client.Train(request).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);
        Assert.True(File.Exists(Path.Combine(server.Options.ModelsDirectory, "uploaded", "corpus.txt")));
        var resumed = await Client.Train(new StartJobRequest { ModelName = "uploaded", Resume = true, Options = new TrainingOptions { MaxSteps = 15 } }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase);
    }

    [Fact]
    public async Task Uploaded_text_that_starts_with_a_byte_order_mark_makes_a_model_that_resumes()
    {
        // An editor's BOM is dropped from the text; the model's corpus fingerprint must be of what is kept.
        var request = Request("uploaded-bom", maxSteps: 12);
        request.CorpusText = "\uFEFF" + string.Concat(Enumerable.Repeat("abcabd ", 300));
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await Client.Train(request).Events())[^1].EventCase);
        var resumed = await Client.Train(new StartJobRequest { ModelName = "uploaded-bom", Resume = true, Options = new TrainingOptions { MaxSteps = 15 } }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase);
        Assert.Equal(15, resumed[^1].Step);
    }

    [Fact]
    public async Task Uploaded_text_with_windows_line_endings_trains_on_newlines_and_resumes()
    {
        var request = Request("uploaded-crlf", maxSteps: 12);
        request.CorpusText = string.Concat(Enumerable.Repeat("abcabd\r\n", 300));
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await Client.Train(request).Events())[^1].EventCase);
        Assert.Equal(string.Concat(Enumerable.Repeat("abcabd\n", 300)), File.ReadAllText(Path.Combine(server.Options.ModelsDirectory, "uploaded-crlf", "corpus.txt")));
        var resumed = await Client.Train(new StartJobRequest { ModelName = "uploaded-crlf", Resume = true, Options = new TrainingOptions { MaxSteps = 15 } }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase); // the fingerprint is of the text kept
        Assert.Equal(15, resumed[^1].Step);
    }

    /// <summary>A new model's job for <paramref name="name"/> (on an upload, or the fixture's named corpus) waits behind a running one and is stopped.</summary>
    private async Task StopAnUploadJobBeforeItsFirstCheckpoint(string name, bool upload = true)
    {
        var blocker = await Client.StartJobAsync(Request(name + "-blocker", maxSteps: 100_000, epochs: 1000));
        await foreach (var e in Client.WatchJob(new WatchJobRequest { JobId = blocker.Id }).ResponseStream.ReadAllAsync())
            if (e.EventCase == JobEvent.EventOneofCase.Started) break;
        var request = Request(name, maxSteps: 12);
        if (upload) request.CorpusText = string.Concat(Enumerable.Repeat("aaab ", 300));
        var queued = await Client.StartJobAsync(request);
        await Client.StopJobAsync(new StopJobRequest { JobId = queued.Id });
        await Client.StopJobAsync(new StopJobRequest { JobId = blocker.Id });
        await Client.WatchJob(new WatchJobRequest { JobId = blocker.Id }).Events();
    }

    [Fact]
    public async Task A_model_on_a_named_corpus_resumes_after_an_upload_job_of_its_name_stopped_before_its_first_checkpoint()
    {
        await StopAnUploadJobBeforeItsFirstCheckpoint("named-after-upload");
        var folder = Path.Combine(server.Options.ModelsDirectory, "named-after-upload");
        Assert.False(Directory.Exists(folder)); // stopped in the queue, it saved nothing: its corpus.txt and folder went with it

        Assert.Equal(JobEvent.EventOneofCase.Finished, (await Client.Train(Request("named-after-upload", maxSteps: 12)).Events())[^1].EventCase);
        Assert.False(File.Exists(Path.Combine(folder, "corpus.txt")));
        var resumed = await Client.Train(new StartJobRequest { ModelName = "named-after-upload", Resume = true, Options = new TrainingOptions { MaxSteps = 15 } }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase);
        Assert.Equal(15, resumed[^1].Step);
    }

    [Fact]
    public async Task A_named_corpus_job_stopped_in_the_queue_leaves_no_owner_behind()
    {
        var models = server.Services.GetRequiredService<TrainedModels.ModelStore>();
        await StopAnUploadJobBeforeItsFirstCheckpoint("owner-forgotten", upload: false);
        Assert.False(Directory.Exists(Path.Combine(server.Options.ModelsDirectory, "owner-forgotten")));
        // A model made under this name later (by charrnn train into the folder, say) is nobody's, as if the job had never been.
        Assert.Null(models.Ownership("owner-forgotten"));
    }

    [Fact]
    public async Task A_resume_continues_last_ckpt_with_its_settings_even_when_best_ckpt_is_damaged()
    {
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await Client.Train(Request("damaged-best", maxSteps: 12)).Events())[^1].EventCase);
        var best = Path.Combine(server.Options.ModelsDirectory, "damaged-best", "best.ckpt");
        File.WriteAllText(best, "not a checkpoint");
        var resumed = await Client.Train(new StartJobRequest { ModelName = "damaged-best", Resume = true, Options = new TrainingOptions { MaxSteps = 15 } }).Events();
        Assert.Equal(12, resumed.Single(e => e.EventCase == JobEvent.EventOneofCase.Started).Started.ResumedFromStep);
        Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase);
        Assert.Equal(15, resumed[^1].Step);
    }

    [Fact]
    public async Task A_new_models_upload_replaces_what_a_job_stopped_before_its_first_checkpoint_left()
    {
        await StopAnUploadJobBeforeItsFirstCheckpoint("reupload");

        var second = Request("reupload", maxSteps: 12);
        second.CorpusText = string.Concat(Enumerable.Repeat("xyzzy ", 300));
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await Client.Train(second).Events())[^1].EventCase);
        Assert.Equal(second.CorpusText, File.ReadAllText(Path.Combine(server.Options.ModelsDirectory, "reupload", "corpus.txt")));
        var resumed = await Client.Train(new StartJobRequest { ModelName = "reupload", Resume = true, Options = new TrainingOptions { MaxSteps = 15 } }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, resumed[^1].EventCase);
    }

    [Fact]
    public async Task No_job_starts_on_a_model_while_it_is_being_deleted()
    {
        await Client.Train(Request("deleting", maxSteps: 5)).Events();
        var jobs = server.Services.GetRequiredService<Jobs.JobQueue>();
        var planning = new Services.JobPlanning(server.Services.GetRequiredService<TrainedModels.ModelStore>(),
            server.Services.GetRequiredService<Corpora.CorpusStore>(), server.Options.Limits);
        var fineTune = new StartJobRequest { ModelName = "deleting-tuned", InitFrom = "deleting", CorpusName = "tiny", Options = new TrainingOptions { MaxSteps = 2 } };
        var plannedBefore = planning.Plan(fineTune, Security.Caller.Local);
        using (jobs.HoldForDelete("deleting", Security.Caller.Local))
        {
            var e = await Calls.Fails(() => Client.StartJobAsync(new StartJobRequest { ModelName = "deleting", Resume = true, Options = new TrainingOptions { MaxSteps = 10 } }).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.Contains("is being deleted", e.Status.Detail);
            // Nor a new model from its weights: the job would start from a checkpoint the delete removes.
            var tuned = await Calls.Fails(() => Client.StartJobAsync(fineTune).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, tuned.StatusCode);
            Assert.Equal("Model 'deleting', the model the job starts from (init_from), is being deleted; the job cannot start from it.", tuned.Status.Detail);
        }
        await server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "deleting" });
        // Planned before the delete, queued after it: refused as a source that is gone, not failed at its start.
        var gone = Assert.Throws<Errors.ServerException>(() => jobs.Enqueue(plannedBefore, Security.Caller.Local));
        Assert.StartsWith("No model 'deleting'", gone.Message);
        Assert.False(Directory.Exists(Path.Combine(server.Options.ModelsDirectory, "deleting")));
    }

    [Fact]
    public async Task A_new_model_planned_while_another_job_made_it_is_refused_not_overwritten()
    {
        var jobs = server.Services.GetRequiredService<Jobs.JobQueue>();
        var planning = new Services.JobPlanning(server.Services.GetRequiredService<TrainedModels.ModelStore>(),
            server.Services.GetRequiredService<Corpora.CorpusStore>(), server.Options.Limits);
        var plan = planning.Plan(Request("raced", maxSteps: 5), Security.Caller.Local); // the name is free now...
        await Client.Train(Request("raced", maxSteps: 5)).Events(); // ...until this job ends with a model
        var saved = File.ReadAllBytes(Path.Combine(server.Options.ModelsDirectory, "raced", "last.ckpt"));
        var e = Assert.Throws<Errors.ServerException>(() => jobs.Enqueue(plan, Security.Caller.Local));
        Assert.Equal(StatusCode.AlreadyExists, e.Code);
        Assert.Contains("A model named 'raced' exists", e.Message);
        Assert.Equal(saved, File.ReadAllBytes(Path.Combine(server.Options.ModelsDirectory, "raced", "last.ckpt")));
    }

    [Fact]
    public async Task A_resume_planned_just_before_its_model_was_deleted_is_not_found_and_leaves_no_folder()
    {
        await Client.Train(Request("deleted-meanwhile", maxSteps: 5)).Events();
        var jobs = server.Services.GetRequiredService<Jobs.JobQueue>();
        var planning = new Services.JobPlanning(server.Services.GetRequiredService<TrainedModels.ModelStore>(),
            server.Services.GetRequiredService<Corpora.CorpusStore>(), server.Options.Limits);
        var plan = planning.Plan(new StartJobRequest { ModelName = "deleted-meanwhile", Resume = true, Options = new TrainingOptions { MaxSteps = 8 } }, Security.Caller.Local);
        await server.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "deleted-meanwhile" });
        var e = Assert.Throws<Errors.ServerException>(() => jobs.Enqueue(plan, Security.Caller.Local));
        Assert.Equal(StatusCode.NotFound, e.Code);
        Assert.Contains("deleted-meanwhile", e.Message);
        await Task.Delay(200); // a job queued anyway would have started by now, making the folder again
        Assert.False(Directory.Exists(Path.Combine(server.Options.ModelsDirectory, "deleted-meanwhile")));
    }

    [Fact]
    public async Task An_ended_job_lets_its_uploaded_text_go()
    {
        // A key's ended jobs are listed for long (100 by default): each must not keep its corpus's whole text.
        var (id, corpus) = EnqueueUpload("let-go");
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await Client.WatchJob(new WatchJobRequest { JobId = id }).Events())[^1].EventCase);
        // A thread that ran the job (the device loop, the checkpoint writer) may hold it a moment past Finished.
        for (var deadline = DateTime.UtcNow.AddSeconds(10); IsAlive(corpus) && DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(IsAlive(corpus), "the ended job keeps its uploaded text");
        Assert.Contains((await Client.ListJobsAsync(new ListJobsRequest())).Jobs, j => j.Id == id);
    }

    // Not inlined: the corpus must not stay in the test's own stack frame.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private (string Id, WeakReference<Engine.Text.Corpus> Corpus) EnqueueUpload(string name)
    {
        var planning = new Services.JobPlanning(server.Services.GetRequiredService<TrainedModels.ModelStore>(),
            server.Services.GetRequiredService<Corpora.CorpusStore>(), server.Options.Limits);
        var request = Request(name, maxSteps: 3);
        request.CorpusText = string.Concat(Enumerable.Repeat("abcabd ", 300));
        var plan = planning.Plan(request, Security.Caller.Local);
        var job = server.Services.GetRequiredService<Jobs.JobQueue>().Enqueue(plan, Security.Caller.Local);
        return (job.Id, new WeakReference<Engine.Text.Corpus>(plan.Corpus));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static bool IsAlive(WeakReference<Engine.Text.Corpus> corpus) => corpus.TryGetTarget(out _);

    [Fact]
    public async Task A_new_name_that_differs_from_a_model_or_a_job_only_in_case_is_refused()
    {
        // On Windows and macOS both names would be one folder: the new job would train into the other model.
        await Client.Train(Request("cased", maxSteps: 2)).Events();
        var e = await Calls.Fails(() => Client.StartJobAsync(Request("CASED", maxSteps: 2)).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
        Assert.Contains("A model named 'cased' exists, and names may not differ only in case", e.Status.Detail);

        var running = await Client.StartJobAsync(Request("cased-long", maxSteps: 100_000, epochs: 1000));
        try
        {
            e = await Calls.Fails(() => Client.StartJobAsync(Request("Cased-Long", maxSteps: 2)).ResponseAsync);
            Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
            Assert.Contains("a model named 'cased-long', and names may not differ only in case", e.Status.Detail); // queued to train or training, as the device has it
        }
        finally
        {
            await Client.StopJobAsync(new StopJobRequest { JobId = running.Id });
            await Client.WatchJob(new WatchJobRequest { JobId = running.Id }).Events();
        }
    }

    [Fact]
    public async Task A_resume_with_nothing_left_to_train_is_refused_and_leaves_the_model_as_it_was()
    {
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await Client.Train(Request("trained-out", maxSteps: 6)).Events())[^1].EventCase);
        var last = Path.Combine(server.Options.ModelsDirectory, "trained-out", "last.ckpt");
        var before = File.ReadAllBytes(last);
        async Task<string> Refused(TrainingOptions options)
        {
            var e = await Calls.Fails(() => Client.StartJobAsync(new StartJobRequest { ModelName = "trained-out", Resume = true, Options = options }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            return e.Status.Detail;
        }
        // The TrainingOptions fields as every other refusal names them (and as BadRequest's field does): options.max_steps.
        Assert.Equal("Model 'trained-out' has trained 6 step(s) and options.max_steps is 6: nothing is left to train. " +
                     "Ask for more: options.max_steps above 6, or options.max_steps 0 to train to its epochs (2).",
            await Refused(new TrainingOptions()));
        Assert.Contains("has trained 6 step(s) and options.max_steps is 4", await Refused(new TrainingOptions { MaxSteps = 4 }));
        Assert.Equal(before, File.ReadAllBytes(last));

        // Trained to its epochs (the tiny corpus's epoch is a few steps), then asked for the same again.
        Assert.Equal(JobEvent.EventOneofCase.Finished,
            (await Client.Train(new StartJobRequest { ModelName = "trained-out", Resume = true, Options = new TrainingOptions { MaxSteps = 0, Epochs = 1 } }).Events())[^1].EventCase);
        Assert.Contains("has trained 1 epoch(s), and options.epochs is 1: nothing is left to train. Ask for more: options.epochs above 1", await Refused(new TrainingOptions()));
        var more = await Client.Train(new StartJobRequest { ModelName = "trained-out", Resume = true, Options = new TrainingOptions { Epochs = 2 } }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, more[^1].EventCase);
    }

    [Fact]
    public async Task A_resume_may_send_back_what_GetModel_gave_but_not_change_it()
    {
        await Client.Train(Request("sent-back", maxSteps: 3, epochs: 1)).Events();
        var model = await server.Catalog.GetModelAsync(new GetModelRequest { Name = "sent-back" });
        StartJobRequest Resume()
        {
            var r = new StartJobRequest { ModelName = "sent-back", Resume = true, Architecture = model.Summary.Architecture, CorpusName = model.Summary.CorpusName, Options = model.TrainingOptions.Clone() };
            r.Hyperparameters.Add(model.Hyperparameters);
            r.Options.Epochs = 2;
            r.Options.MaxSteps = 5;
            return r;
        }
        var events = await Client.Train(Resume()).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);
        Assert.Equal(3, events.Single(e => e.EventCase == JobEvent.EventOneofCase.Started).Started.ResumedFromStep);

        async Task<string> Refused(Action<StartJobRequest> change)
        {
            var r = Resume();
            change(r);
            var e = await Calls.Fails(() => Client.StartJobAsync(r).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            return e.Status.Detail;
        }
        Assert.Contains("options.seed cannot change when resuming", await Refused(r => r.Options.Seed++));
        Assert.Contains("options.lowercase cannot change when resuming", await Refused(r => r.Options.Lowercase = !r.Options.Lowercase));
        Assert.Contains("hyperparameters[n_hidden] = 32 differs from the model's (16)", await Refused(r => r.Hyperparameters["n_hidden"] = 32));
        Assert.Contains("or corpus_name the model's, 'tiny'", await Refused(r => r.CorpusName = "other"));
        Assert.Contains("corpus_name/corpus_text must be empty when resuming", await Refused(r => r.CorpusText = ServerFixture.TinyText));
        Assert.Contains("differs from the model's 'stateful-gru'", await Refused(r => r.Architecture = "stateful-lstm"));
    }

    [Fact]
    public async Task A_time_budget_ends_the_job_stopped_with_a_checkpoint_to_resume_from()
    {
        var request = Request("budgeted", maxSteps: 0, epochs: 1000);
        request.Options.TimeBudgetSeconds = 0.5;
        var events = await Client.Train(request).Events();
        var stopped = events[^1];
        Assert.Equal(JobEvent.EventOneofCase.Stopped, stopped.EventCase);
        Assert.StartsWith("time budget of 0.5s reached", stopped.Stopped.Reason); // not .NET's "00:00:00.5000000"
        Assert.True(stopped.Stopped.CheckpointSaved);
        var job = await Client.GetJobAsync(new GetJobRequest { JobId = events[0].JobId });
        Assert.Equal(Job.Types.State.Stopped, job.State);
        var model = await server.Catalog.GetModelAsync(new GetModelRequest { Name = "budgeted" });
        Assert.Equal(stopped.Step, model.Summary.StepsTrained);
    }

    [Fact]
    public async Task A_full_queue_is_resource_exhausted_naming_the_limit()
    {
        var limits = server.Options.Limits;
        var saved = limits.MaxQueuedJobs;
        var running = await Client.StartJobAsync(Request("queue-head", maxSteps: 100_000, epochs: 1000));
        var queued = await Client.StartJobAsync(Request("queue-second", maxSteps: 2)); // waits behind it
        limits.MaxQueuedJobs = 1;
        try
        {
            var e = await Calls.Fails(() => Client.StartJobAsync(Request("queue-full", maxSteps: 2)).ResponseAsync);
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            Assert.Contains("The job queue is full (1 queued, limit max_queued_jobs)", e.Status.Detail);
        }
        finally
        {
            limits.MaxQueuedJobs = saved;
            foreach (var job in new[] { queued, running })
            {
                await Client.StopJobAsync(new StopJobRequest { JobId = job.Id });
                await Client.WatchJob(new WatchJobRequest { JobId = job.Id }).Events();
            }
        }
    }

    [Fact]
    public async Task A_queued_resumes_queued_event_is_at_the_step_its_model_stands_at()
    {
        await Client.Train(Request("queued-step", maxSteps: 3)).Events();
        var blocker = await Client.StartJobAsync(Request("queued-step-blocker", maxSteps: 100_000, epochs: 1000));
        var resume = await Client.StartJobAsync(new StartJobRequest { ModelName = "queued-step", Resume = true, Options = new TrainingOptions { MaxSteps = 5 } });
        try
        {
            // Watched from the model's step, as a watcher resuming from where it stands would: the queued event is there.
            using var watch = Client.WatchJob(new WatchJobRequest { JobId = resume.Id, FromStep = 3 });
            Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
            var queued = watch.ResponseStream.Current;
            Assert.Equal(JobEvent.EventOneofCase.Queued, queued.EventCase);
            Assert.Equal(3, queued.Step);
        }
        finally
        {
            foreach (var job in new[] { resume, blocker })
            {
                await Client.StopJobAsync(new StopJobRequest { JobId = job.Id });
                await Client.WatchJob(new WatchJobRequest { JobId = job.Id }).Events();
            }
        }
        // A new model's job is queued at step 0.
        var fresh = await Client.Train(Request("queued-step-new", maxSteps: 2)).Events();
        Assert.Equal(0, fresh.Single(e => e.EventCase == JobEvent.EventOneofCase.Queued).Step);
    }

    [Fact]
    public async Task A_queued_resume_job_shows_its_architecture()
    {
        await Client.Train(Request("arch-shown", maxSteps: 2, architecture: "stateful-lstm")).Events();
        var blocker = await Client.StartJobAsync(Request("arch-blocker", maxSteps: 100_000, epochs: 1000));
        var resume = await Client.StartJobAsync(new StartJobRequest { ModelName = "arch-shown", Resume = true, Options = new TrainingOptions { MaxSteps = 4 } });
        try
        {
            var queued = await Client.GetJobAsync(new GetJobRequest { JobId = resume.Id });
            Assert.Equal(Job.Types.State.Queued, queued.State);
            Assert.Equal("stateful-lstm", queued.Architecture);
        }
        finally
        {
            foreach (var job in new[] { resume, blocker })
            {
                await Client.StopJobAsync(new StopJobRequest { JobId = job.Id });
                await Client.WatchJob(new WatchJobRequest { JobId = job.Id }).Events();
            }
        }
    }

    [Fact]
    public async Task A_jobs_first_step_is_cut_into_pieces_while_clients_stream()
    {
        // Its cost is not known yet: run whole, the first step of a large model would hold every stream for its length.
        var session = await server.Generation.Open("gru");
        using var streaming = new CancellationTokenSource();
        using var call = server.Generation.Generate(new GenerateRequest { SessionId = session.Id, MaxChars = 90_000 }, cancellationToken: streaming.Token);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None)); // a stream is open
        var before = Metrics.ServerMetrics.TrainingStepPieces.Value;
        var events = await Client.Train(Request("first-cut", maxSteps: 1, epochs: 1)).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);
        Assert.True(Metrics.ServerMetrics.TrainingStepPieces.Value > before, "the one step ran whole");
        await streaming.CancelAsync();
        await server.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Id });
    }

    [Fact]
    public async Task A_cap_lowered_below_a_default_lowers_the_default_too()
    {
        var caps = server.Options.Limits.MaxHyperParameters;
        var before = caps["n_hidden"];
        caps["n_hidden"] = 20.5; // an admin's cap; n_hidden is an integer
        try
        {
            var gru = (await server.Catalog.ListArchitecturesAsync(new ListArchitecturesRequest())).Architectures.Single(a => a.Name == "stateful-gru");
            var spec = gru.Hyperparameters.Single(p => p.Name == "n_hidden");
            Assert.Equal((20.0, 20.0), (spec.DefaultValue, spec.Max));

            var request = Request("capped-default", maxSteps: 2);
            request.Hyperparameters.Remove("n_hidden");
            Assert.Equal(JobEvent.EventOneofCase.Finished, (await Client.Train(request).Events())[^1].EventCase);
            var model = await server.Catalog.GetModelAsync(new GetModelRequest { Name = "capped-default" });
            Assert.Equal(20, model.Hyperparameters["n_hidden"]);
        }
        finally { caps["n_hidden"] = before; }
    }

    [Fact]
    public async Task A_stop_that_arrives_while_the_job_is_starting_stops_it()
    {
        // A large upload makes the start (reading and encoding the text) long enough to stop the job in it.
        var request = Request("stopped-starting", maxSteps: 100_000, epochs: 1000);
        request.CorpusText = string.Concat(Enumerable.Repeat("the cat sat on the mat; ", 400_000)); // 9.6 MB
        var job = await Client.StartJobAsync(request);
        var queue = server.Services.GetRequiredService<Jobs.JobQueue>();
        var caught = false;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(20);)
        {
            var now = await Client.GetJobAsync(new GetJobRequest { JobId = job.Id });
            // Taken from the queue, not started yet: still queued (at 1, as a waiting job), so the job's own folder hold tells.
            if (now.State == Job.Types.State.Queued && queue.Get(job.Id, Security.Caller.Local).FolderHold != null) { caught = true; break; }
            if (now.State != Job.Types.State.Queued) break;
            await Task.Delay(2);
        }
        await Client.StopJobAsync(new StopJobRequest { JobId = job.Id });
        var events = await Client.WatchJob(new WatchJobRequest { JobId = job.Id }).Events();
        Assert.Equal(JobEvent.EventOneofCase.Stopped, events[^1].EventCase);
        Assert.True(caught, "the poll never saw the job between the queue and its start; the test did not reach the case it is for");
        Assert.False(events[^1].Stopped.CheckpointSaved); // nothing trained: no untrained model is left behind
        Assert.False(File.Exists(Path.Combine(server.Options.ModelsDirectory, "stopped-starting", "last.ckpt")));
        Assert.Equal(JobEvent.EventOneofCase.Finished, (await Client.Train(Request("stopped-starting", maxSteps: 5)).Events())[^1].EventCase); // the name is free
    }

    [Fact]
    public async Task CheckJob_refuses_what_StartJob_refuses_and_queues_nothing()
    {
        async Task<RpcException> Start(StartJobRequest r) => await Calls.Fails(() => Client.StartJobAsync(r).ResponseAsync);
        async Task<RpcException> Check(StartJobRequest r) => await Calls.Fails(() => Client.CheckJobAsync(r).ResponseAsync);

        var schedule = Request("dry-0"); schedule.Options.Schedule = "cosine";
        var hidden = Request("dry-1"); hidden.Hyperparameters["n_hidden"] = 100_000;
        var corpus = Request("dry-2"); corpus.CorpusName = "nope";
        var resume = new StartJobRequest { ModelName = "no-such-model", Resume = true };
        foreach (var bad in new[] { schedule, hidden, corpus, Request("gru"), resume })
        {
            var started = await Start(bad);
            var checkedOnly = await Check(bad);
            Assert.Equal((started.StatusCode, started.Status.Detail), (checkedOnly.StatusCode, checkedOnly.Status.Detail));
        }

        var job = await Client.CheckJobAsync(Request("dry-run"));
        Assert.Equal(("", Job.Types.State.Unspecified, "dry-run", "stateful-gru"), (job.Id, job.State, job.ModelName, job.Architecture));
        Assert.DoesNotContain((await Client.ListJobsAsync(new ListJobsRequest())).Jobs, j => j.ModelName == "dry-run");
        Assert.False(Directory.Exists(Path.Combine(server.Options.ModelsDirectory, "dry-run")));
    }

    [Fact]
    public async Task A_queued_job_has_a_place_in_the_queue_even_while_it_is_being_started()
    {
        // The device thread takes a job off the queue before it marks it running: a reply in between said QUEUED at position 0.
        for (var i = 0; i < 6; i++)
        {
            var job = await Client.StartJobAsync(Request($"place-{i}", maxSteps: 2));
            var seen = new List<Job> { job };
            while (seen[^1].State is Job.Types.State.Queued or Job.Types.State.Running)
            {
                await Task.Delay(2);
                seen.Add(await Client.GetJobAsync(new GetJobRequest { JobId = job.Id }));
            }
            Assert.All(seen, j => Assert.True(j.State != Job.Types.State.Queued || j.QueuePosition >= 1, $"{j.State} at position {j.QueuePosition}"));
            Assert.All(seen, j => Assert.True(j.State == Job.Types.State.Queued || j.QueuePosition == 0, $"{j.State} at position {j.QueuePosition}"));
        }
    }

    [Fact]
    public async Task A_model_whose_job_is_being_started_is_listed_queued_as_its_job_says_not_training()
    {
        // The device thread takes a job off the queue before it marks it running: meanwhile GetJob says QUEUED (at 1),
        // and ListModels said training. A job's state only moves on, so a model listed training has a job past queued.
        for (var i = 0; i < 6; i++)
        {
            var job = await Client.StartJobAsync(Request($"listed-{i}", maxSteps: 2));
            while (true)
            {
                var listed = (await server.Catalog.ListModelsAsync(new ListModelsRequest())).Models.FirstOrDefault(m => m.Name == job.ModelName);
                var now = await Client.GetJobAsync(new GetJobRequest { JobId = job.Id });
                if (listed?.Training == true) Assert.NotEqual(Job.Types.State.Queued, now.State);
                if (now.State is not (Job.Types.State.Queued or Job.Types.State.Running)) break;
            }
        }
    }

    [Fact]
    public async Task Long_values_in_job_requests_are_quoted_shortened_so_the_status_fits_its_header()
    {
        var longText = "a\n" + new string('x', 20_000);
        void Short(RpcException e, StatusCode code)
        {
            Assert.Equal(code, e.StatusCode);
            Assert.Contains("a\\nxxx", e.Status.Detail);
            Assert.Contains("x…", e.Status.Detail);
            Assert.True(e.Status.Detail.Length < 1000, e.Status.Detail);
        }
        Short(await Calls.Fails(() => Client.GetJobAsync(new GetJobRequest { JobId = longText }).ResponseAsync), StatusCode.NotFound);
        Short(await Calls.Fails(() => Client.StopJobAsync(new StopJobRequest { JobId = longText }).ResponseAsync), StatusCode.NotFound);
        async Task<RpcException> Check(StartJobRequest r) => await Calls.Fails(() => Client.CheckJobAsync(r).ResponseAsync);
        var arch = Request("long-0"); arch.Architecture = longText;
        Short(await Check(arch), StatusCode.InvalidArgument);
        var key = Request("long-1"); key.Hyperparameters[longText] = 1;
        Short(await Check(key), StatusCode.InvalidArgument);
        var optimizer = Request("long-2"); optimizer.Options.Optimizer = longText;
        Short(await Check(optimizer), StatusCode.InvalidArgument);
        var schedule = Request("long-3"); schedule.Options.Schedule = longText;
        Short(await Check(schedule), StatusCode.InvalidArgument);
        var steps = Request("long-4"); steps.Options.Schedule = "steps:" + longText;
        Short(await Check(steps), StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task A_new_model_may_not_take_a_device_name_Windows_reserves_but_one_stored_so_still_loads_and_resumes()
    {
        foreach (var name in new[] { "nul", "Com1", "lpt9.model", "AUX" })
        {
            var e = await Calls.Fails(() => Client.CheckJobAsync(Request(name)).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.StartsWith($"model_name '{name}' is not allowed: {name.Split('.')[0].ToUpperInvariant()} is a device name on Windows (CON, PRN, AUX, NUL, COM1 to COM9 and LPT1 to LPT9, in any case, with or without an extension), so a folder of that name cannot be made or copied there. Pick another name; a model name is 1 to 64 characters", e.Status.Detail);
            Assert.False(Directory.Exists(Path.Combine(server.Options.ModelsDirectory, name)));
        }
        // A name ending in '.': Windows drops the '.', so it and the name without it would be one folder.
        var dotted = await Calls.Fails(() => Client.CheckJobAsync(Request("gru.")).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, dotted.StatusCode);
        Assert.StartsWith("model_name 'gru.' is not allowed: it ends with '.', which Windows drops from a folder's name, so 'gru.' and 'gru' would be one folder there. Pick another name; a model name is 1 to 64 characters", dotted.Status.Detail);
        // Names that only begin like a device are names like any other, and a '.' inside a name is one like any other.
        foreach (var name in new[] { "console", "com10", "nully", "lpt0", "gru.v2" })
            Assert.Equal(name, (await Client.CheckJobAsync(Request(name))).ModelName);

        // A model stored under such a name before the rule (or copied in) keeps working: listed, read, resumed.
        server.TrainModel("con", "stateful-gru", steps: 2);
        Assert.Equal(2, (await server.Catalog.GetModelAsync(new GetModelRequest { Name = "con" })).Summary.StepsTrained);
        var resume = new StartJobRequest { ModelName = "con", Resume = true, Options = new TrainingOptions { MaxSteps = 3 } };
        var events = await Client.Train(resume).Events();
        Assert.Equal(JobEvent.EventOneofCase.Finished, events[^1].EventCase);
        Assert.Equal(3, (await server.Catalog.GetModelAsync(new GetModelRequest { Name = "con" })).Summary.StepsTrained);
    }

    [Fact]
    public async Task Bad_job_requests_name_the_field_and_what_is_allowed()
    {
        async Task<RpcException> Start(StartJobRequest r) => await Calls.Fails(() => Client.StartJobAsync(r).ResponseAsync);

        var exists = await Start(Request("gru"));
        Assert.Equal(StatusCode.AlreadyExists, exists.StatusCode);

        // A folder beside the server's database named as its journal would stop the server's next start.
        var e = await Start(Request("charrnn.db-journal"));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("names starting with 'charrnn.' are kept for the server's own files", e.Status.Detail);
        Assert.False(Directory.Exists(Path.Combine(server.Options.ModelsDirectory, "charrnn.db-journal")));

        var cycles = Request("x0"); cycles.Options.KeepCycleCheckpoints = true; // a constant schedule has no cycles to keep
        e = await Start(cycles);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        // Every setting named as a field, so a client that maps fields to its own words (the REPL's keep_cycles=, schedule=) can.
        Assert.Equal("options.keep_cycle_checkpoints keeps each SGDR cycle's end, and options.schedule 'constant' has no cycles; set options.schedule to " +
                     "sgdr:cycle_len=1,cycle_mult=2 (say), or a schedule with an sgdr phase, or drop options.keep_cycle_checkpoints.", e.Status.Detail);

        var patience = Request("x0"); patience.Options.Patience = 1001;
        e = await Start(patience);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("options.patience = 1001 is not allowed; use 0 (off) or 1 to 1000 epochs.", e.Status.Detail);

        var delta = Request("x0"); (delta.Options.Patience, delta.Options.MinDelta) = (2, 1.5);
        e = await Start(delta);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("options.min_delta = 1.5 is not allowed; use 0 (any drop counts) to 1 nats/char.", e.Status.Detail);
        var deltaAlone = Request("x0"); deltaAlone.Options.MinDelta = 0.01; // patience 0: the delta would change nothing
        e = await Start(deltaAlone);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("options.min_delta = 0.01 only counts with early stopping, and patience is 0 (off); set options.patience to the epochs to wait (say 3), or drop min_delta.",
                     e.Status.Detail);

        var arch = Request("x1"); arch.Architecture = "transformer";
        e = await Start(arch);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("stateful-lstm", e.Status.Detail);

        var hidden = Request("x2"); hidden.Hyperparameters["n_hidden"] = 100_000;
        e = await Start(hidden);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("hyperparameters[n_hidden]: n_hidden = 100000 is not allowed; n_hidden must be an integer from 1 to 2048 (this server's cap, ListArchitectures' max for it; set by charrnn serve --max-hyperparameter n_hidden=N).", e.Status.Detail);
        hidden.Hyperparameters["n_hidden"] = 0; // below the range: this server's range all the same, not the engine's 1 to 4096
        Assert.Equal("hyperparameters[n_hidden]: n_hidden = 0 is not allowed; n_hidden must be an integer from 1 to 2048 (this server's cap, ListArchitectures' max for it; set by charrnn serve --max-hyperparameter n_hidden=N).", (await Start(hidden)).Status.Detail);

        var rare = Request("x2a"); rare.Options.MinFreq = 1_000_000_000;
        foreach (var refused in new[] { await Start(rare), await Calls.Fails(() => Client.CheckJobAsync(rare).ResponseAsync) })
        {
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            Assert.StartsWith("options.min_freq = 1000000000 leaves 0 of the corpus's ", refused.Status.Detail);
            Assert.Matches(@"use min_freq \d+ or less, which keeps at least 2\.$", refused.Status.Detail);
        }

        var halfTrue = Request("x2b"); halfTrue.Hyperparameters["random_bptt"] = 0.5; // a switch in a map of doubles
        e = await Start(halfTrue);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("hyperparameters[random_bptt]: random_bptt = 0.5 is not allowed; random_bptt must be 0 or 1 (false or true).", e.Status.Detail);

        var unknown = Request("x3", architecture: "stateful-gru-cell"); unknown.Hyperparameters["layers"] = 2;
        e = await Start(unknown);
        Assert.Contains("'layers' is not a hyperparameter", e.Status.Detail);

        var lr = Request("x4"); lr.Options.LearningRate.Add(1); lr.Options.LearningRate.Add(2); lr.Options.LearningRate.Add(3);
        e = await Start(lr);
        Assert.Contains("learning_rate has 4 values", e.Status.Detail);

        // The engine's short keys (lr, val_fraction) are named as the proto's fields.
        var badLr = Request("x4"); badLr.Options.LearningRate.Clear(); badLr.Options.LearningRate.Add(11);
        e = await Start(badLr);
        Assert.StartsWith("options.learning_rate = 11 is not allowed", e.Status.Detail);
        var fraction = Request("x4"); fraction.Options.ValidFraction = 0.7;
        e = await Start(fraction);
        Assert.StartsWith("options.valid_fraction = 0.7 is not allowed", e.Status.Detail);
        var cycle = Request("x4"); cycle.Options.Schedule = "sgdr:cycle_len=0";
        e = await Start(cycle);
        Assert.StartsWith("options.schedule 'sgdr:cycle_len=0': sgdr cycle_len = 0 must be from 0.01", e.Status.Detail); // named as every schedule error is

        // The maxima ListArchitectures gives are the ones enforced, and each message gives the range in the proto's terms.
        var clip = Request("x4"); clip.Options.Clip = 2e6;
        Assert.Equal("options.clip = 2000000 is not allowed; use 0 (off) or a gradient norm up to 1000000.", (await Start(clip)).Status.Detail);
        var steps = Request("x4"); steps.Options.MaxSteps = 2_000_000_000_000;
        Assert.StartsWith("options.max_steps = 2000000000000 is not allowed", (await Start(steps)).Status.Detail);
        var minFreq = Request("x4"); minFreq.Options.MinFreq = int.MaxValue;
        Assert.StartsWith("options.min_freq = 2147483647 is not allowed; it must be from 1 to 1000000000.", (await Start(minFreq)).Status.Detail);
        var epochs = Request("x4"); epochs.Options.Epochs = 0;
        Assert.Equal("options.epochs = 0 is not allowed; use 1 to 10000 (limit max_epochs).", (await Start(epochs)).Status.Detail); // this server's cap, not the engine's
        var budget = Request("x4"); budget.Options.TimeBudgetSeconds = 1e-9;
        Assert.Equal("options.time_budget_seconds = 1E-09 is not allowed; use 0 (no limit) or 0.001 to 31622400 seconds (366 days).", (await Start(budget)).Status.Detail);
        budget.Options.TimeBudgetSeconds = 1e12; // over the stated bound, not below it
        Assert.Equal("options.time_budget_seconds = 1000000000000 is not allowed; use 0 (no limit) or 0.001 to 31622400 seconds (366 days).", (await Start(budget)).Status.Detail);
        budget.Options.TimeBudgetSeconds = 366 * 86_400;
        await Client.CheckJobAsync(budget); // the bound itself is allowed
        var listed = (await server.Catalog.ListArchitecturesAsync(new ListArchitecturesRequest())).TrainingOptions;
        Assert.Equal(1e6, listed.Single(o => o.Name == "clip").Max);
        Assert.Equal(1e9, listed.Single(o => o.Name == "min_freq").Max);

        // One value sent is reported as sent; empty strings are unset for optimizer and schedule alike; the lenient schedule forms are documented.
        var nan = Request("x4"); nan.Options.LearningRate.Clear(); nan.Options.LearningRate.Add(double.NaN);
        Assert.StartsWith("options.learning_rate = NaN is not allowed", (await Start(nan)).Status.Detail);
        var empty = Request("x4"); empty.Options.Optimizer = ""; empty.Options.Schedule = "";
        await Client.CheckJobAsync(empty);
        var help = (await server.Catalog.ListArchitecturesAsync(new ListArchitecturesRequest())).ScheduleHelp;
        Assert.Contains("either left out is 1", help);
        Assert.Contains("in any case", help);
        foreach (var lenient in new[] { "CONSTANT", " constant ", "sgdr:cycle_len=1" })
        {
            var form = Request("x4"); form.Options.Schedule = lenient;
            await Client.CheckJobAsync(form);
        }
        var upper = Request("x4"); upper.Options.Optimizer = "ADAMW"; // any case, as schedule kinds
        await Client.CheckJobAsync(upper); // accepted: it was INVALID_ARGUMENT "optimizer = 'ADAMW' is not known"

        var schedule = Request("x5"); schedule.Options.Schedule = "cosine";
        e = await Start(schedule);
        Assert.Contains("schedule 'cosine' is not known", e.Status.Detail);

        var shortText = Request("x6"); shortText.CorpusText = "too short";
        e = await Start(shortText);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("Cut into hyperparameters[bs] = 8 streams", e.Status.Detail); // the field, as the server names it in every message

        var padding = Request("x6"); padding.CorpusText = new string('\0', 5000);
        e = await Start(padding);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("corpus_text has a NUL character (U+0000) at line 1, column 1, which every model's vocabulary holds as padding", e.Status.Detail);
        Assert.Equal("corpus_text", Assert.Single(e.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations).Field); // not at the message's start

        // Text saved as UTF-16 without its byte-order mark is valid UTF-8 with a NUL after every letter: it was accepted and trained on "t h e".
        var utf16 = Request("x6"); utf16.CorpusText = System.Text.Encoding.UTF8.GetString(System.Text.Encoding.Unicode.GetBytes(string.Concat(Enumerable.Repeat("the quick brown fox\n", 200))));
        e = await Start(utf16);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("corpus_text has a NUL character (U+0000) at line 1, column 2, which every model's vocabulary holds as padding, not as text; " +
                     "its NULs fall where UTF-16LE's would: it looks like UTF-16LE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-16LE -t UTF-8).", e.Status.Detail);
        Assert.Equal("corpus_text", Assert.Single(e.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations).Field);

        var big = Request("x7"); big.CorpusText = new string('a', (int)server.Options.Limits.MaxUploadBytes + 1);
        e = await Start(big);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("max_upload_bytes", e.Status.Detail);

        var corpus = Request("x8"); corpus.CorpusName = "nope";
        e = await Start(corpus);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);

        var resumeMissing = await Start(new StartJobRequest { ModelName = "nothing-here", Resume = true });
        Assert.Equal(StatusCode.NotFound, resumeMissing.StatusCode);

        var resumeChange = await Start(new StartJobRequest { ModelName = "gru", Resume = true, Options = new TrainingOptions { Seed = 3 } });
        Assert.Equal(StatusCode.InvalidArgument, resumeChange.StatusCode);
        Assert.Contains("options.seed cannot change when resuming", resumeChange.Status.Detail);

        var noJob = await Calls.Fails(() => Client.GetJobAsync(new GetJobRequest { JobId = "j-nope" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, noJob.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(server.Options.ModelsDirectory, "x6")));
    }

    /// <summary>Three per-group values out of range are said as the repeated field the client sent: [0.1, 2, 0.1], not 0.1,2,0.1.</summary>
    [Fact]
    public async Task A_repeated_options_values_out_of_range_are_said_as_a_list()
    {
        var request = Request("three-decays");
        request.Options.WeightDecay.Add([0.1, 2, 0.1]);
        var e = await Calls.Fails(() => Client.CheckJobAsync(request).ResponseAsync);
        Assert.Equal("options.weight_decay = [0.1, 2, 0.1] is not allowed; each value must be a number from 0 to 1.", e.Status.Detail);
        request.Options.WeightDecay.Clear(); request.Options.WeightDecay.Add(2); // one value: as it is
        Assert.Equal("options.weight_decay = 2 is not allowed; each value must be a number from 0 to 1.", (await Calls.Fails(() => Client.CheckJobAsync(request).ResponseAsync)).Status.Detail);
    }

    /// <summary>
    /// AdamW's lr·wd check names both options as the proto's fields, in its subject and its advice: a client sent
    /// learning_rate and weight_decay, never the engine's lr and wd (the REPL maps options.X back to its keys).
    /// </summary>
    [Theory]
    [InlineData("constant", "options.learning_rate × options.weight_decay = 5 × 0.5 is not allowed with adamw")]
    [InlineData("steps:1=2", "options.learning_rate × options.weight_decay = 5 × 0.5 (options.learning_rate 2.5 at the schedule's peak factor 2) is not allowed with adamw")]
    public async Task Adamws_rate_and_decay_product_is_refused_naming_both_fields_as_the_proto_does(string schedule, string subject)
    {
        var request = Request("adamw-product");
        request.Options.Optimizer = "adamw";
        request.Options.Schedule = schedule;
        request.Options.LearningRate.Clear(); request.Options.LearningRate.Add(schedule == "constant" ? 5 : 2.5);
        request.Options.WeightDecay.Add(0.5);
        var e = await Calls.Fails(() => Client.CheckJobAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal(subject + ", whose decay multiplies the weights by 1 − lr·wd each step; their product must be below 1 " +
                     "(use a smaller options.learning_rate or options.weight_decay).", e.Status.Detail);
    }

    /// <summary>A server without keys has one user: its NOT_FOUND names no key ("key 'local'" meant nothing to them).</summary>
    [Fact]
    public async Task An_unknown_job_on_a_server_without_keys_is_not_found_naming_no_key()
    {
        var e = await Calls.Fails(() => Client.GetJobAsync(new GetJobRequest { JobId = "j-no-such" }).ResponseAsync);
        Assert.Equal((StatusCode.NotFound, $"No job 'j-no-such' (ended jobs are kept until {server.Options.Limits.MaxEndedJobs} newer ones end)."), (e.StatusCode, e.Status.Detail));
    }

    /// <summary>
    /// A model trained on the built-in nietzsche is not resumed on the corpora folder's nietzsche.txt of other text, which stands in
    /// for it (README, deploy.md): a resume continues on the same text or is refused saying which text is used now and how to offer both.
    /// </summary>
    [Fact]
    public async Task A_resume_of_a_built_in_corpus_model_is_refused_where_a_corpora_folder_file_stands_in_for_that_corpus_saying_how_to_resume()
    {
        using var own = new ServerFixture();
        // Trained outside the server on text its checkpoint records as the built-in nietzsche (its fingerprint): no download needed.
        own.TrainOn("on-built-in", new Engine.Text.Corpus("nietzsche", ServerFixture.TinyText, Engine.Text.KnownCorpus.Nietzsche.Sha256));
        var file = Path.Combine(own.Options.CorporaDirectory!, "nietzsche.txt");
        File.WriteAllText(file, "my own nietzsche, not the lesson's\n");
        var now = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));

        var e = await Calls.Fails(() => own.Training.StartJobAsync(new StartJobRequest { ModelName = "on-built-in", Resume = true, Options = new TrainingOptions { MaxSteps = 5 } }).ResponseAsync);
        Assert.Equal((StatusCode.FailedPrecondition,
            $"Model 'on-built-in' was trained on corpus 'nietzsche' with SHA-256 {Engine.Text.KnownCorpus.Nietzsche.Sha256[..12]}…, but the server's copy now has {now[..12]}…; " +
            "it cannot be resumed on other text: the corpora folder's nietzsche.txt is used in place of the built-in text it was trained on. " +
            "To resume it, rename that file (the built-in text is then offered as 'nietzsche' again, and the file under its new name)."), (e.StatusCode, e.Status.Detail));
        Assert.DoesNotContain((await own.Training.ListJobsAsync(new ListJobsRequest())).Jobs, j => j.ModelName == "on-built-in"); // no job queued
    }
}
