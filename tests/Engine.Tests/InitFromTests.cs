using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>Trainer.InitFrom and InitFromSource: a new run from another model's weights (karpathy's -init_from).</summary>
public class InitFromTests
{
    /// <summary>The same characters as Tiny's text, in another order: a second text the source's vocabulary encodes.</summary>
    private static Corpus Second(string text = "the mat sat on the cat. ") =>
        new("second", string.Concat(Enumerable.Repeat(text, 120)), Corpus.HexSha256(System.Text.Encoding.UTF8.GetBytes(text + "x120")));

    private static readonly Architecture Gru = Architectures.Get("stateful-gru");

    /// <summary>No dropout: a training step's loss is then the model's loss in eval mode, for the comparison below.</summary>
    private static HyperParameters Sizes() =>
        Gru.Resolve(Tiny.HyperParameters(Gru).Values.ToDictionary(kv => kv.Key, kv => kv.Key == "dropout" ? 0 : kv.Value));

    /// <summary>A source model trained 2 epochs into DIR/source; returns its best.ckpt.</summary>
    private static string Source(TempFolder dir, int minFrequency = 1)
    {
        var folder = Path.Combine(dir.Path, "source");
        using (var trainer = Trainer.Create(Gru, Sizes(), Tiny.Options(epochs: 2) with { MinFrequency = minFrequency }, Tiny.Corpus(), CPU, folder))
            trainer.Run();
        return Path.Combine(folder, Trainer.BestCheckpoint);
    }

    [Fact]
    public void A_fine_tune_starts_from_the_source_weights_with_a_fresh_history_and_records_where_it_started()
    {
        using var dir = new TempFolder();
        var source = Source(dir);
        var sourceMeta = CheckpointFile.ReadMetadata(source);
        var options = Tiny.Options(epochs: 1) with { ProgressInterval = TimeSpan.FromHours(1) };
        var folder = Path.Combine(dir.Path, "tuned");
        using var trainer = Trainer.InitFrom(source, "source", options, Second(), CPU, folder);
        var losses = new List<double>();
        trainer.Progress += p => losses.Add(p.Loss);
        trainer.Run();

        // The first step's loss is the source model's on the first batch of the new text: its weights were carried.
        double expected;
        using (var loaded = TrainedModel.Load(source, CPU))
        using (var data = TrainingData.Build(Gru, Sizes(), options, Second(), loaded.Vocabulary, CPU))
        using (no_grad())
        {
            var batch = data.Train.Get(0, 0);
            var (logits, _) = loaded.Model.Forward(batch.X, null);
            expected = nn.functional.cross_entropy(logits.reshape(-1, loaded.Vocabulary.Size), batch.Y.reshape(-1)).item<float>();
        }
        Assert.Equal(expected, losses[0], 4);
        Assert.True(losses[0] < UniformLoss(sourceMeta) - 1, $"first loss {losses[0]} is a fresh model's (ln V = {UniformLoss(sourceMeta)})");

        // A new run: epoch 1, its own history, options and corpus, the source's vocabulary and architecture.
        var meta = CheckpointFile.ReadMetadata(Path.Combine(folder, Trainer.LastCheckpoint));
        Assert.Equal(1, meta.Position.Epoch);
        Assert.Equal(trainer.BatchesInEpoch, meta.Position.Step);
        Assert.Equal([1], meta.History.Select(e => e.Epoch));
        Assert.Equal("second", meta.Corpus.Name);
        Assert.Equal(1, meta.Training.Epochs);
        Assert.Equal(sourceMeta.Vocabulary.Symbols, meta.Vocabulary.Symbols);
        Assert.Equal(sourceMeta.HyperParameters, meta.HyperParameters);
        Assert.Equal(new InitFromRecord("source", Trainer.BestCheckpoint, 2, sourceMeta.ValidationOfWeights!.Loss), meta.InitFrom);
        Assert.StartsWith("started from source (best.ckpt, epoch 2, validation loss ", meta.InitFrom!.Describe());

        // Resumed, it still says where it started.
        using (var resumed = Trainer.Resume(Path.Combine(folder, Trainer.LastCheckpoint), Second(), CPU, folder, o => o with { Epochs = 2 }))
            Assert.Equal(meta.InitFrom, resumed.StartedFrom);
    }

    private static double UniformLoss(CheckpointMetadata meta) => Math.Log(meta.Vocabulary.Symbols.Length);

    [Fact]
    public void A_corpus_with_a_nul_is_refused_as_a_new_models_is()
    {
        using var dir = new TempFolder();
        var source = Source(dir);
        var e = Assert.Throws<CorpusException>(() => Trainer.InitFrom(source, "source", Tiny.Options(), Second("the mat\0sat on the cat. "), CPU, null).Dispose());
        Assert.StartsWith("Corpus 'second' has a NUL character (U+0000) at line 1, column 8, which every model's vocabulary holds as padding", e.Message);
    }

    [Fact]
    public void A_character_the_source_does_not_know_is_refused_by_name_unless_it_has_the_unknown_symbol()
    {
        using var dir = new TempFolder();
        var source = Source(dir);
        var e = Assert.Throws<ArgumentException>(() => Trainer.InitFrom(source, "source", Tiny.Options(), Second("the zeb sat on the mat. "), CPU, null).Dispose());
        Assert.Contains("Corpus 'second' has 2 character(s) that 'source''s vocabulary does not know: 'z' (U+007A), 'b' (U+0062)", e.Message);

        using var other = new TempFolder();
        var withUnknown = Source(other, minFrequency: 2);
        using var trainer = Trainer.InitFrom(withUnknown, "source", Tiny.Options(maxSteps: 1), Second("the zeb sat on the mat. "), CPU, null);
        Assert.True(trainer.Vocabulary.HasUnknown);
        Assert.Equal(2, trainer.Options.MinFrequency);
        trainer.Run();
    }

    [Fact]
    public void Given_settings_that_differ_from_the_source_are_refused_naming_the_difference()
    {
        using var dir = new TempFolder();
        var meta = CheckpointFile.ReadMetadata(Source(dir));
        InitFromSource.CheckGiven(meta, "source", new InitFromGiven("stateful-gru", new Dictionary<string, double> { ["n_hidden"] = 32 }, false, 1)); // the same: fine

        Assert.Contains("architecture 'stateful-lstm' differs from 'source''s, 'stateful-gru'",
            Assert.Throws<ArgumentException>(() => InitFromSource.CheckGiven(meta, "source", new InitFromGiven("stateful-lstm"))).Message);
        Assert.Contains("n_hidden = 64 differs from 'source''s (32)",
            Assert.Throws<ArgumentException>(() => InitFromSource.CheckGiven(meta, "source", new InitFromGiven(HyperParameters: new Dictionary<string, double> { ["n_hidden"] = 64 }))).Message);
        Assert.Contains("lowercasing comes from the source model",
            Assert.Throws<ArgumentException>(() => InitFromSource.CheckGiven(meta, "source", new InitFromGiven(Lowercase: true))).Message);
        Assert.Contains("min_freq = 3 differs from 'source''s (1)",
            Assert.Throws<ArgumentException>(() => InitFromSource.CheckGiven(meta, "source", new InitFromGiven(MinFrequency: 3))).Message);
    }

    [Fact]
    public void An_imported_model_is_a_source_and_the_source_folder_is_never_written_into()
    {
        using var dir = new TempFolder();
        var imported = PyTorchImportTests.Imported(dir, "stateful-gru");
        var folder = Path.Combine(dir.Path, "tuned");
        using (var trainer = Trainer.InitFrom(imported, "imported", Tiny.Options(maxSteps: 2), Second(), CPU, folder))
            trainer.Run();
        var meta = CheckpointFile.ReadMetadata(Path.Combine(folder, Trainer.LastCheckpoint));
        Assert.Null(meta.Imported);
        Assert.Equal(new InitFromRecord("imported", Trainer.LastCheckpoint, 0, null), meta.InitFrom);

        var e = Assert.Throws<ArgumentException>(() => Trainer.InitFrom(imported, "imported", Tiny.Options(), Second(), CPU, Path.GetDirectoryName(imported) + "/").Dispose());
        Assert.Contains("is 'imported''s own", e.Message);
    }
}
