using CharRnn.Engine.Inspection;
using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>charrnn neurons' engine: a layer's hidden state after each char of a text, and the cells ranked by the text features they track.</summary>
public class HiddenStateTraceTests
{
    private const string Text = "the cat (sat) on \"the mat\".\nthe cat sat";

    private static Trainer Trained(string architecture)
    {
        var a = Architectures.Get(architecture);
        var trainer = Trainer.Create(a, Tiny.HyperParameters(a, hidden: 16), Tiny.Options(maxSteps: 5), Tiny.Corpus(Tiny.Text() + "(\")\n"), CPU, null);
        trainer.Run();
        trainer.Model.eval();
        return trainer;
    }

    [Theory]
    [InlineData("stateful-lstm")] // two layers (Tiny's), h and c
    [InlineData("stateful-gru-cell")]
    public void A_trace_has_a_row_of_the_models_hidden_size_per_char_and_is_the_state_a_session_holds_after_that_text(string architecture)
    {
        using var trainer = Trained(architecture);
        var model = (StatefulCharModel)trainer.Model;
        for (int layer = 0; layer < model.Layers; layer++)
        {
            var trace = HiddenStateTrace.Record(model, trainer.Vocabulary, Text, layer);
            Assert.Equal(Text.Length, trace.Activations.Length);
            Assert.Equal(Text.Select(c => c.ToString()), trace.Characters);
            Assert.All(trace.Activations, row => Assert.Equal(16, row.Length));
            Assert.Equal(layer, trace.Layer);
            Assert.NotEqual(trace.Activations[^1], trace.Activations[^2]); // each char moves the state

            // A session fed the whole text in one call (the model's sequence path, not its per-char steps) holds the same h.
            using var session = new GenerationSession(model, trainer.Vocabulary, new SamplingSettings());
            session.Feed(Text);
            var held = session.State.Parts[0][layer, 0].data<float>().ToArray();
            Assert.Equal(held.Length, trace.Activations[^1].Length);
            for (int i = 0; i < held.Length; i++) Assert.Equal(held[i], trace.Activations[^1][i], 1e-5f);
            // And after the first five chars, the sixth row's predecessor: every row is a real state, not just the last.
            using var partway = new GenerationSession(model, trainer.Vocabulary, new SamplingSettings());
            partway.Feed(Text[..5]);
            var early = partway.State.Parts[0][layer, 0].data<float>().ToArray();
            for (int i = 0; i < early.Length; i++) Assert.Equal(early[i], trace.Activations[4][i], 1e-5f);
            if (model.StateParts == 2) // an LSTM's h, not its cell memory c
                Assert.NotEqual(session.State.Parts[1][layer, 0].data<float>().ToArray(), trace.Activations[^1]);
        }
        Assert.Equal(model.Layers - 1, HiddenStateTrace.Record(model, trainer.Vocabulary, Text).Layer); // the last by default
    }

    [Fact]
    public void A_trace_refuses_a_layer_the_model_lacks_a_char_it_cannot_read_and_padding()
    {
        using var trainer = Trained("stateful-lstm");
        var layer = Assert.Throws<ArgumentException>(() => HiddenStateTrace.Record(trainer.Model, trainer.Vocabulary, Text, 2));
        Assert.Contains("layer 2 does not exist: the model has 2 layer(s), 0 to 1", layer.Message);
        var unknown = Assert.Throws<UnknownCharactersException>(() => HiddenStateTrace.Record(trainer.Model, trainer.Vocabulary, "the Zoo"));
        Assert.Equal([new System.Text.Rune('Z')], unknown.Characters);
        var padding = Assert.Throws<ArgumentException>(() => HiddenStateTrace.Record(trainer.Model, trainer.Vocabulary, "the\0cat"));
        Assert.Contains(PaddingInText.Problem, padding.Message);
    }

    [Theory]
    [InlineData("char3")]
    [InlineData("loop")]
    [InlineData("rnn")]
    [InlineData("seq-rnn")]
    public void A_model_without_a_carried_hidden_state_is_refused_naming_those_that_have_one(string architecture)
    {
        var a = Architectures.Get(architecture);
        var vocabulary = Vocabulary.Build(Tiny.Text());
        using var model = a.Create(Tiny.HyperParameters(a, hidden: 8), vocabulary.Size);
        var e = Assert.Throws<NoHiddenStateException>(() => HiddenStateTrace.Record(model, vocabulary, "the cat"));
        Assert.Equal($"'{architecture}' reads a window of the last few chars afresh at each step and carries no hidden state from char to char, so it has no cells to trace. " +
                     "Models that do: stateful-rnn, stateful-rnn-cell, stateful-gru, stateful-gru-cell, stateful-lstm.", e.Message);
    }

    [Fact]
    public void The_features_are_the_texts_own_values_once_each_char_is_read()
    {
        string[] chars = ["a", "\"", "b", "(", "C", ")", "\"", "\n", " ", "d", "e", "."];
        double[] Values(string name) => TextFeature.All.Single(f => f.Name == name).Compute(chars);
        Assert.Equal([0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0], Values("inside \"quotes\""));
        Assert.Equal([0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0], Values("inside (parentheses)"));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4], Values("position in the line"));
        Assert.Equal([1, 0, 1, 0, 1, 0, 0, 0, 0, 1, 2, 0], Values("position in the word"));
        Assert.Equal([1, 0, 1, 0, 1, 0, 0, 0, 0, 1, 1, 0], Values("is a letter"));
        Assert.Equal([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], Values("is uppercase"));
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0], Values("is a space or newline"));
        Assert.Equal([0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1], Values("is punctuation"));
    }

    [Fact]
    public void A_cell_built_to_track_quotes_is_ranked_first_with_that_feature_and_its_r()
    {
        var chars = "he said \"no (not now)\" and left.\nshe said \"yes\" twice.\n".Select(c => c.ToString()).ToList();
        var quotes = TextFeature.All.Single(f => f.Name == "inside \"quotes\"").Compute(chars);
        var random = new Random(3);
        // Cells 0-4 are noise of a larger spread; cell 3 follows the quotes, a little noisy.
        var rows = chars.Select((_, t) => Enumerable.Range(0, 5).Select(cell => cell == 3
            ? (float)(quotes[t] * 1.2 - 0.6 + (random.NextDouble() - 0.5) * 0.2)
            : (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var ranked = CellRanking.Rank(new HiddenStateTrace(chars, rows, 0), top: 3);
        Assert.Equal(3, ranked.Count);
        Assert.Equal(3, ranked[0].Cell);
        Assert.Equal("inside \"quotes\"", ranked[0].Feature);
        Assert.InRange(ranked[0].R, 0.95, 1.0);
        Assert.All(ranked.Skip(1), c => Assert.InRange(Math.Abs(c.R), 0, 0.6));
        // A cell that falls inside quotes correlates negatively, as strongly.
        var flipped = rows.Select(r => r.Select((v, cell) => cell == 3 ? -v : v).ToArray()).ToArray();
        var negative = CellRanking.Rank(new HiddenStateTrace(chars, flipped, 0), top: 1)[0];
        Assert.Equal((3, "inside \"quotes\""), (negative.Cell, negative.Feature));
        Assert.Equal(-ranked[0].R, negative.R, 9);
        Assert.Equal(-ranked[0].Mean, negative.Mean, 9);
        Assert.Equal(ranked[0].StandardDeviation, negative.StandardDeviation, 9);
    }

    [Fact]
    public void A_constant_cell_or_feature_correlates_with_nothing()
    {
        Assert.Equal(0, CellRanking.Correlation([1, 1, 1], [0, 1, 2]));
        Assert.Equal(0, CellRanking.Correlation([0, 1, 2], [5, 5, 5]));
        Assert.Equal(1, CellRanking.Correlation([0, 1, 2], [2, 4, 6]), 12);
    }

    [Fact]
    public void A_cell_saturated_at_one_that_moves_only_by_float_rounding_is_constant_and_ranked_below_a_cell_that_tracks_a_feature()
    {
        // tanh saturates: an LSTM cell's h sits at 1 and moves by one float32 step (6e-8), which tracks the space feature
        // exactly. It is a constant cell for every purpose (sd 0.00 when listed), not one that tracks spaces with r = 1.
        var chars = "the cat sat on the mat and the dog sat too".Select(c => c.ToString()).ToList();
        var below = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(1f) - 1);
        var random = new Random(5);
        var spaces = chars.Select(c => c == " " ? 1.0 : 0.0).ToArray();
        var rows = chars.Select((c, t) => new[]
        {
            c == " " ? below : 1f, // cell 0: saturated
            (float)(spaces[t] * 0.8 - 0.4 + (random.NextDouble() - 0.5) * 0.6), // cell 1: follows spaces, noisily
        }).ToArray();
        Assert.Equal(0, CellRanking.Correlation([.. rows.Select(r => (double)r[0])], spaces));
        var ranked = CellRanking.Rank(new HiddenStateTrace(chars, rows, 0), top: 2);
        Assert.Equal(1, ranked[0].Cell);
        Assert.Equal((0, 0.0), (ranked[1].Cell, ranked[1].R));
        Assert.InRange(Math.Abs(ranked[0].R), 0.5, 1);
    }

    /// <summary>
    /// A text with Windows line endings is traced as the model read its corpus, "\r\n" as "\n" (as eval scores it):
    /// the model never learned a '\r', and the text it came from was refused for one.
    /// </summary>
    [Fact]
    public void A_text_with_windows_line_endings_is_traced_as_the_model_read_its_corpus()
    {
        using var trainer = Trained("stateful-gru");
        Assert.DoesNotContain("\r", trainer.Vocabulary.Symbols);
        var asLearned = HiddenStateTrace.Record(trainer.Model, trainer.Vocabulary, Text);
        var crlf = HiddenStateTrace.Record(trainer.Model, trainer.Vocabulary, Text.Replace("\n", "\r\n"));
        Assert.Equal(asLearned.Characters, crlf.Characters);
        Assert.Equal(asLearned.Activations, crlf.Activations);
    }
}
