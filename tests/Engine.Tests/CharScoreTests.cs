using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>Each char's own score (where the model was surprised): Feed's and TextEvaluation's, from the values their mean is of.</summary>
public class CharScoreTests(SamplingTests.TrainedGru trained) : IClassFixture<SamplingTests.TrainedGru>
{
    private const string Text = "the cat sat on the mat. the mat sat on the cat. ";

    /// <summary>Each char's loss computed independently: the model's Forward over the text, log-softmax per position.</summary>
    private static double[] ForwardLosses(CharModel model, Vocabulary vocabulary, string text)
    {
        var ids = vocabulary.Encode(text);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(ids.Select(i => (long)i).ToArray(), [ids.Length, 1]);
        var logSoftmax = model.Forward(input, model.InitialState(1)).Logits.reshape(ids.Length, -1).log_softmax(1);
        var counts = vocabulary.Counts;
        var losses = new double[ids.Length];
        losses[0] = -Math.Log((double)counts[ids[0]] / counts.Sum()); // a new session's first char: the corpus's frequencies
        for (var i = 1; i < ids.Length; i++) losses[i] = -logSoftmax[i - 1, ids[i]].item<float>();
        return losses;
    }

    [Fact]
    public void Feed_per_char_scores_are_each_chars_negative_log_likelihood_and_their_mean_is_the_reported_loss()
    {
        using var session = trained.Session(new SamplingSettings(Seed: 1));
        var score = session.Feed(Text, perChar: true);
        var chars = score.Chars!;
        var expected = ForwardLosses(trained.Trainer.Model, trained.Trainer.Vocabulary, Text);

        Assert.Equal(Text.Length, chars.Count);
        Assert.Equal(Text, string.Concat(chars.Select(c => c.Char)));
        Assert.Equal(Enumerable.Range(0, Text.Length).Select(i => (long)i), chars.Select(c => c.Position));
        for (var i = 0; i < chars.Count; i++) Assert.Equal(expected[i], chars[i].Loss, 4);
        Assert.Equal(score.Loss, chars.Average(c => c.Loss), 5);
        Assert.Equal(score.Correct, chars.Count(c => c.Top1));
        Assert.Equal(Math.Exp(-chars[5].Loss), chars[5].Probability, 12);
        // Trained on the pattern: the text is mostly easy, but not every char equally so.
        Assert.True(chars.Max(c => c.Loss) > 4 * chars.Min(c => c.Loss), $"losses {string.Join(", ", chars.Select(c => c.Loss.ToString("F2")))}");
    }

    [Fact]
    public void Without_per_char_the_score_has_no_chars_and_the_same_totals()
    {
        using var plain = trained.Session(new SamplingSettings(Seed: 1));
        using var each = trained.Session(new SamplingSettings(Seed: 1));
        var (a, b) = (plain.Feed(Text), each.Feed(Text, perChar: true));
        Assert.Null(a.Chars);
        Assert.Equal(a.Characters, b.Characters);
        Assert.Equal(a.LossSum, b.LossSum, 4);
        Assert.Equal(a.Correct, b.Correct);
        Assert.Empty(each.Feed("", perChar: true).Chars!);
    }

    [Fact]
    public void Pieces_scored_per_char_join_into_the_whole_texts_positions_and_scores()
    {
        using var whole = trained.Session(new SamplingSettings(Seed: 1));
        using var pieces = trained.Session(new SamplingSettings(Seed: 1));
        var once = whole.Feed(Text, perChar: true);
        var joined = default(TextScore) + pieces.Feed(Text[..5], perChar: true) + pieces.Feed(Text[5..6], perChar: true) + pieces.Feed(Text[6..], perChar: true);
        Assert.Equal(once.Chars!.Select(c => (c.Position, c.Char, c.Top1)), joined.Chars!.Select(c => (c.Position, c.Char, c.Top1)));
        for (var i = 0; i < once.Chars!.Count; i++) Assert.Equal(once.Chars[i].Loss, joined.Chars![i].Loss, 4);
    }

    [Fact]
    public void A_lowercase_model_scores_the_lowercased_text_one_entry_per_char_in_order()
    {
        var a = Architectures.Get("stateful-gru");
        var vocabulary = Vocabulary.Build(Text, lowercase: true);
        using var model = a.Create(Tiny.HyperParameters(a), vocabulary.Size);
        model.eval();
        using var session = new GenerationSession(model, vocabulary, new SamplingSettings(Seed: 1));
        var score = session.Feed("The CAT.", perChar: true);
        Assert.Equal(["t", "h", "e", " ", "c", "a", "t", "."], score.Chars!.Select(c => c.Char));
        Assert.Equal([0L, 1, 2, 3, 4, 5, 6, 7], score.Chars!.Select(c => c.Position));
        Assert.Equal(score.Loss, score.Chars!.Average(c => c.Loss), 5);

        var evaluated = TextEvaluation.Evaluate(model, a, Tiny.HyperParameters(a), vocabulary, "The CAT SAT.", CPU, perChar: true);
        Assert.Equal("he cat sat.", string.Concat(evaluated.Chars!.Select(c => c.Char))); // a stream's first char is not scored
    }

    [Fact]
    public void Per_char_scores_have_one_entry_per_char_as_typed_a_surrogate_pair_and_a_dotted_capital_I_each_one_char_a_client_can_match_by_its_lowercase()
    {
        // The Type screen matches each typed rune to its score by the rune or its lowercase (TypedScores.Apply): a
        // surrogate pair is one char, and lowercasing (İ, Σ) must not change how many chars the model read.
        var a = Architectures.Get("stateful-gru");
        const string typed = "İstanbul 😀 ΣΑΣ 𐐀x";
        var vocabulary = Vocabulary.Build(Text + typed, lowercase: true);
        using var model = a.Create(Tiny.HyperParameters(a), vocabulary.Size);
        model.eval();
        using var session = new GenerationSession(model, vocabulary, new SamplingSettings(Seed: 1));
        var chars = session.Feed(typed, perChar: true).Chars!;
        var runes = typed.EnumerateRunes().ToList();
        Assert.Equal(runes.Count, chars.Count);
        Assert.Equal(runes.Select(r => System.Text.Rune.ToLowerInvariant(r).ToString()), chars.Select(c => c.Char));
        Assert.Equal(Enumerable.Range(0, runes.Count).Select(i => (long)i), chars.Select(c => c.Position));
        Assert.All(chars, c => Assert.True(double.IsFinite(c.Loss), $"{c.Char}: {c.Loss}"));
    }

    [Fact]
    public void Evaluating_per_char_scores_each_char_after_the_streams_first_as_feeding_does_and_the_mean_is_the_loss()
    {
        var t = trained.Trainer;
        var text = Tiny.Text(8); // one stream
        var evaluated = TextEvaluation.Evaluate(t.Model, t.Architecture, t.HyperParameters, t.Vocabulary, text, CPU, perChar: true);
        var expected = ForwardLosses(t.Model, t.Vocabulary, text);
        var chars = evaluated.Chars!;
        Assert.Equal(evaluated.Characters, chars.Count);
        Assert.Equal(Enumerable.Range(1, text.Length - 1).Select(i => (long)i), chars.Select(c => c.Position));
        Assert.All(chars, c => Assert.Equal(text[(int)c.Position].ToString(), c.Char));
        for (var i = 0; i < chars.Count; i++) Assert.Equal(expected[i + 1], chars[i].Loss, 4);
        Assert.Equal(evaluated.Loss, chars.Average(c => c.Loss), 5);
        Assert.Equal(evaluated.Correct, chars.Count(c => c.Top1));
    }

    [Theory]
    [InlineData(2501, 2500)] // two streams, chars 0..1250 and 1250..2500: every char after the first
    [InlineData(2502, 2501)] // the same two streams; the last char, a remainder (under the streams' count), follows the second
    public void Evaluating_per_char_with_several_streams_scores_each_char_after_the_texts_first_once(int length, int lastScored)
    {
        var t = trained.Trainer;
        var text = Tiny.Text(120)[..length];
        var plain = TextEvaluation.Evaluate(t.Model, t.Architecture, t.HyperParameters, t.Vocabulary, text, CPU);
        var evaluated = TextEvaluation.Evaluate(t.Model, t.Architecture, t.HyperParameters, t.Vocabulary, text, CPU, perChar: true);
        Assert.Equal(Enumerable.Range(1, lastScored).Select(i => (long)i), evaluated.Chars!.Select(c => c.Position));
        Assert.Equal(lastScored, plain.Characters);
        Assert.Equal(plain.LossSum, evaluated.LossSum, 2);
        Assert.Equal(plain.Correct, evaluated.Correct);
        Assert.Equal(evaluated.Loss, evaluated.Chars!.Average(c => c.Loss), 5);
    }

    [Fact]
    public void A_remainder_past_the_last_stream_is_scored_as_that_streams_continuation()
    {
        var t = trained.Trainer;
        var text = Tiny.Text(120)[..2502]; // two streams, 0..1250 and 1250..2500, and char 2501 past the second's end
        var evaluated = TextEvaluation.Evaluate(t.Model, t.Architecture, t.HyperParameters, t.Vocabulary, text, CPU, perChar: true);
        var second = ForwardLosses(t.Model, t.Vocabulary, text[1250..]); // the second stream read on to the text's end from a zero state
        var chars = evaluated.Chars!;
        Assert.Equal(2501, evaluated.Characters);
        Assert.Equal(2501, chars[^1].Position);
        Assert.Equal(second[^1], chars[^1].Loss, 4);
        for (var i = 1251; i <= 2501; i++) Assert.Equal(second[i - 1250], chars[i - 1].Loss, 4);
    }

    [Theory]
    [InlineData("loop")]
    [InlineData("seq-rnn")]
    public void Evaluating_per_char_with_a_windowed_model_scores_the_chars_its_windows_predict(string name)
    {
        var a = Architectures.Get(name);
        var text = Tiny.Text(8)[..100];
        var vocabulary = Vocabulary.Build(Tiny.Text(2));
        var hp = Tiny.HyperParameters(a);
        using var model = a.Create(hp, vocabulary.Size);
        model.eval();
        var n = a.WindowLength(hp);
        var evaluated = TextEvaluation.Evaluate(model, a, hp, vocabulary, text, CPU, perChar: true);
        // next-char windows predict every char after the first window; sequence windows (non-overlapping) chars 1.. of whole windows
        var expected = a.Layout == DataLayout.SequenceWindows ? Enumerable.Range(1, (int)evaluated.Characters) : Enumerable.Range(n, text.Length - n);
        Assert.Equal(expected.Select(i => (long)i), evaluated.Chars!.Select(c => c.Position));
        Assert.Equal(evaluated.Loss, evaluated.Chars!.Average(c => c.Loss), 5);
        Assert.Equal(evaluated.Correct, evaluated.Chars!.Count(c => c.Top1));
    }
}
