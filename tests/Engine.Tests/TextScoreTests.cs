using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>Scoring a text: Feed's loss and accuracy, and TextEvaluation's over a whole text.</summary>
public class TextScoreTests(SamplingTests.TrainedGru trained) : IClassFixture<SamplingTests.TrainedGru>
{
    private const string Text = "the cat sat on the mat. the mat sat on the cat. ";

    /// <summary>The expected score computed independently: the model's Forward over the text with cross-entropy.</summary>
    private static TextScore ForwardScore(CharModel model, Vocabulary vocabulary, string text)
    {
        var ids = vocabulary.Encode(text);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(ids.Select(i => (long)i).ToArray(), [ids.Length, 1]);
        var (logits, _) = model.Forward(input, model.InitialState(1));
        var predicting = logits.reshape(ids.Length, -1)[..^1];
        var targets = input.reshape(-1)[1..];
        var loss = nn.functional.cross_entropy(predicting, targets, reduction: nn.Reduction.Sum).item<float>();
        var correct = predicting.argmax(1).eq(targets).sum().item<long>();
        // A new session's first char: the corpus's frequencies (padding has none).
        var counts = vocabulary.Counts;
        var first = -Math.Log((double)counts[ids[0]] / counts.Sum());
        var firstBest = Enumerable.Range(0, counts.Count).MaxBy(i => counts[i]) == ids[0] ? 1 : 0;
        return new TextScore(loss + first, ids.Length, correct + firstBest);
    }

    [Fact]
    public void Feed_scores_the_text_as_the_models_forward_with_cross_entropy_does()
    {
        using var session = trained.Session(new SamplingSettings(Seed: 1));
        var score = session.Feed(Text);
        var expected = ForwardScore(trained.Trainer.Model, trained.Trainer.Vocabulary, Text);
        Assert.Equal(Text.Length, score.Characters);
        Assert.Equal(expected.Loss, score.Loss, 4);
        Assert.Equal(expected.Correct, score.Correct);
        Assert.InRange(score.Accuracy, 0.5, 1.0); // trained on this pattern: most next chars are its first guess
    }

    [Fact]
    public void A_text_fed_in_pieces_scores_as_fed_whole_each_pieces_first_char_from_the_state_before_it()
    {
        using var whole = trained.Session(new SamplingSettings(Seed: 1));
        using var pieces = trained.Session(new SamplingSettings(Seed: 1));
        var once = whole.Feed(Text);
        var summed = pieces.Feed(Text[..5]) + pieces.Feed(Text[5..6]) + pieces.Feed(Text[6..]);
        Assert.Equal(once.Characters, summed.Characters);
        Assert.Equal(once.LossSum, summed.LossSum, 3);
        Assert.Equal(once.Correct, summed.Correct);
    }

    /// <summary>
    /// min_freq 2 on a corpus with no rare char: the unknown symbol has count 0. A new (or reset) session's
    /// first char is scored from the corpus's frequencies with the unknown symbol's count floored at 1, so a
    /// text that starts with an unknown char scores ln(total + 1) for it, not infinity for the whole feed.
    /// </summary>
    [Fact]
    public void A_text_starting_with_an_unknown_char_scores_finite_on_a_min_freq_model_with_no_rare_chars()
    {
        using var trainer = MinFrequencyModel();
        var vocabulary = trainer.Vocabulary;
        Assert.True(vocabulary.HasUnknown);
        Assert.Equal(0, vocabulary.Counts[1]);
        var floored = Math.Log(vocabulary.Counts.Sum() + 1.0);

        using var session = new GenerationSession(trainer.Model, vocabulary, new SamplingSettings(Seed: 1));
        var whole = session.Feed("z" + Text);
        session.Reset();
        var first = session.Feed("z");
        var rest = session.Feed(Text);

        Assert.True(double.IsFinite(whole.Loss), $"{whole.Loss} nats/char");
        Assert.Equal(floored, first.LossSum, 6);
        Assert.Equal(first.LossSum + rest.LossSum, whole.LossSum, 3);
        Assert.Equal(Text.Length + 1, whole.Characters);
    }

    /// <summary>The floor is the score's only: a new session's first generated char is drawn from the corpus's frequencies, never the unknown symbol.</summary>
    [Fact]
    public void A_new_session_of_a_min_freq_model_samples_its_first_char_from_the_corpus_frequencies_alone()
    {
        using var trainer = MinFrequencyModel();
        var counts = trainer.Vocabulary.Counts;
        using var session = new GenerationSession(trainer.Model, trainer.Vocabulary, new SamplingSettings(Seed: 1));
        using var probabilities = tensor(session.NextLogits.ToArray()).softmax(0);
        var p = probabilities.data<float>().ToArray();
        Assert.Equal(0f, p[1]);
        for (var i = 2; i < counts.Count; i++) Assert.Equal((double)counts[i] / counts.Sum(), p[i], 5);
    }

    /// <summary>A tiny stateful GRU trained with min_freq 2 on a corpus whose every char is common: its unknown symbol's count is 0.</summary>
    private static Trainer MinFrequencyModel()
    {
        var a = Architectures.Get("stateful-gru");
        var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(maxSteps: 10) with { MinFrequency = 2 }, Tiny.Corpus(), CPU, null);
        trainer.Run();
        trainer.Model.eval();
        return trainer;
    }

    [Fact]
    public void A_trained_model_scores_its_training_text_better_than_an_untrained_one()
    {
        var a = Architectures.Get("stateful-gru");
        var vocabulary = trained.Trainer.Vocabulary;
        using var untrained = a.Create(trained.Trainer.HyperParameters, vocabulary.Size);
        untrained.eval();
        using var fresh = new GenerationSession(untrained, vocabulary, new SamplingSettings(Seed: 1));
        using var taught = trained.Session(new SamplingSettings(Seed: 1));
        var (before, after) = (fresh.Feed(Text), taught.Feed(Text));
        Assert.True(after.Loss < before.Loss / 2, $"trained {after.Loss:F3} nats/char, untrained {before.Loss:F3}");
        Assert.True(after.Accuracy > before.Accuracy);

        var text = Tiny.Text(4);
        var evalBefore = TextEvaluation.Evaluate(untrained, a, trained.Trainer.HyperParameters, vocabulary, text, CPU);
        var evalAfter = TextEvaluation.Evaluate(trained.Trainer.Model, a, trained.Trainer.HyperParameters, vocabulary, text, CPU);
        Assert.True(evalAfter.Loss < evalBefore.Loss / 2, $"trained {evalAfter.Loss:F3} nats/char, untrained {evalBefore.Loss:F3}");
    }

    [Fact]
    public void Evaluating_a_short_text_scores_it_as_one_stream_as_feeding_does_after_its_first_char()
    {
        var t = trained.Trainer;
        var text = Tiny.Text(8); // under MinStreamChars: one stream, read bptt chars a batch with the state carried
        var evaluated = TextEvaluation.Evaluate(t.Model, t.Architecture, t.HyperParameters, t.Vocabulary, text, CPU);
        var expected = ForwardScore(t.Model, t.Vocabulary, text);
        var first = ForwardScore(t.Model, t.Vocabulary, text[..1]);
        Assert.Equal(text.Length - 1, evaluated.Characters);
        Assert.Equal((expected.LossSum - first.LossSum) / (text.Length - 1), evaluated.Loss, 4);
        Assert.Equal(expected.Correct - first.Correct, evaluated.Correct);
    }

    [Fact]
    public void Evaluating_with_a_next_char_windowed_model_scores_each_char_after_the_first_window_from_the_window_before_it()
    {
        var a = Architectures.Get("loop");
        var vocabulary = Vocabulary.Build(Tiny.Text(2));
        var hp = Tiny.HyperParameters(a);
        using var model = a.Create(hp, vocabulary.Size);
        model.eval();
        var n = a.WindowLength(hp);
        var evaluated = TextEvaluation.Evaluate(model, a, hp, vocabulary, Text, CPU);
        using var session = new GenerationSession(model, vocabulary, new SamplingSettings(Seed: 1));
        session.Feed(Text[..n]);
        var rest = session.Feed(Text[n..]); // from the window of the n chars before each
        Assert.Equal(Text.Length - n, evaluated.Characters);
        Assert.Equal(rest.Loss, evaluated.Loss, 4);
        Assert.Equal(rest.Correct, evaluated.Correct);
    }

    [Theory]
    [InlineData("loop", "loop reads 8 before it predicts one, so it needs at least 9 to score anything.")]
    [InlineData("seq-rnn", "seq-rnn scores windows of 8, each char of a window from those before it in the window, against targets one char later, so it needs at least 10 to score anything.")]
    public void A_text_too_short_for_a_windowed_models_windows_is_refused_saying_how_that_model_reads(string name, string reason)
    {
        var a = Architectures.Get(name);
        var vocabulary = Vocabulary.Build(Tiny.Text(2));
        var hp = Tiny.HyperParameters(a);
        Assert.Equal(8, a.WindowLength(hp));
        using var model = a.Create(hp, vocabulary.Size);
        var e = Assert.Throws<ArgumentException>(() => TextEvaluation.Evaluate(model, a, hp, vocabulary, Text[..(name == "loop" ? 8 : 9)], CPU));
        Assert.Equal($"The text has {(name == "loop" ? 8 : 9)} character(s); {reason}", e.Message);
    }

    [Theory]
    [InlineData("loop")]
    [InlineData("seq-rnn")]
    public void A_windowed_model_scores_each_char_from_the_space_filled_window_before_it(string name)
    {
        var a = Architectures.Get(name);
        var vocabulary = Vocabulary.Build(Tiny.Text(2));
        var hp = Tiny.HyperParameters(a);
        using var model = a.Create(hp, vocabulary.Size);
        model.eval();
        using var session = new GenerationSession(model, vocabulary, new SamplingSettings(Seed: 1));
        var score = session.Feed(Text);

        var ids = vocabulary.Encode(Text);
        var n = a.WindowLength(hp);
        var window = Enumerable.Repeat((long)vocabulary.Encode(" ")[0], n).ToList();
        var counts = vocabulary.Counts;
        double loss = -Math.Log((double)counts[ids[0]] / counts.Sum());
        using (no_grad())
        {
            for (var i = 1; i < ids.Length; i++)
            {
                window.RemoveAt(0);
                window.Add(ids[i - 1]);
                using var logits = model.Forward(tensor(window.ToArray(), [1, n]), null).Logits;
                using var last = logits.dim() == 3 ? logits[0, n - 1] : logits[0];
                loss -= last.log_softmax(0)[ids[i]].item<float>();
            }
        }
        Assert.Equal(ids.Length, score.Characters);
        Assert.Equal(loss / ids.Length, score.Loss, 4);
    }

    [Theory]
    [InlineData("loop")]
    [InlineData("seq-rnn")]
    public void Evaluating_with_a_windowed_model_holds_the_text_not_each_of_its_windows(string name)
    {
        var a = Architectures.Get(name);
        var text = Tiny.Text(1000); // 24,000 chars: cut into 64-char windows up front, 12 MB of inputs (and the device's copy beside them)
        var vocabulary = Vocabulary.Build(text);
        var hp = Tiny.HyperParameters(a, hidden: 8, context: 64);
        using var model = a.Create(hp, vocabulary.Size);
        model.eval();
        var windowsBytes = (long)text.Length * a.WindowLength(hp) * sizeof(long);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var score = TextEvaluation.Evaluate(model, a, hp, vocabulary, text, CPU);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < windowsBytes / 4, $"allocated {allocated:N0} bytes to score {text.Length:N0} chars; its windows' inputs alone are {windowsBytes:N0}");
        Assert.Equal(a.Layout == DataLayout.SequenceWindows ? (text.Length - 64 - 1 + 63) / 64 * 64 : text.Length - 64, score.Characters);
    }

    [Theory]
    [InlineData("char3", 100)]
    [InlineData("loop", 100)]
    [InlineData("seq-rnn", 100)]
    [InlineData("seq-rnn", 18)] // n + 2: one window
    [InlineData("loop", 9)] // n + 1: one window
    public void Evaluating_with_a_windowed_model_scores_the_windows_validation_would_cut(string name, int length)
    {
        var a = Architectures.Get(name);
        var text = Tiny.Text(8)[..length];
        var vocabulary = Vocabulary.Build(Tiny.Text(2));
        var hp = Tiny.HyperParameters(a);
        using var model = a.Create(hp, vocabulary.Size);
        model.eval();
        var ids = vocabulary.Encode(text);
        var n = a.WindowLength(hp);
        var examples = a.Layout == DataLayout.SequenceWindows ? Batching.WindowedExamples.Sequences(ids, n) : Batching.WindowedExamples.NextChar(ids, n, stride: 1);
        TextScore expected;
        using (NewDisposeScope())
        using (no_grad())
        {
            var x = tensor(examples.Inputs, [examples.Count, examples.InputLength]);
            var y = tensor(examples.Targets).reshape(-1);
            var logits = model.Forward(x, null).Logits.reshape(y.shape[0], -1);
            expected = new TextScore(nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>(), y.shape[0],
                logits.argmax(1).eq(y).sum().item<long>());
        }

        var score = TextEvaluation.Evaluate(model, a, hp, vocabulary, text, CPU);
        Assert.Equal(expected.Characters, score.Characters);
        Assert.Equal(expected.LossSum, score.LossSum, 3);
        Assert.Equal(expected.Correct, score.Correct);
    }

    /// <summary>
    /// A corpus with Windows line endings trains on "\n" (Corpus.FromFile makes "\r\n" "\n"), so scoring a file from the
    /// same source reads its "\r\n" as "\n" too: the model never learned a '\r', and without it the file was refused as
    /// holding an unknown char, or, with an unknown symbol (min_freq above 1), scored each '\r' as that symbol, silently.
    /// A model whose vocabulary has the '\r' (trained before line endings were made "\n") reads the file as it is.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_text_with_windows_line_endings_is_scored_as_the_model_read_its_corpus(int minFrequency)
    {
        using var dir = new TempFolder();
        var lines = string.Concat(Enumerable.Repeat("the cat sat.\nthe mat sat.\n", 20));
        var file = dir.File("crlf.txt");
        File.WriteAllText(file, lines.Replace("\n", "\r\n"));
        var a = Architectures.Get("stateful-gru");
        var hp = Tiny.HyperParameters(a);
        var vocabulary = Vocabulary.Build(Corpus.FromFile(file).Text, minFrequency: minFrequency);
        Assert.DoesNotContain("\r", vocabulary.Symbols);
        using var model = a.Create(hp, vocabulary.Size);
        model.eval();
        var asLearned = TextEvaluation.Evaluate(model, a, hp, vocabulary, lines, CPU);
        var crlf = TextEvaluation.Evaluate(model, a, hp, vocabulary, File.ReadAllText(file), CPU);
        Assert.Equal(asLearned.Characters, crlf.Characters);
        Assert.Equal(asLearned.LossSum, crlf.LossSum, 4);
        Assert.Equal(asLearned.Correct, crlf.Correct);

        var older = Vocabulary.Build(File.ReadAllText(file), minFrequency: minFrequency); // '\r' learned
        using var olderModel = a.Create(hp, older.Size);
        olderModel.eval();
        Assert.Equal(File.ReadAllText(file).Length - 1, TextEvaluation.Evaluate(olderModel, a, hp, older, File.ReadAllText(file), CPU).Characters);
    }
}
