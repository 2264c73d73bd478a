using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>
/// Checkpoints written by an older build (Fixtures/OlderBuild, see its README): a user's models must keep loading,
/// generating and resuming after an upgrade. Each figure below was read from that build or this one, as noted.
/// </summary>
public class OlderBuildCheckpointTests
{
    private static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", "OlderBuild", .. parts]);

    [Theory]
    [InlineData("old-lstm2", "stateful-lstm", 2)]
    [InlineData("old-gru", "stateful-gru", null)]
    [InlineData("old-char3", "char3", null)]
    [InlineData("old-seq-rnn", "seq-rnn", null)]
    public void Loads_with_its_architecture_corpus_and_position(string model, string architecture, int? layers)
    {
        using var trained = TrainedModel.Load(Fixture(model, Trainer.LastCheckpoint), CPU);
        Assert.Equal(architecture, trained.Architecture.Name);
        Assert.Equal(1, trained.Metadata.FormatVersion);
        Assert.Equal(4, trained.Metadata.HyperParameters["n_hidden"]);
        if (layers is { } l) Assert.Equal(l, trained.Metadata.HyperParameters["layers"]);
        Assert.Equal("tiny", trained.Metadata.Corpus.Name);
        Assert.Equal(393, trained.Metadata.Corpus.Characters);
        Assert.Equal(0, trained.Metadata.Corpus.CodePoints); // written before CorpusRecord had it: read as unknown
        Assert.Equal(4, trained.Metadata.Position.Step);
        Assert.True(trained.Metadata.Position.Finished);
    }

    /// <summary>
    /// Greedy text is what the older build gave (the same weights, the same logits). Seeded text is this build's: the older one
    /// could draw the padding symbol (it printed U+0000), which sampling has masked since, so the same seed now draws other chars.
    /// </summary>
    [Theory]
    [InlineData("old-lstm2", "llllllllllllllllllllllllllllllllllllllll", "imtffnrhcoeighf.lolr ,g,c hl tiiefahhmol")]
    [InlineData("old-gru", "rr   r    r    r    r    r    r    r    ", "hntgfoshareifge,lrls  g,c gm tihefahgnrl")]
    [InlineData("old-char3", "rf......................................", "intefnrgcnehfge.ioir ,g,c gl tggefaggmoi")]
    [InlineData("old-seq-rnn", "f.rrf.rrf.rrf.rrf.rrf.rrf.rrf.rrf.rrf.rr", "intfenrhcnfhggf.hoir,,g,d,hm tgifecghnoi")]
    public void Generates_the_text_pinned_for_it(string model, string greedy, string seeded)
    {
        using var trained = TrainedModel.Load(Fixture(model, Trainer.LastCheckpoint), CPU);
        Assert.Equal(greedy, Generate(trained, SamplingSettings.Greedy));
        Assert.Equal(seeded, Generate(trained, new SamplingSettings(Temperature: 0.8, Seed: 1)));
    }

    /// <summary>charrnn eval's figures for the corpus it was trained on, as this build reads the checkpoint.</summary>
    [Theory]
    [InlineData("old-lstm2", 392, 3.1543112)]
    [InlineData("old-gru", 392, 2.8954927)]
    [InlineData("old-char3", 390, 3.1737780)] // its first three chars are its first window
    [InlineData("old-seq-rnn", 384, 3.1911389)]
    public void Evaluates_its_corpus(string model, long scored, double loss)
    {
        using var trained = TrainedModel.Load(Fixture(model, Trainer.LastCheckpoint), CPU);
        var score = TextEvaluation.Evaluate(trained, File.ReadAllText(Fixture("tiny.txt")), CPU);
        Assert.Equal(scored, score.Characters);
        Assert.Equal(loss, score.Loss, 1e-4);
    }

    private static string Generate(TrainedModel trained, SamplingSettings settings)
    {
        using var session = new GenerationSession(trained.Model, trained.Vocabulary, settings);
        session.Feed("the ");
        return string.Concat(session.Generate(40).Select(c => c.Text));
    }

    /// <summary>
    /// Four more steps on the same corpus. The GRU and char3 sums are the older build's own resume to step 8; the LSTM's is this
    /// build's (its dropout masks have been drawn by KeepMask since, so the older build's masks, and sum 366.6787, differ).
    /// </summary>
    [Theory]
    [InlineData("old-lstm2", 366.30396842956543)]
    [InlineData("old-gru", 337.4961099624634)]
    [InlineData("old-char3", 202.9027099609375)]
    public void Resumes_where_it_stopped(string model, double epochLossSum)
    {
        using var dir = new TempFolder();
        File.Copy(Fixture(model, Trainer.LastCheckpoint), dir.File(Trainer.LastCheckpoint));
        using var resumed = Trainer.Resume(dir.File(Trainer.LastCheckpoint), Text.Corpus.FromFile(Fixture("tiny.txt")), CPU, dir.Path,
            o => o with { MaxSteps = 8 });
        resumed.Run();
        var saved = CheckpointFile.ReadMetadata(dir.File(Trainer.LastCheckpoint)).Position; // the sum as saved, as the older build's was read
        Assert.Equal(8, saved.Step);
        Assert.Equal(epochLossSum, saved.EpochLossSum, 0.01); // float noise (thread counts, CPUs) is far below; other dropout masks were 0.37 off, a step more ~45
    }

    /// <summary>A windowed model trained for its one epoch: the resume ends that epoch with the losses the older build's own resume had.</summary>
    [Fact]
    public void A_windowed_model_resumes_to_the_epoch_end_it_reached()
    {
        using var dir = new TempFolder();
        File.Copy(Fixture("old-seq-rnn", Trainer.LastCheckpoint), dir.File(Trainer.LastCheckpoint));
        using (var resumed = Trainer.Resume(dir.File(Trainer.LastCheckpoint), Text.Corpus.FromFile(Fixture("tiny.txt")), CPU, dir.Path,
                   o => o with { MaxSteps = 8 }))
            resumed.Run();
        var epoch = Assert.Single(CheckpointFile.ReadMetadata(dir.File(Trainer.LastCheckpoint)).History);
        Assert.Equal((1, 5L), (epoch.Epoch, epoch.Step));
        Assert.Equal(3.1899608687350622, epoch.TrainLoss, 1e-4);
        Assert.Equal(3.216859817504883, epoch.ValidLoss, 1e-4);
    }
}
