using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

public class TrainingTests
{
    private static readonly Architecture Lstm = Architectures.Get("stateful-lstm");

    /// <summary>A two-layer model with dropout, random bptt and SGDR: every source of state a resume must restore.</summary>
    private static Trainer NewTrainer(string? folder, long maxSteps, string corpusText, string arch = "stateful-lstm")
    {
        var architecture = Architectures.Get(arch);
        var hp = architecture.Resolve(new Dictionary<string, double>
        {
            ["n_fac"] = 6, ["n_hidden"] = 12, ["layers"] = 2, ["dropout"] = 0.3, ["bs"] = 4, ["bptt"] = 8, ["random_bptt"] = 1,
        });
        var options = Tiny.Options(epochs: 5, maxSteps: maxSteps) with { Schedule = "sgdr:cycle_len=1,cycle_mult=2", Clip = 1.0, SampleChars = 20 };
        return Trainer.Create(architecture, hp, options, Tiny.Corpus(corpusText), CPU, folder);
    }

    [Theory]
    [InlineData("stateful-lstm")]
    [InlineData("stateful-gru")]
    public void Stopping_saving_and_resuming_reproduces_an_uninterrupted_run(string arch)
    {
        var text = Tiny.Text(60); // ~1,150 training chars: about 30 batches per epoch, so the run crosses an epoch end
        using var straightDir = new TempFolder();
        using var resumedDir = new TempFolder();

        using var straight = NewTrainer(straightDir.Path, maxSteps: 45, text, arch);
        straight.Run();
        Assert.True(straight.Position.Epoch >= 1, "the run should cross an epoch boundary");

        using (var first = NewTrainer(resumedDir.Path, maxSteps: 17, text, arch)) first.Run();
        using var resumed = Trainer.Resume(Path.Combine(resumedDir.Path, Trainer.LastCheckpoint), Tiny.Corpus(text), CPU, resumedDir.Path,
            o => o with { MaxSteps = 45 });
        Assert.Equal(17, resumed.Position.Step);
        resumed.Run();

        Assert.Equal(straight.Position.Step, resumed.Position.Step);
        var a = straight.Model.state_dict();
        var b = resumed.Model.state_dict();
        foreach (var (name, tensor) in a)
            Assert.True((tensor - b[name]).abs().max().item<float>() <= 1e-6f, $"weight {name} differs after resume");
        Assert.Equal(straight.History.Select(h => h.TrainLoss), resumed.History.Select(h => h.TrainLoss));
    }

    [Theory]
    [InlineData("stateful-lstm")]
    [InlineData("stateful-gru")]
    public void Models_loaded_on_another_thread_meanwhile_leave_a_seeded_run_exactly_as_it_was(string arch)
    {
        // A server loads a model for a new session (its initialisation draws from libtorch's generator)
        // while a job trains: the job's dropout masks must not change, or a resumed run is no longer exact.
        var text = Tiny.Text(60);
        using var dir = new TempFolder();
        using var straight = NewTrainer(dir.Path, maxSteps: 45, text, arch);
        straight.Run();
        using var disturbed = NewTrainer(null, maxSteps: 45, text, arch);
        var loads = 0;
        using var done = new CancellationTokenSource();
        var loader = new Thread(() =>
        {
            while (!done.IsCancellationRequested)
            {
                using var loaded = TrainedModel.LoadForGeneration(Path.Combine(dir.Path, Trainer.LastCheckpoint), CPU);
                loads++;
            }
        });
        loader.Start();
        try { disturbed.Run(); }
        finally { done.Cancel(); loader.Join(); }
        Assert.True(loads > 1, $"only {loads} model(s) loaded while the run trained");
        var a = straight.Model.state_dict();
        var b = disturbed.Model.state_dict();
        foreach (var (name, tensor) in a)
            Assert.True((tensor - b[name]).abs().max().item<float>() == 0, $"weight {name} differs from the undisturbed run's");
    }

    [Fact]
    public void The_smallest_validation_text_a_stream_model_can_score_is_taken_and_scored_and_one_char_less_refused()
    {
        var arch = Architectures.Get("stateful-gru");
        var hp = Tiny.HyperParameters(arch, hidden: 8, bs: 4, bptt: 4);
        var options = Tiny.Options(epochs: 1) with { ValidFraction = 0.1 };
        // 50 chars: 5 held out, bs + 1, each of the 4 overlapping scoring streams one input and its next char.
        using (var trainer = Trainer.Create(arch, hp, options, Tiny.Corpus(Tiny.Text()[..50]), CPU, null))
        {
            trainer.Run();
            Assert.True(double.IsFinite(Assert.Single(trainer.History).ValidLoss));
        }
        // 40 chars: 4 held out, bs, one stream short of a target.
        var e = Assert.Throws<CorpusLayoutException>(() => TrainingData.CheckFits(arch, hp, options, 40));
        Assert.Equal("The corpus has 40 characters: 36 for training and 4 for validation. Cut into bs = 4 streams, training needs at least 8 characters " +
                     "and validation 5 (its streams share a char at each cut). Use a smaller bs or a longer corpus, or val_fraction from 0.12 to 0.5.", e.Message);
        Assert.Contains("training needs at least 8", Assert.Throws<CorpusLayoutException>(() => TrainingData.CheckFits(arch, hp, options with { ValidFraction = 0.5 }, 15)).Message);
    }

    [Fact]
    public void Validating_leaves_the_model_in_the_mode_it_was_in()
    {
        using var trainer = NewTrainer(null, maxSteps: 2, Tiny.Text(60));
        trainer.Model.eval(); // about to generate: dropout must stay off
        var (loss, _) = trainer.Validate();
        Assert.False(trainer.Model.training);
        trainer.Model.train();
        Assert.Equal(loss, trainer.Validate().Loss); // eval mode inside either way: dropout never touches validation
        Assert.True(trainer.Model.training);
    }

    [Fact]
    public void Random_draws_between_steps_do_not_change_a_runs_dropout()
    {
        var text = Tiny.Text(40);
        using var quiet = NewTrainer(null, maxSteps: 12, text);
        using var busy = NewTrainer(null, maxSteps: 12, text);
        while (!quiet.IsComplete) quiet.Step();
        while (!busy.IsComplete)
        {
            busy.Step();
            using var other = rand(1000); // what else a server does meanwhile: a model loaded, initialised at random first
        }
        foreach (var (name, tensor) in quiet.Model.state_dict())
            Assert.True((tensor - busy.Model.state_dict()[name]).abs().max().item<float>() == 0f, $"weight {name} differs");
    }

    [Fact]
    public void A_resume_that_changes_weight_decay_applies_it()
    {
        var text = Tiny.Text(40);
        using var dir = new TempFolder();
        using (var first = NewTrainer(dir.Path, maxSteps: 8, text)) first.Run();
        var checkpoint = Path.Combine(dir.Path, Trainer.LastCheckpoint);
        using var same = Trainer.Resume(checkpoint, Tiny.Corpus(text), CPU, null, o => o with { MaxSteps = 16 });
        using var decayed = Trainer.Resume(checkpoint, Tiny.Corpus(text), CPU, null, o => o with { MaxSteps = 16, WeightDecay = LayerGroupValues.All(0.5) });
        while (!same.IsComplete) same.Step();
        while (!decayed.IsComplete) decayed.Step();
        Assert.Equal(0.5, decayed.Options.WeightDecay.Recurrent);
        var a = same.Model.state_dict();
        var b = decayed.Model.state_dict();
        // Decay pulls the weights towards zero: the decayed run ends with smaller ones.
        var norm = (Dictionary<string, TorchSharp.torch.Tensor> d) => d.Where(kv => kv.Key.Contains("weight")).Sum(kv => kv.Value.square().sum().item<float>());
        Assert.True(norm(b) < norm(a) * 0.999f, $"weight norms {norm(b)} (decay 0.5) and {norm(a)} (decay as saved): the new decay was not applied");
    }

    /// <summary>Pieces picked for what they exercise; every other architecture (a new one too) in 3.</summary>
    public static TheoryData<string, int> SplitSteps()
    {
        var data = new TheoryData<string, int>
        {
            { "stateful-gru", 3 }, // streams: cut in time, 2 segments of the bptt window (4 calls and the optimizer step)
            { "stateful-lstm", 4 }, // two state tensors handed back between segments
            { "stateful-gru-cell", 12 }, // a hand-written cell, one time step per segment
            { "stateful-rnn", 40 }, // more pieces than time steps: a segment per step
            { "seq-rnn", 5 }, // windows: rows are dim 0, pieces of unequal size
            { "loop", 2 }, // one target per window
        };
        var picked = data.Select(row => (string)row[0]!).ToHashSet();
        foreach (var a in Architectures.All.Where(a => !picked.Contains(a.Name))) data.Add(a.Name, 3);
        return data;
    }

    [Theory]
    [MemberData(nameof(SplitSteps))]
    public void A_step_split_into_pieces_trains_as_the_whole_batch_does(string name, int pieces)
    {
        var arch = Architectures.Get(name);
        var hp = arch.Resolve(arch.Parameters.Any(p => p.Name == "dropout")
            ? new Dictionary<string, double> { ["n_hidden"] = 16, ["dropout"] = 0, ["bs"] = 8 }
            : new Dictionary<string, double> { ["n_hidden"] = 16, ["bs"] = 8 });
        var options = Tiny.Options(epochs: 2, maxSteps: 14) with { Clip = 1.0, SampleChars = 0 };
        using var whole = Trainer.Create(arch, hp, options, Tiny.Corpus(Tiny.Text(20)), CPU, null);
        using var split = Trainer.Create(arch, hp, options, Tiny.Corpus(Tiny.Text(20)), CPU, null);
        whole.Run();
        int calls = 0;
        while (!split.IsComplete)
        {
            var before = split.Position.Step;
            calls++;
            if (split.StepPiece(pieces)) Assert.Equal(before + 1, split.Position.Step);
            else Assert.Equal(before, split.Position.Step); // no optimizer step until the last piece
        }
        Assert.True(calls >= 2 * 14, $"{calls} calls for 14 steps: the steps were not split"); // a short last batch has fewer rows than pieces
        Assert.Equal((whole.Position.Epoch, whole.Position.Batch, whole.Position.Step), (split.Position.Epoch, split.Position.Batch, split.Position.Step));
        foreach (var (key, tensor) in whole.Model.state_dict())
            Assert.True((tensor - split.Model.state_dict()[key]).abs().max().item<float>() < 1e-4f, $"{name}: weight {key} differs between whole and split steps");
        Assert.Equal(whole.History.Select(h => h.ValidLoss), split.History.Select(h => h.ValidLoss), (a, b) => Math.Abs(a - b) < 1e-4);
    }

    [Fact]
    public void A_step_in_pieces_takes_its_optimizer_step_in_a_call_of_its_own()
    {
        var arch = Architectures.Get("stateful-gru");
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(maxSteps: 10) with { SampleChars = 0 }, Tiny.Corpus(), CPU, null);
        var initial = Snapshot(trainer.Model.parameters());
        List<Tensor> gradients;
        int calls = 0;
        do
        {
            Assert.True(++calls < 20, "the step never ended");
            Assert.All(trainer.Model.parameters().Zip(initial), w => Assert.Equal(0f, (w.First - w.Second).abs().max().item<float>())); // no step yet
            gradients = Snapshot(trainer.Model.parameters().Select(p => p.grad ?? zeros_like(p)));
        } while (!trainer.StepPiece(3));
        // The call that ended the step found the gradient complete and left it as it was: it only clipped and stepped.
        Assert.True(calls > 2, $"{calls} calls: the step was not split");
        Assert.All(trainer.Model.parameters().Zip(gradients), g => Assert.Equal(0f, (g.First.grad! - g.Second).abs().max().item<float>()));
        Assert.Contains(trainer.Model.parameters().Zip(initial), w => (w.First - w.Second).abs().max().item<float>() > 0);
        Assert.Equal(1, trainer.Position.Step);

        static List<Tensor> Snapshot(IEnumerable<Tensor> tensors) => tensors.Select(t => t.detach().clone()).ToList();
    }

    [Fact]
    public void An_epochs_end_runs_a_unit_per_call_and_records_the_same_epoch()
    {
        using var dirWhole = new TempFolder();
        using var dirPieces = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        var options = Tiny.Options(epochs: 2) with { SampleChars = 20 };
        using var whole = Trainer.Create(arch, Tiny.HyperParameters(arch), options, Tiny.Corpus(), CPU, dirWhole.Path);
        using var pieces = Trainer.Create(arch, Tiny.HyperParameters(arch), options, Tiny.Corpus(), CPU, dirPieces.Path);
        whole.Run();

        int epochEndCalls = 0;
        while (!pieces.IsComplete)
        {
            var step = pieces.Position.Step;
            if (pieces.StepPiece(1))
            {
                Assert.Equal(step + 1, pieces.Position.Step);
                continue;
            }
            // Not a step: a unit of the epoch's end.
            epochEndCalls++;
            Assert.Equal(step, pieces.Position.Step);
            if (pieces.InEpochEnd) Assert.Equal(0L, pieces.NextBatchCharacters);
        }
        // Per epoch: 10 validation batches (20% of 2,880 chars in bs 8 × bptt 8: streams of 72, then the 7 chars past
        // the last one), 2 calls of sample (16 chars each at most), the record, and a call per checkpoint (last, and best if better).
        Assert.InRange(epochEndCalls, 2 * (10 + 2 + 1 + 1), 2 * (10 + 2 + 1 + 2));
        static object Record(EpochRecord r) => (r.Epoch, r.Step, r.TrainLoss, r.ValidLoss, r.ValidAccuracy, r.LearningRate, r.Sample);
        Assert.Equal(whole.History.Select(Record), pieces.History.Select(Record)); // all but the clock, bit for bit
        pieces.FlushCheckpoints(); // the last epoch's saves are written in the background
        Assert.Equal(2, CheckpointFile.ReadMetadata(Path.Combine(dirPieces.Path, Trainer.LastCheckpoint)).Position.Epoch);
        Assert.Equal(CheckpointFile.ReadMetadata(Path.Combine(dirWhole.Path, Trainer.BestCheckpoint)).Position.BestValidLoss,
            CheckpointFile.ReadMetadata(Path.Combine(dirPieces.Path, Trainer.BestCheckpoint)).Position.BestValidLoss);
    }

    [Fact]
    public void Saving_during_an_epochs_end_finishes_the_epoch_first()
    {
        using var dir = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(epochs: 3), Tiny.Corpus(), CPU, dir.Path);
        while (!trainer.InEpochEnd) trainer.StepPiece(1);
        trainer.StepPiece(1);
        Assert.True(trainer.InEpochEnd);
        Assert.Empty(trainer.History);
        trainer.SaveCheckpoint("periodic");
        Assert.False(trainer.InEpochEnd);
        Assert.Single(trainer.History);
        var saved = CheckpointFile.ReadMetadata(Path.Combine(dir.Path, Trainer.LastCheckpoint));
        Assert.Equal((1, 0), (saved.Position.Epoch, saved.Position.Batch));
    }

    [Fact]
    public void A_queued_checkpoint_holds_its_own_moment_while_training_goes_on()
    {
        using var dir = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(maxSteps: 20), Tiny.Corpus(), CPU, dir.Path);
        var saved = new List<(long Step, int Thread)>();
        trainer.CheckpointSaved += c => saved.Add((c.Step, Environment.CurrentManagedThreadId));
        for (int i = 0; i < 3; i++) trainer.Step();
        var atQueue = trainer.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());
        trainer.QueueCheckpoint("periodic");
        for (int i = 0; i < 4; i++) trainer.Step(); // the weights move on while the file is written
        trainer.FlushCheckpoints();

        Assert.Equal([(3L, Environment.CurrentManagedThreadId)], saved); // reported once, on the trainer's thread
        using var file = CheckpointFile.Read(Path.Combine(dir.Path, Trainer.LastCheckpoint));
        Assert.Equal(3, file.Metadata.Position.Step);
        foreach (var (name, values) in atQueue)
            Assert.Equal(values, file.Tensors["model/" + name].data<float>().ToArray());
        Assert.NotEqual(atQueue.First().Value, trainer.Model.state_dict().First().Value.data<float>().ToArray());
    }

    [Fact]
    public void A_checkpoint_write_that_fails_in_the_background_fails_the_trainers_next_call()
    {
        using var dir = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(epochs: 100_000), Tiny.Corpus(), CPU, dir.Path);
        trainer.Step();
        // A folder where the file should go: the rename over it fails, as a full or read-only disk would.
        Directory.CreateDirectory(Path.Combine(dir.Path, Trainer.LastCheckpoint, "occupied"));
        trainer.QueueCheckpoint("periodic");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.ThrowsAny<IOException>(() => { while (clock.Elapsed < TimeSpan.FromSeconds(30)) trainer.StepPiece(1); });
        // Epoch ends reached meanwhile queued saves of their own: let them finish (and fail) before looking.
        while (true)
        {
            try { trainer.FlushCheckpoints(); break; }
            catch (IOException) { }
        }
        Assert.True(Directory.Exists(Path.Combine(dir.Path, Trainer.LastCheckpoint, "occupied")));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Saving_during_a_split_step_finishes_the_step_first()
    {
        using var dir = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(maxSteps: 10), Tiny.Corpus(), CPU, dir.Path);
        Assert.False(trainer.StepPiece(4));
        Assert.True(trainer.InStep);
        trainer.SaveCheckpoint("periodic");
        Assert.False(trainer.InStep);
        Assert.Equal(1, trainer.Position.Step);
        Assert.Equal(1, CheckpointFile.ReadMetadata(Path.Combine(dir.Path, Trainer.LastCheckpoint)).Position.Step);
    }

    [Fact]
    public void Cancellation_stops_within_one_batch_and_saves_a_checkpoint()
    {
        using var dir = new TempFolder();
        using var trainer = NewTrainer(dir.Path, maxSteps: 1000, Tiny.Text(60));
        using var cancel = new CancellationTokenSource();
        trainer.BatchEnded += step => { if (step == 5) cancel.Cancel(); };
        var outcome = trainer.Run(cancel.Token);
        Assert.Equal(TrainingOutcomeKind.Stopped, outcome.Kind);
        Assert.Equal(5, trainer.Position.Step);
        var saved = CheckpointFile.ReadMetadata(Path.Combine(dir.Path, Trainer.LastCheckpoint));
        Assert.Equal(5, saved.Position.Step);
        Assert.Equal("stopped", saved.Reason);
    }

    [Fact]
    public void A_time_budget_that_ends_the_run_first_sets_the_remaining_time_and_the_steps_progress_counts_to()
    {
        var arch = Architectures.Get("stateful-gru");
        var budget = TimeSpan.FromSeconds(1.5);
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(epochs: 100_000) with { ProgressInterval = TimeSpan.FromMilliseconds(100), TimeBudget = budget },
            Tiny.Corpus(), CPU, null);
        var epochsTotal = trainer.EstimateTotalSteps();
        var seen = new List<TrainingProgress>();
        trainer.Progress += seen.Add;
        var outcome = trainer.Run();
        Assert.Equal(TrainingOutcomeKind.Stopped, outcome.Kind);
        var timed = seen.Where(p => p.Remaining != null).ToList();
        Assert.NotEmpty(timed);
        Assert.All(timed, p => Assert.True(p.Remaining <= budget, $"{p.Remaining} left of a {budget} budget"));
        // The steps the budget leaves room for, not the 100,000 epochs': a bar fills by time.
        Assert.All(timed, p => Assert.True(p.TotalSteps < epochsTotal / 10, $"{p.TotalSteps} of {epochsTotal}"));
        Assert.InRange((double)timed[^1].Step / timed[^1].TotalSteps, 0.3, 1.0); // the last report comes late in the budget
    }

    [Fact]
    public void A_resumed_run_has_no_time_budget_unless_given_one_again()
    {
        using var dir = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        using (var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(epochs: 3) with { TimeBudget = TimeSpan.FromMilliseconds(1) }, Tiny.Corpus(), CPU, dir.Path))
        {
            var outcome = trainer.Run();
            Assert.Equal(TrainingOutcomeKind.Stopped, outcome.Kind); // its budget used up at once
            Assert.Equal("time budget of 0.001s reached", outcome.Reason); // not .NET's "00:00:00.0010000"
        }
        var path = Path.Combine(dir.Path, Trainer.LastCheckpoint);
        using (var resumed = Trainer.Resume(path, Tiny.Corpus(), CPU, dir.Path))
        {
            Assert.Null(resumed.Options.TimeBudget); // "in this run": the last run's is not this one's
            Assert.Equal(TrainingOutcomeKind.Finished, resumed.Run().Kind);
        }
        using var again = Trainer.Resume(path, Tiny.Corpus(), CPU, null, o => o with { Epochs = 4, TimeBudget = TimeSpan.FromMinutes(5) });
        Assert.Equal(TimeSpan.FromMinutes(5), again.Options.TimeBudget);
    }

    [Fact]
    public void A_run_that_ends_between_epoch_ends_saves_its_last_weights_with_their_validation_loss()
    {
        var text = Tiny.Text(60);
        using var dir = new TempFolder();
        using (var trainer = NewTrainer(dir.Path, maxSteps: 17, text)) // ~30 batches an epoch: ends mid-epoch
        {
            trainer.Run();
            Assert.True(trainer.Position.Batch > 0);
            Assert.NotNull(trainer.CurrentValidation);
        }
        var path = Path.Combine(dir.Path, Trainer.LastCheckpoint);
        var meta = CheckpointFile.ReadMetadata(path);
        Assert.NotNull(meta.Validation);
        Assert.Equal(17, meta.Validation!.Step);
        Assert.Same(meta.Validation, meta.ValidationOfWeights);
        using var saved = Trainer.Resume(path, Tiny.Corpus(text), CPU, null);
        var (loss, accuracy) = saved.Validate();
        Assert.Equal(loss, meta.Validation.Loss, 6); // the loss of the weights in the file
        Assert.Equal(accuracy, meta.Validation.Accuracy, 6);

        // One that ends at an epoch's end needs no pass of its own: that epoch measured its weights.
        using var atEpochEnd = new TempFolder();
        var gru = Architectures.Get("stateful-gru");
        using (var trainer = Trainer.Create(gru, Tiny.HyperParameters(gru), Tiny.Options(epochs: 1), Tiny.Corpus(text), CPU, atEpochEnd.Path))
            trainer.Run();
        var epochEnd = CheckpointFile.ReadMetadata(Path.Combine(atEpochEnd.Path, Trainer.LastCheckpoint));
        Assert.Null(epochEnd.Validation);
        Assert.Equal(epochEnd.History[^1].ValidLoss, epochEnd.ValidationOfWeights!.Loss);
    }

    [Fact]
    public void A_new_models_corpus_with_a_nul_is_refused_a_utf16_one_with_the_iconv_that_converts_it()
    {
        // ASCII saved as UTF-16 without its byte-order mark is valid UTF-8 with a NUL after every letter: it trained on "t h e".
        var utf16 = System.Text.Encoding.UTF8.GetString(System.Text.Encoding.Unicode.GetBytes(string.Concat(Enumerable.Repeat("the quick brown fox\n", 200))));
        var arch = Architectures.Get("stateful-rnn");
        var e = Assert.Throws<Text.CorpusException>(() => Trainer.Create(arch, Tiny.HyperParameters(arch, bs: 4), Tiny.Options(), Tiny.Corpus(utf16), CPU, null));
        Assert.Equal("Corpus 'tiny' has a NUL character (U+0000) at line 1, column 2, which every model's vocabulary holds as padding, not as text; " +
                     "its NULs fall where UTF-16LE's would: it looks like UTF-16LE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-16LE -t UTF-8).", e.Message);
        e = Assert.Throws<Text.CorpusException>(() => Trainer.Create(arch, Tiny.HyperParameters(arch, bs: 4), Tiny.Options(), Tiny.Corpus(new string('\0', 10_000)), CPU, null));
        Assert.StartsWith("Corpus 'tiny' has a NUL character (U+0000) at line 1, column 1,", e.Message);
    }

    // A tiny corpus and the lesson's windows: the context is the other way out, where the architecture has one.
    [Theory]
    [InlineData("loop", 8, "The corpus (9 characters) gives 1 window of 8 characters: too few to train on and hold out a validation share. Use a longer corpus, or a shorter context (2 or more).")]
    [InlineData("seq-rnn", 8, "The corpus (10 characters) gives 1 window of 8 characters: too few to train on and hold out a validation share. Use a longer corpus, or a shorter context (2 or more).")]
    [InlineData("char3", 3, "The corpus (1 character) gives 0 windows of 3 characters: too few to train on and hold out a validation share. Use a longer corpus.")]
    public void Too_few_windows_are_refused_naming_the_context_where_there_is_one(string name, int window, string message)
    {
        var arch = Architectures.Get(name);
        var hp = arch.Resolve(arch.FixedWindowLength == null ? new Dictionary<string, double> { ["context"] = window } : null);
        var e = Assert.Throws<CorpusLayoutException>(() => TrainingData.CheckFits(arch, hp, new TrainingOptions(), name switch { "char3" => 1, "seq-rnn" => 10, _ => 9 }));
        Assert.Equal(message, e.Message);
        Assert.Equal(arch.FixedWindowLength == null ? "context" : null, e.Setting); // the setting the message offers, for a server's BadRequest
    }

    /// <summary>
    /// Where the validation share is what does not fit (0.01 of 32 windows rounds to none held out), the refusal names the
    /// shares that do, and offers a smaller bs or a shorter context only where one would fit at the share given.
    /// </summary>
    [Fact]
    public void A_validation_share_too_small_to_hold_anything_out_is_named_with_the_shares_that_fit()
    {
        var loop = Architectures.Get("loop");
        var hp = loop.Resolve(new Dictionary<string, double> { ["context"] = 8 });
        // 32 windows (38 at context 2): 0.01 holds none out at any context; 0.02 holds one.
        Assert.Equal("The corpus (40 characters) gives 32 windows of 8 characters: too few to train on and hold out a validation share. " +
                     "Use a longer corpus, or val_fraction from 0.02 to 0.5.",
            Assert.Throws<CorpusLayoutException>(() => TrainingData.CheckFits(loop, hp, new TrainingOptions { ValidFraction = 0.01 }, 40)).Message);

        var gru = Architectures.Get("stateful-gru");
        // 5,000 chars at 0.01: 50 held out, bs 64 needs 65; bs 49 would fit, and so would 0.02 (100).
        Assert.EndsWith("Use a smaller bs or a longer corpus, or val_fraction from 0.02 to 0.5.",
            Assert.Throws<CorpusLayoutException>(() => TrainingData.CheckFits(gru, gru.Resolve(null), new TrainingOptions { ValidFraction = 0.01 }, 5000)).Message);
        // 100 chars at 0.01: 1 held out, which no bs can score (bs 1 needs 2); 0.05 holds out 5, bs 4's need.
        Assert.EndsWith("Use a longer corpus, or val_fraction from 0.05 to 0.5.",
            Assert.Throws<CorpusLayoutException>(() => TrainingData.CheckFits(gru, gru.Resolve(new Dictionary<string, double> { ["bs"] = 4 }),
                new TrainingOptions { ValidFraction = 0.01 }, 100)).Message);
    }

    [Fact]
    public void A_run_started_from_another_models_weights_is_told_no_context_to_change_as_it_has_the_sources()
    {
        var loop = Architectures.Get("loop");
        var hp = loop.Resolve(new Dictionary<string, double> { ["context"] = 8 });
        Assert.Equal("The corpus (9 characters) gives 1 window of 8 characters: too few to train on and hold out a validation share. " +
                     "The window comes from 'src', the model this one starts from: use a longer corpus.",
            Assert.Throws<CorpusLayoutException>(() => TrainingData.CheckFits(loop, hp, new TrainingOptions(), 9, startsFrom: "src")).Message);
        // 11 windows: 0.01 of them rounds to none held out; from 0.05 on, one or more is, and 0.5 leaves 5 to train on.
        Assert.EndsWith("The window comes from 'src', the model this one starts from: use a longer corpus, or val_fraction from 0.05 to 0.5.",
            Assert.Throws<CorpusLayoutException>(() => TrainingData.CheckFits(loop, hp, new TrainingOptions { ValidFraction = 0.01 }, 19, startsFrom: "src")).Message);
    }

    [Fact]
    public void Windows_that_would_not_fit_one_array_are_refused_naming_the_context_before_anything_is_built()
    {
        var loop = Architectures.Get("loop");
        var hp = loop.Resolve(new Dictionary<string, double> { ["context"] = 256 });
        var e = Assert.Throws<CorpusLayoutException>(() => TrainingData.CheckFits(loop, hp, new TrainingOptions(), 9_000_000));
        Assert.StartsWith("The corpus (9,000,000 characters) gives 8,999,744 windows of 256 characters", e.Message);
        Assert.EndsWith("Use a smaller context, or a stateful model, which stores the text once.", e.Message);
        TrainingData.CheckFits(loop, hp, new TrainingOptions(), 8_000_000); // 2.05e9 ids: still one array
    }

    [Fact]
    public void Progress_is_reported_after_the_first_step_so_a_loss_curve_starts_where_training_did()
    {
        using var dir = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(epochs: 100, maxSteps: 6) with { ProgressInterval = TimeSpan.FromHours(1) },
            Tiny.Corpus(), CPU, dir.Path);
        var steps = new List<long>();
        trainer.Progress += p => steps.Add(p.Step);
        trainer.Run();
        Assert.Equal([1L, 6L], steps); // the first step, then not again until the interval or the end
    }

    [Fact]
    public void A_run_far_worse_than_a_uniform_guess_fails_as_diverged_at_its_epoch_end_and_saves_nothing_of_it()
    {
        using var dir = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(epochs: 3, lr: 10), Tiny.Corpus(), CPU, dir.Path);
        var outcome = trainer.Run();
        Assert.Equal(TrainingOutcomeKind.Failed, outcome.Kind);
        Assert.StartsWith("Training diverged: validation loss ", outcome.Reason);
        Assert.Contains("at step", outcome.Reason);
        Assert.Contains("is more than twice what guessing every character equally likely scores", outcome.Reason);
        Assert.Empty(trainer.History); // the epoch was not recorded
        Assert.False(File.Exists(Path.Combine(dir.Path, Trainer.LastCheckpoint)));
    }

    [Fact]
    public void A_run_that_diverges_and_ends_between_epoch_ends_fails_too_and_keeps_the_last_good_checkpoint()
    {
        using var dir = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        long steps;
        using (var first = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(epochs: 1), Tiny.Corpus(), CPU, dir.Path))
        {
            Assert.Equal(TrainingOutcomeKind.Finished, first.Run().Kind);
            steps = first.Position.Step;
        }
        var good = File.ReadAllBytes(Path.Combine(dir.Path, Trainer.LastCheckpoint));
        // Resumed with a learning rate far too high, for a few steps: the run ends at max_steps, mid-epoch.
        using var resumed = Trainer.Resume(Path.Combine(dir.Path, Trainer.LastCheckpoint), Tiny.Corpus(), CPU, dir.Path,
            options => options with { Epochs = 10, MaxSteps = steps + 5, LearningRate = LayerGroupValues.All(10) });
        var outcome = resumed.Run();
        Assert.Equal(TrainingOutcomeKind.Failed, outcome.Kind);
        Assert.StartsWith("Training diverged: ", outcome.Reason);
        Assert.Contains("is more than twice what guessing every character equally likely scores", outcome.Reason);
        Assert.Equal(good, File.ReadAllBytes(Path.Combine(dir.Path, Trainer.LastCheckpoint)));
    }

    [Fact]
    public void A_nan_loss_fails_with_a_clear_reason_and_writes_no_checkpoint()
    {
        using var dir = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(epochs: 2) with { ProgressInterval = TimeSpan.Zero },
            Tiny.Corpus(), CPU, dir.Path);
        trainer.Progress += _ => { };
        using (no_grad()) trainer.Model.parameters().First().fill_(double.NaN);
        var outcome = trainer.Run();
        Assert.Equal(TrainingOutcomeKind.Failed, outcome.Kind);
        Assert.Contains("diverged", outcome.Reason);
        Assert.Contains("NaN", outcome.Reason);
        Assert.Contains("option clip, e.g. 1", outcome.Reason);
        Assert.DoesNotContain("--clip", outcome.Reason); // the engine names no client's flags
        Assert.Contains("no checkpoint was saved before it diverged", outcome.Reason);
        Assert.DoesNotContain("last good checkpoint", outcome.Reason);
        Assert.False(File.Exists(Path.Combine(dir.Path, Trainer.LastCheckpoint)));
    }

    [Fact]
    public void A_checkpoint_is_not_written_over_the_last_good_one_once_the_weights_diverged()
    {
        using var dir = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(epochs: 2), Tiny.Corpus(), CPU, dir.Path);
        trainer.Step();
        trainer.SaveCheckpoint("periodic");
        trainer.FlushCheckpoints();
        var good = File.ReadAllBytes(Path.Combine(dir.Path, Trainer.LastCheckpoint));
        using (no_grad()) trainer.Model.parameters().First().fill_(double.NaN); // as a step with no progress reported since would leave them
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.SaveCheckpoint("periodic"));
        Assert.Contains("last good checkpoint is kept", e.Message);
        trainer.FlushCheckpoints();
        Assert.Equal(good, File.ReadAllBytes(Path.Combine(dir.Path, Trainer.LastCheckpoint)));
    }

    [Fact]
    public void After_an_epochs_end_fails_the_run_refuses_to_go_on_or_save()
    {
        using var dir = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(epochs: 2), Tiny.Corpus(), CPU, dir.Path);
        using (no_grad()) trainer.Model.parameters().First().fill_(double.NaN);
        Assert.Throws<TrainingDivergedException>((Action)(() => { while (true) trainer.Step(); })); // found at the epoch's end
        var e = Assert.Throws<InvalidOperationException>(() => trainer.Step());
        Assert.Contains("an epoch's end failed", e.Message);
        Assert.Contains("Resume from the last checkpoint", e.Message);
        Assert.Throws<InvalidOperationException>(() => trainer.SaveCheckpoint("stopped"));
        Assert.False(File.Exists(Path.Combine(dir.Path, Trainer.LastCheckpoint)));
    }

    [Fact]
    public void Steps_and_epochs_leave_no_tensors_behind()
    {
        using var dir = new TempFolder();
        using var trainer = NewTrainer(dir.Path, maxSteps: 1000, Tiny.Text(60));
        trainer.Progress += _ => { };
        for (int i = 0; i < 5; i++) trainer.Step();
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var epoch = trainer.Position.Epoch;
        while (trainer.Position.Epoch == epoch) trainer.Step(); // through validation, sampling and checkpoints
        for (int i = 0; i < 5; i++) trainer.Step();
        for (int i = 0; i < 3; i++) while (!trainer.StepPiece(3)) { } // three steps in pieces (in time: 2 segments, 4 calls and the optimizer step each)
        Assert.False(trainer.InStep);
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Each_sgdr_cycles_end_is_kept_in_a_file_of_its_own_when_asked()
    {
        var arch = Architectures.Get("stateful-gru");
        foreach (var keep in new[] { true, false })
        {
            using var dir = new TempFolder();
            var options = Tiny.Options(epochs: 4) with { Schedule = "sgdr:cycle_len=1,cycle_mult=2", SampleChars = 0, KeepCycleCheckpoints = keep };
            using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), options, Tiny.Corpus(), CPU, dir.Path);
            var stepAtEpochEnd = new List<long>();
            trainer.EpochEnded += r => stepAtEpochEnd.Add(r.Step);
            trainer.Run();
            if (!keep)
            {
                Assert.Empty(Directory.GetFiles(dir.Path, Trainer.CycleCheckpoints));
                continue;
            }
            // Cycles end after epochs 1 and 3; epoch 4 starts a third that does not end.
            Assert.Equal([Trainer.CycleCheckpoint(1), Trainer.CycleCheckpoint(2)], Directory.GetFiles(dir.Path, Trainer.CycleCheckpoints).Select(Path.GetFileName).Order());
            var first = CheckpointFile.ReadMetadata(Path.Combine(dir.Path, Trainer.CycleCheckpoint(1)));
            var second = CheckpointFile.ReadMetadata(Path.Combine(dir.Path, Trainer.CycleCheckpoint(2)));
            Assert.Equal((1, stepAtEpochEnd[0]), (first.Position.Epoch, first.Position.Step));
            Assert.Equal((3, stepAtEpochEnd[2]), (second.Position.Epoch, second.Position.Step));
            using var model = TrainedModel.Load(Path.Combine(dir.Path, Trainer.CycleCheckpoint(1)), CPU); // generates as any checkpoint does
        }
    }

    [Fact]
    public void Cycle_ends_in_every_sgdr_phase_are_kept_each_under_its_own_name()
    {
        var arch = Architectures.Get("stateful-gru");
        using var dir = new TempFolder();
        // Cycles end after epoch 2 (the first SGDR's only one) and 3 (the fresh SGDR's first); epoch 4 is mid-cycle.
        var options = Tiny.Options(epochs: 4) with
        {
            Schedule = "constant,epochs=1; sgdr:cycle_len=1,epochs=1; sgdr:cycle_len=1,cycle_mult=2", SampleChars = 0, KeepCycleCheckpoints = true,
        };
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), options, Tiny.Corpus(), CPU, dir.Path);
        var cycleEnds = new List<int>();
        trainer.CycleEnded += cycleEnds.Add;
        trainer.Run();
        Assert.Equal([2, 3], cycleEnds);
        Assert.Equal([Trainer.CycleCheckpoint(1), Trainer.CycleCheckpoint(2)], Directory.GetFiles(dir.Path, Trainer.CycleCheckpoints).Select(Path.GetFileName).Order());
        Assert.Equal(2, CheckpointFile.ReadMetadata(Path.Combine(dir.Path, Trainer.CycleCheckpoint(1))).Position.Epoch);
        Assert.Equal(3, CheckpointFile.ReadMetadata(Path.Combine(dir.Path, Trainer.CycleCheckpoint(2))).Position.Epoch);
    }

    [Fact]
    public void Epochs_record_losses_and_checkpoints_follow_sgdr_cycles_and_the_best_loss()
    {
        using var dir = new TempFolder();
        var arch = Architectures.Get("stateful-gru");
        var options = Tiny.Options(epochs: 3) with { Schedule = "sgdr:cycle_len=1,cycle_mult=2", SampleChars = 30 };
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), options, Tiny.Corpus(), CPU, dir.Path);
        var cycles = new List<int>();
        var saves = new List<string>();
        trainer.CycleEnded += cycles.Add;
        trainer.CheckpointSaved += c => saves.Add(c.Reason);
        var outcome = trainer.Run();

        Assert.Equal(TrainingOutcomeKind.Finished, outcome.Kind);
        Assert.Equal([1, 3], cycles);
        Assert.Equal(3, trainer.History.Count);
        Assert.True(trainer.History[^1].ValidLoss < trainer.History[0].ValidLoss);
        Assert.All(trainer.History, h => Assert.True(h.Sample!.Length > 30, "each epoch end samples 30 chars after its prime"));
        Assert.Contains("cycle end", saves);
        Assert.Contains("best validation loss", saves);
        Assert.True(File.Exists(Path.Combine(dir.Path, Trainer.BestCheckpoint)));
        var meta = CheckpointFile.ReadMetadata(Path.Combine(dir.Path, Trainer.LastCheckpoint));
        Assert.True(meta.Position.Finished);
        Assert.Equal(3, meta.History.Count);
        Assert.Equal(trainer.History.Min(h => h.ValidLoss), meta.Position.BestValidLoss);
    }

    [Fact]
    public void Layer_groups_get_their_own_learning_rates()
    {
        var arch = Architectures.Get("stateful-gru");
        var options = Tiny.Options(maxSteps: 3) with { LearningRate = new LayerGroupValues(0, 1e-2, 0) };
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), options, Tiny.Corpus(), CPU, null);
        var before = trainer.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        trainer.Run();
        var after = trainer.Model.state_dict();
        Assert.True(after["e.weight"].Equals(before["e.weight"]));         // lr 0: unchanged
        Assert.True(after["l_out.weight"].Equals(before["l_out.weight"]));
        Assert.False(after["rnn.weight_hh_l0"].Equals(before["rnn.weight_hh_l0"]));
    }

    [Fact]
    public void The_epoch_sample_brackets_its_prime_of_whole_characters_even_where_an_emoji_ends_it()
    {
        // 20 UTF-16 units a line, the emoji at units 15 and 16: the validation text (the last 600) starts a line.
        var text = string.Concat(Enumerable.Repeat("abcdefghijklmno\U0001F600ab\n", 150));
        var arch = Architectures.Get("stateful-gru");
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch), Tiny.Options(epochs: 1) with { SampleChars = 10 }, Tiny.Corpus(text), CPU, directory: null);
        var outcome = trainer.Run();
        Assert.Equal(TrainingOutcomeKind.Finished, outcome.Kind);
        // In brackets: the prime is the validation text's, and unmarked it reads as the model's output.
        Assert.StartsWith("[abcdefghijklmno\U0001F600]", trainer.History.Single().Sample);
    }

    [Fact]
    public void A_stream_models_validation_loss_is_the_mean_over_every_held_out_char_after_the_first_remainder_included()
    {
        var a = Architectures.Get("stateful-gru");
        var text = Tiny.Text(20); // 480 chars: 96 held out, bs 8 streams of 12 (overlapping by one) score 88, the 7 after them follow the last
        using var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(epochs: 1), Tiny.Corpus(text), CPU, null);
        trainer.Run();
        trainer.Model.eval();
        var ids = trainer.Vocabulary.Encode(text);
        var valid = ids[TrainingData.ValidationStart(ids.Length, 0.2)..];
        Assert.Equal(96, valid.Length);
        double sum = 0;
        long correct = 0;
        using (no_grad())
        {
            // Stream b reads valid[11b..11b+11] from a zero state; the last one reads on to the end.
            for (var b = 0; b < 8; b++)
            {
                using var scope = NewDisposeScope();
                var stream = valid[(11 * b)..(b == 7 ? valid.Length : 11 * b + 12)].Select(i => (long)i).ToArray();
                var input = tensor(stream, [stream.Length, 1]);
                var logits = trainer.Model.Forward(input, trainer.Model.InitialState(1)).Logits.reshape(stream.Length, -1)[..^1];
                var targets = input.reshape(-1)[1..];
                sum += nn.functional.cross_entropy(logits, targets, reduction: nn.Reduction.Sum).item<float>();
                correct += logits.argmax(1).eq(targets).sum().item<long>();
            }
        }
        var epoch = trainer.History.Single();
        Assert.Equal(sum / 95, epoch.ValidLoss, 5);
        Assert.Equal((double)correct / 95, epoch.ValidAccuracy, 9);
    }
}
