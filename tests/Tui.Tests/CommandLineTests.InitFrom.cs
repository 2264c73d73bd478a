using CharRnn.Engine.Checkpoints;

namespace CharRnn.Tui.Tests;

/// <summary>charrnn train --init-from: a new model from another's weights, on another text.</summary>
public partial class CommandLineTests
{
    [Fact]
    public void Train_init_from_fine_tunes_a_model_on_another_text_and_refuses_what_differs_from_it() => InTempFolder(root =>
    {
        var (source, _) = TrainedOneEpoch(root);
        var second = Path.Combine(root, "second.txt");
        File.WriteAllText(second, TuiFixture.TinyText.Replace("cat", "mat", StringComparison.Ordinal)); // its characters, in another order
        var models = Path.Combine(root, "models");
        var said = Printed(["train", "--init-from", source, "--corpus", second, "--models", models, "--name", "tuned", "--epochs", "1", "--bs", "4", "--sample-chars", "0", "--threads", "1"]);
        var sourceBest = CheckpointFile.ReadMetadata(Path.Combine(source, "best.ckpt"));
        Assert.Contains($"started from m (best.ckpt, epoch 1, validation loss {sourceBest.ValidationOfWeights!.Loss.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}): its weights and vocabulary", said);
        var tuned = CheckpointFile.ReadMetadata(Path.Combine(models, "tuned", "last.ckpt"));
        Assert.Equal("stateful-gru", tuned.Architecture);
        Assert.Equal(sourceBest.HyperParameters, tuned.HyperParameters); // n_hidden 8, n_fac 4: the source's, not the defaults
        Assert.Equal([1], tuned.History.Select(e => e.Epoch));
        Assert.Equal("second", tuned.Corpus.Name);
        Assert.Equal(new InitFromRecord("m", "best.ckpt", 1, sourceBest.ValidationOfWeights.Loss), tuned.InitFrom);
        Assert.Contains("  started from m (best.ckpt, epoch 1, validation loss ", Printed(["models", "tuned", "--models", models]));

        // The source's settings, given otherwise, and a text it cannot encode: usage errors, no folder made.
        AssertUserError(["train", "stateful-lstm", "--init-from", source, "--corpus", second, "--out", Path.Combine(root, "x"), "--threads", "1"],
            "charrnn: architecture 'stateful-lstm' differs from 'm''s, 'stateful-gru': a model started from another's weights has its architecture");
        AssertUserError(["train", "--init-from", source, "--corpus", second, "--out", Path.Combine(root, "x"), "--n-hidden", "16", "--threads", "1"],
            "charrnn: --n-hidden 16 differs from 'm''s (8)");
        AssertUserError(["train", "--init-from", source, "--corpus", second, "--out", Path.Combine(root, "x"), "--lower", "--threads", "1"],
            "charrnn: --lower true differs from 'm''s vocabulary, which is not lowercased: lowercasing comes from the source model");
        var unknown = Path.Combine(root, "zq.txt");
        File.WriteAllText(unknown, TuiFixture.TinyText + "Zzz");
        AssertUserError(["train", "--init-from", source, "--corpus", unknown, "--out", Path.Combine(root, "x"), "--threads", "1"],
            "charrnn: Corpus 'zq' has 2 character(s) that 'm''s vocabulary does not know: 'Z' (U+005A), 'z' (U+007A).");
        // Too short for the source's bs (4), which --bs may not change here: the refusal says what can be changed.
        var shortText = Path.Combine(root, "short.txt");
        File.WriteAllText(shortText, TuiFixture.TinyText[..14]);
        AssertUserError(["train", "--init-from", source, "--corpus", shortText, "--out", Path.Combine(root, "x"), "--threads", "1"],
            "charrnn: The corpus has 14 characters: 11 for training and 3 for validation. Cut into --bs 4 streams, training needs at least 8 characters and validation 5 " +
            "(its streams share a char at each cut). --bs comes from 'm', the model this one starts from: use a longer corpus, or --val-fraction from 0.33 to 0.46.");
        Assert.False(Directory.Exists(Path.Combine(root, "x")));
        // A fine-tune is a new model: its source's folder, or another model's, is refused as such, not with a resume hint.
        AssertUserError(["train", "--init-from", source, "--corpus", second, "--out", source, "--threads", "1"],
            $"charrnn: '{source}' is the folder of 'm', the model --init-from starts from; the fine-tuned model is a new one and needs a folder of its own: choose another --out, or --name.");
        AssertUserError(["train", "--init-from", source, "--corpus", second, "--models", models, "--name", "tuned", "--threads", "1"],
            $"charrnn: '{Path.Combine(models, "tuned")}' already holds a model; --init-from makes a new one, which needs a folder of its own: choose another --name, or --out.");
        AssertUserError(["train", "--init-from", "nothing", "--corpus", second, "--models", models, "--threads", "1"], "charrnn: No model 'nothing'");
    });

    [Fact]
    public void A_new_run_on_a_corpus_its_validation_share_does_not_fit_names_the_shares_that_do_as_the_flag() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "t40.txt");
        File.WriteAllText(corpus, TuiFixture.TinyText[..40]); // 32 windows of 8: 0.01 of them holds none out
        AssertUserError(["train", "loop", "--corpus", corpus, "--out", Path.Combine(root, "x"), "--val-fraction", "0.01", "--threads", "1"],
            "charrnn: The corpus (40 characters) gives 32 windows of 8 characters: too few to train on and hold out a validation share. " +
            "Use a longer corpus, or --val-fraction from 0.02 to 0.5.");
        Assert.False(Directory.Exists(Path.Combine(root, "x")));
    });
}
