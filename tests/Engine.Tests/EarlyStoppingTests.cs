using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

public class EarlyStoppingTests
{
    private static readonly Architecture Gru = Architectures.Get("stateful-gru");

    /// <summary>
    /// Random letters: nothing in the training text predicts the validation text (its end), so the
    /// validation loss stops improving within a few epochs while the training loss goes on falling.
    /// </summary>
    private static Text.Corpus Noise()
    {
        var random = new Random(3);
        return Tiny.Corpus(new string(Enumerable.Range(0, 1200).Select(_ => (char)('a' + random.Next(8))).ToArray()));
    }

    /// <summary>Tiny's sizes with one layer and no dropout: its default two layers' dropout lets a resumed epoch improve by chance.</summary>
    private static HyperParameters OneLayerGru()
    {
        var values = Tiny.HyperParameters(Gru).Values.ToDictionary();
        (values["layers"], values["dropout"]) = (1, 0);
        return Gru.Resolve(values);
    }

    private static TrainingOptions Options(int epochs, int patience) => Tiny.Options(epochs: epochs, lr: 3e-2) with { Patience = patience };

    private static EpochRecord Epoch(int epoch, double validLoss) => new(epoch, epoch * 10, 1, validLoss, 0.5, 1e-3, epoch, null);

    [Fact]
    public void Patience_counts_the_epochs_since_the_first_with_the_lowest_validation_loss()
    {
        EpochRecord[] history = [Epoch(1, 2.0), Epoch(2, 1.5), Epoch(3, 1.6), Epoch(4, 1.5)];
        Assert.Null(EarlyStopping.Reason(0, 0, history)); // off
        Assert.Null(EarlyStopping.Reason(3, 0, history)); // 2 epochs since epoch 2 (an equal loss is no improvement)
        Assert.Equal("stopped early: validation loss has not improved on 1.5000 (epoch 2) for 2 epochs (patience = 2)", EarlyStopping.Reason(2, 0, history));
        Assert.Null(EarlyStopping.Reason(1, 0, [.. history, Epoch(5, 1.4)])); // improved: the count starts again
        Assert.Null(EarlyStopping.Reason(1, 0, []));
    }

    [Fact]
    public void With_a_min_delta_drops_smaller_than_it_are_no_improvement_and_do_not_move_the_best()
    {
        EpochRecord[] creeping = [Epoch(1, 2.0), Epoch(2, 1.995), Epoch(3, 1.991), Epoch(4, 1.9905)];
        Assert.Null(EarlyStopping.Reason(3, 0, creeping)); // without it every drop counts: the best is the last epoch
        Assert.Equal("stopped early: validation loss has not improved on 2.0000 (epoch 1) by more than 0.01 for 3 epochs (patience = 3, min_delta = 0.01)",
                     EarlyStopping.Reason(3, 0.01, creeping));
        // Keras's reference: a drop of more than the delta below the last counted best counts, however it got there.
        Assert.Null(EarlyStopping.Reason(3, 0.01, [.. creeping[..2], Epoch(3, 1.989), Epoch(4, 1.9885)]));
        Assert.Null(EarlyStopping.Reason(1, 0.01, [Epoch(1, 2.0)]));
    }

    [Fact]
    public void A_min_delta_is_kept_with_the_model_and_a_resume_goes_on_counting_by_it()
    {
        using var dir = new TempFolder();
        int stoppedAt;
        // On random letters no epoch beats the first by half a nat: patience 2 ends the run at epoch 3.
        using (var first = Trainer.Create(Gru, OneLayerGru(), Options(epochs: 40, patience: 2) with { MinDelta = 0.5 }, Noise(), CPU, dir.Path))
        {
            var outcome = first.Run();
            stoppedAt = first.History.Count;
            Assert.Equal(3, stoppedAt);
            Assert.True(outcome.StoppedEarly);
            Assert.Equal($"stopped early: validation loss has not improved on {first.History[0].ValidLoss:F4} (epoch 1) by more than 0.5 for 2 epochs (patience = 2, min_delta = 0.5)",
                         outcome.Reason);
        }
        using var resumed = Trainer.Resume(Path.Combine(dir.Path, Trainer.LastCheckpoint), Noise(), CPU, null);
        Assert.Equal(0.5, resumed.Options.MinDelta);
        var again = resumed.Run();
        Assert.Equal(stoppedAt + 1, resumed.History.Count);
        Assert.EndsWith("by more than 0.5 for 3 epochs (patience = 2, min_delta = 0.5)", again.Reason);
    }

    [Fact]
    public void A_checkpoint_saved_before_min_delta_existed_reads_it_as_0()
    {
        var stored = System.Text.Json.Nodes.JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(Tiny.Options() with { Patience = 2, MinDelta = 0.1 }, CheckpointFile.Json))!.AsObject();
        Assert.True(stored.Remove("min_delta"));
        var old = System.Text.Json.JsonSerializer.Deserialize<TrainingOptions>(stored, CheckpointFile.Json)!;
        Assert.Equal((2, 0.0), (old.Patience, old.MinDelta));
    }

    [Fact]
    public void A_run_whose_validation_loss_stops_improving_stops_before_its_epochs_and_says_why()
    {
        using var dir = new TempFolder();
        using var trainer = Trainer.Create(Gru, OneLayerGru(), Options(epochs: 40, patience: 2), Noise(), CPU, dir.Path);
        var outcome = trainer.Run();

        var epochs = trainer.History.Count;
        var best = trainer.History.MinBy(h => h.ValidLoss)!;
        Assert.True(epochs < 40, $"the run should stop early; it trained all {epochs} epochs");
        Assert.Equal(TrainingOutcomeKind.Finished, outcome.Kind);
        Assert.True(outcome.StoppedEarly);
        Assert.Equal(epochs - 2, best.Epoch);
        Assert.Equal($"stopped early: validation loss has not improved on {best.ValidLoss:F4} (epoch {best.Epoch}) for 2 epochs (patience = 2)", outcome.Reason);
        Assert.Equal(outcome.Reason, trainer.StoppedEarly);
        // The run ends cleanly: last.ckpt holds its last epoch, best.ckpt the best one.
        var last = CheckpointFile.ReadMetadata(Path.Combine(dir.Path, Trainer.LastCheckpoint));
        Assert.Equal((epochs, true), (last.Position.Epoch, last.Position.Finished));
        Assert.Equal(best.Epoch, CheckpointFile.ReadMetadata(Path.Combine(dir.Path, Trainer.BestCheckpoint)).Position.Epoch);
    }

    [Fact]
    public void Patience_0_trains_every_epoch()
    {
        using var trainer = Trainer.Create(Gru, OneLayerGru(), Options(epochs: 8, patience: 0), Noise(), CPU, null);
        var outcome = trainer.Run();
        Assert.Equal(8, trainer.History.Count);
        // Patience 2 would have stopped this run before its last epoch: else the test would show nothing.
        Assert.Contains(Enumerable.Range(1, 7), k => EarlyStopping.Reason(2, 0, trainer.History.Take(k).ToList()) != null);
        Assert.False(outcome.StoppedEarly);
        Assert.Equal("finished 8 epoch(s)", outcome.Reason);
    }

    [Fact]
    public void A_resumed_run_continues_the_count_from_its_checkpoint()
    {
        using var dir = new TempFolder();
        int stoppedAt;
        using (var first = Trainer.Create(Gru, OneLayerGru(), Options(epochs: 40, patience: 2), Noise(), CPU, dir.Path))
        {
            Assert.True(first.Run().StoppedEarly);
            stoppedAt = first.History.Count;
        }
        // The saved patience holds: one more epoch without improvement stops it again, 3 epochs after its best.
        using (var resumed = Trainer.Resume(Path.Combine(dir.Path, Trainer.LastCheckpoint), Noise(), CPU, dir.Path))
        {
            Assert.Equal(2, resumed.Options.Patience);
            Assert.False(resumed.IsComplete); // a resumed run trains at least one epoch
            var outcome = resumed.Run();
            Assert.Equal(stoppedAt + 1, resumed.History.Count);
            Assert.True(outcome.StoppedEarly);
            Assert.Contains("for 3 epochs (patience = 2)", outcome.Reason);
        }
        // A resume may change it: off, the run trains to its epochs.
        using var unlimited = Trainer.Resume(Path.Combine(dir.Path, Trainer.LastCheckpoint), Noise(), CPU, null, o => o with { Patience = 0, Epochs = stoppedAt + 3 });
        Assert.False(unlimited.Run().StoppedEarly);
        Assert.Equal(stoppedAt + 3, unlimited.History.Count);
    }

    [Fact]
    public void A_patience_out_of_range_is_refused_naming_the_range()
    {
        var e = Assert.Throws<ArgumentException>(() => (Tiny.Options() with { Patience = 1001 }).Validate());
        Assert.Equal("patience = 1001 is not allowed; use 0 (off) or 1 to 1000 epochs.", e.Message);
        Assert.Throws<ArgumentException>(() => (Tiny.Options() with { Patience = -1 }).Validate());
    }

    [Theory]
    [InlineData(-0.01, "-0.01")]
    [InlineData(1.5, "1.5")]
    [InlineData(double.NaN, "NaN")]
    public void A_min_delta_out_of_range_is_refused_naming_the_range(double delta, string said)
    {
        var e = Assert.Throws<ArgumentException>(() => (Tiny.Options() with { Patience = 2, MinDelta = delta }).Validate());
        Assert.Equal($"min_delta = {said} is not allowed; use 0 (any drop counts) to 1 nats/char.", e.Message);
    }
}
