using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

public class SamplingTests : IClassFixture<SamplingTests.TrainedGru>
{
    /// <summary>One small trained model shared by the tests of this class.</summary>
    public sealed class TrainedGru() : TrainedTinyModel("stateful-gru");

    private readonly TrainedGru _model;

    public SamplingTests(TrainedGru model) => _model = model;

    private static string Text(IEnumerable<GeneratedChar> chars) => string.Concat(chars.Select(c => c.Text));

    [Fact]
    public void A_fixed_seed_reproduces_the_same_text()
    {
        using var a = _model.Session(new SamplingSettings(Temperature: 1.0, Seed: 11));
        using var b = _model.Session(new SamplingSettings(Temperature: 1.0, Seed: 11));
        using var c = _model.Session(new SamplingSettings(Temperature: 1.0, Seed: 12));
        a.Feed("the c"); b.Feed("the c"); c.Feed("the c");
        var first = Text(a.Generate(80));
        Assert.Equal(first, Text(b.Generate(80)));
        Assert.NotEqual(first, Text(c.Generate(80)));
    }

    [Fact]
    public void Generating_100_chars_equals_50_then_50_with_the_state_carried()
    {
        using var whole = _model.Session(new SamplingSettings(Temperature: 0.9, Seed: 5));
        using var split = _model.Session(new SamplingSettings(Temperature: 0.9, Seed: 5));
        whole.Feed("the m");
        split.Feed("the m");
        var expected = Text(whole.Generate(100));
        var actual = Text(split.Generate(50)) + Text(split.Generate(50));
        Assert.Equal(expected, actual);
        Assert.Equal(105, split.CharactersSeen);
    }

    [Fact]
    public void Feeding_text_in_pieces_equals_feeding_it_at_once()
    {
        using var once = _model.Session(SamplingSettings.Greedy);
        using var pieces = _model.Session(SamplingSettings.Greedy);
        once.Feed("the cat sat");
        foreach (var piece in new[] { "the", " c", "at sat" }) pieces.Feed(piece);
        Assert.Equal(once.NextLogits.ToArray(), pieces.NextLogits.ToArray(), new FloatTolerance(1e-5f));
        Assert.Equal(Text(once.Generate(30)), Text(pieces.Generate(30)));
    }

    [Fact]
    public void A_generated_chars_probability_is_the_temperature_1_softmax_of_the_logits_it_was_drawn_from()
    {
        using var session = _model.Session(new SamplingSettings(Temperature: 0.7, Seed: 5));
        session.Feed("the ");
        for (int i = 0; i < 20; i++)
        {
            var logits = session.NextLogits.ToArray();
            var c = session.Generate(1).Single();
            Assert.Equal((float)CharSampler.Softmax(logits, 1.0)[c.Id], c.Probability); // computed on first read, after the step moved on
            Assert.Equal(c.Probability, c.WithAlternatives(null).Probability);
        }
    }

    [Fact]
    public void Temperature_towards_zero_equals_argmax()
    {
        var rng = new Random(3);
        for (int trial = 0; trial < 200; trial++)
        {
            var logits = Enumerable.Range(0, 20).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
            var state = new SplitMix64((ulong)trial);
            var cold = CharSampler.SampleId(logits, new SamplingSettings(Temperature: 1e-4), ref state);
            Assert.Equal(CharSampler.ArgMax(logits), cold);
        }
        using var greedy = _model.Session(SamplingSettings.Greedy);
        greedy.Feed("the ");
        for (int i = 0; i < 20; i++)
        {
            var logits = greedy.NextLogits.ToArray();
            Assert.Equal(CharSampler.ArgMax(logits), greedy.Generate(1).Single().Id);
        }
    }

    [Fact]
    public void A_draw_is_the_softmax_at_its_temperature_cut_at_a_uniform_from_the_seed_bit_for_bit()
    {
        // Seeded text stays the same from release to release: the draw is pinned to this arithmetic.
        var rng = new Random(11);
        foreach (var temperature in new[] { 1.0, 0.8, 1.7 })
            for (int trial = 0; trial < 300; trial++)
            {
                var logits = Enumerable.Range(0, 85).Select(_ => (float)(rng.NextDouble() * 12 - 6)).ToArray();
                if (trial % 5 == 0) logits[trial % 85] = float.NegativeInfinity;
                var state = new SplitMix64((ulong)trial);
                var u = new SplitMix64((ulong)trial).NextDouble();
                var sampled = CharSampler.SampleId(logits, new SamplingSettings(Temperature: temperature), ref state);

                var p = CharSampler.Softmax(logits, temperature);
                double total = 0, cumulative = 0;
                foreach (var v in p) total += v;
                var expected = Enumerable.Range(0, p.Length).First(i => p[i] > 0 && u * total < (cumulative += p[i]));
                Assert.Equal(expected, sampled);
                Assert.Equal((float)CharSampler.Softmax(logits, 1.0)[expected], CharSampler.Probability(logits, sampled));
            }
    }

    [Fact]
    public void Top_k_never_emits_outside_the_k_most_likely()
    {
        var logits = new float[] { 0.1f, 2.0f, -1f, 1.5f, 0.3f, 1.9f, -0.5f, 0.0f };
        var top3 = new[] { 1, 5, 3 };
        var state = new SplitMix64(9);
        var seen = new HashSet<int>();
        for (int i = 0; i < 3000; i++)
            seen.Add(CharSampler.SampleId(logits, new SamplingSettings(Temperature: 2.0, TopK: 3), ref state));
        Assert.Subset(top3.ToHashSet(), seen);
        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public void Top_p_keeps_the_smallest_nucleus_reaching_p()
    {
        var logits = new[] { MathF.Log(0.6f), MathF.Log(0.3f), MathF.Log(0.1f) };
        var state = new SplitMix64(1);
        var seen = new HashSet<int>();
        for (int i = 0; i < 2000; i++) seen.Add(CharSampler.SampleId(logits, new SamplingSettings(TopP: 0.85), ref state));
        Assert.Equal([0, 1], seen.Order());
        for (int i = 0; i < 500; i++) Assert.Equal(0, CharSampler.SampleId(logits, new SamplingSettings(TopP: 0.5), ref state));
    }

    /// <summary>The ids drawn in <paramref name="draws"/> seeded draws from one distribution.</summary>
    private static int[] Drawn(float[] logits, SamplingSettings settings, int draws = 3000)
    {
        var state = new SplitMix64(settings.Seed);
        var seen = new HashSet<int>();
        for (int i = 0; i < draws; i++) seen.Add(CharSampler.SampleId(logits, settings, ref state));
        return [.. seen.Order()];
    }

    private static float[] LogitsOf(params double[] probabilities) => [.. probabilities.Select(p => (float)Math.Log(p))];

    [Fact]
    public void Min_p_keeps_the_chars_at_least_min_p_times_as_likely_as_the_most_likely_at_the_temperature()
    {
        var logits = LogitsOf(0.5, 0.2, 0.15, 0.1, 0.05);
        Assert.Equal([0, 1, 2], Drawn(logits, new SamplingSettings(MinP: 0.25))); // floor 0.125
        Assert.Equal([0], Drawn(logits, new SamplingSettings(MinP: 0.5))); // 0.2 is 0.4 of 0.5
        // At temperature 2 the chars stand at 1, .63, .55, .45, .32 of the most likely: the floor is of that distribution.
        Assert.Equal([0, 1, 2], Drawn(logits, new SamplingSettings(Temperature: 2, MinP: 0.5)));
        Assert.Equal([0, 1, 2, 3, 4], Drawn(logits, new SamplingSettings(Temperature: 2, MinP: 0.3)));
        Assert.Equal([1, 2, 3], Drawn(LogitsOf(0.1, 0.3, 0.3, 0.3), new SamplingSettings(MinP: 0.9))); // equals at the top all stay
    }

    [Fact]
    public void Min_p_with_top_k_and_top_p_draws_only_what_passes_all_with_top_p_measured_before_min_p()
    {
        var logits = LogitsOf(0.4, 0.25, 0.2, 0.1, 0.05);
        Assert.Equal([0, 1, 2], Drawn(logits, new SamplingSettings(TopK: 4, MinP: 0.4))); // floor 0.16 cuts deeper than k
        Assert.Equal([0, 1], Drawn(logits, new SamplingSettings(TopK: 2, MinP: 0.4))); // k cuts deeper than the floor
        Assert.Equal([0, 1, 2, 3], Drawn(logits, new SamplingSettings(TopP: 0.9, MinP: 0.2)));
        // HF's order: the nucleus of 0.7 is {0, 1, 2} in the distribution before min-p; measured after
        // min-p's renormalisation (0.47, 0.29, 0.24) it would be {0, 1}.
        Assert.Equal([0, 1, 2], Drawn(logits, new SamplingSettings(TopP: 0.7, MinP: 0.4)));
    }

    [Fact]
    public void Top_p_after_top_k_measures_its_nucleus_in_the_top_k_set_renormalised_as_HF_does()
    {
        var logits = LogitsOf(0.6, 0.3, 0.1);
        // Top-k 2 leaves {0.6, 0.3}: renormalised, 0.6 is 0.667 of it, which reaches 0.65 alone
        // (of the whole distribution it is 0.6 and would not).
        Assert.Equal([0], Drawn(logits, new SamplingSettings(TopK: 2, TopP: 0.65)));
        // Where both measures agree: 0.667 and 0.6 are short of 0.95, both chars of the top-k stay;
        // a top-k that cuts nothing leaves top-p alone.
        Assert.Equal([0, 1], Drawn(logits, new SamplingSettings(TopK: 2, TopP: 0.95)));
        Assert.Equal([0, 1], Drawn(logits, new SamplingSettings(TopK: 3, TopP: 0.85)));
        // HF's top-k keeps the chars tied at its cut, so they count in the mass top-p measures against:
        // {0.4, 0.2, 0.2, 0.2} is the whole distribution, and 0.5 of it needs two chars (then their equals).
        Assert.Equal([0, 1, 2, 3], Drawn(LogitsOf(0.4, 0.2, 0.2, 0.2), new SamplingSettings(TopK: 2, TopP: 0.5)));
    }

    [Fact]
    public void Min_p_0_draws_what_the_settings_without_it_draw()
    {
        using var without = _model.Session(new SamplingSettings(Temperature: 1.3, TopK: 20, TopP: 0.95, Seed: 17));
        using var zero = _model.Session(new SamplingSettings(Temperature: 1.3, TopK: 20, TopP: 0.95, Seed: 17, MinP: 0));
        using var on = _model.Session(new SamplingSettings(Temperature: 1.3, TopK: 20, TopP: 0.95, Seed: 17, MinP: 0.3));
        without.Feed("the c"); zero.Feed("the c"); on.Feed("the c");
        var text = Text(without.Generate(200));
        Assert.Equal(text, Text(zero.Generate(200)));
        Assert.NotEqual(text, Text(on.Generate(200))); // and min-p on does change it at this temperature
    }

    [Fact]
    public void Chars_tied_at_the_top_k_cut_stay_in()
    {
        var logits = new[] { 0f, MathF.Log(0.3f), MathF.Log(0.3f), MathF.Log(0.3f), MathF.Log(0.1f) };
        logits[0] = float.NegativeInfinity;
        var state = new SplitMix64(3);
        var seen = new HashSet<int>();
        for (int i = 0; i < 2000; i++) seen.Add(CharSampler.SampleId(logits, new SamplingSettings(TopK: 2), ref state));
        Assert.Equal([1, 2, 3], seen.Order()); // id 3 is as likely as 1 and 2: not dropped for its id
    }

    [Fact]
    public void Scores_that_are_not_numbers_are_never_drawn_and_all_of_them_is_an_error()
    {
        var state = new SplitMix64(5);
        var nan = new[] { float.NegativeInfinity, 1f, float.NaN, 0.5f };
        var infinite = new[] { float.NegativeInfinity, 1f, float.PositiveInfinity, 0.5f };
        for (int i = 0; i < 500; i++)
        {
            Assert.NotEqual(2, CharSampler.SampleId(nan, new SamplingSettings(Temperature: 1.5), ref state));
            Assert.Equal(2, CharSampler.SampleId(infinite, new SamplingSettings(Temperature: 1.5), ref state));
        }
        Assert.Equal(1, CharSampler.ArgMax(nan));
        var none = new[] { float.NegativeInfinity, float.NaN, float.NaN };
        Assert.Contains("diverged", Assert.Throws<ModelDivergedException>(() => CharSampler.ArgMax(none)).Message);
        Assert.Contains("diverged", Assert.Throws<ModelDivergedException>(() => CharSampler.SampleId(none, new SamplingSettings(), ref state)).Message);
    }

    [Fact]
    public void The_padding_symbol_is_never_generated_even_at_the_highest_temperature()
    {
        using var s = _model.Session(new SamplingSettings(Temperature: 10, Seed: 4));
        s.Feed("the cat");
        Assert.True(float.IsNegativeInfinity(s.NextLogits[0]));
        Assert.DoesNotContain(s.Generate(2000), c => c.Id == 0);
    }

    [Fact]
    public void The_unknown_symbol_is_never_generated_when_the_vocabulary_has_one()
    {
        // Untrained, so every symbol scores alike: at temperature 10 the unknown one would come up every few dozen chars.
        var a = Architectures.Get("stateful-gru");
        using var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(maxSteps: 1) with { MinFrequency = 2 }, Tiny.Corpus(), CPU, null);
        trainer.Model.eval();
        Assert.True(trainer.Vocabulary.HasUnknown);
        using var s = new GenerationSession(trainer.Model, trainer.Vocabulary, new SamplingSettings(Temperature: 10, Seed: 4));
        Assert.True(float.IsNegativeInfinity(s.NextLogits[1])); // before any text too
        s.Feed("the cat");
        Assert.True(float.IsNegativeInfinity(s.NextLogits[1]));
        Assert.DoesNotContain(s.Generate(2000), c => c.Id == 1 || c.Text == CharRnn.Engine.Text.Vocabulary.Unknown);
        using var without = _model.Session(new SamplingSettings());
        Assert.False(without.Vocabulary.HasUnknown);
        Assert.False(float.IsNegativeInfinity(without.NextLogits[1])); // without one, id 1 is a character
    }

    [Fact]
    public void Probabilities_and_alternatives_come_from_the_models_own_distribution()
    {
        using var s = _model.Session(new SamplingSettings(Temperature: 0.5, Seed: 2));
        s.Feed("the cat sat on the ");
        var logits = s.NextLogits.ToArray();
        var generated = s.Generate(1, alternatives: 3).Single();
        var p = CharSampler.Softmax(logits, 1.0);
        Assert.Equal(p[generated.Id], generated.Probability, 5);
        Assert.Equal(3, generated.Alternatives!.Count);
        Assert.True(generated.Alternatives[0].Probability >= generated.Alternatives[1].Probability);
        Assert.Equal(_model.Trainer.Vocabulary[CharSampler.ArgMax(logits)], generated.Alternatives[0].Text);
    }

    /// <summary>Each prime's <paramref name="length"/> chars from a session of its own settings, generated alone and then all in batched steps.</summary>
    private (List<string> Alone, List<string> Together) AloneAndTogether(string[] primes, SamplingSettings[] settings, int length)
    {
        var alone = primes.Select((prime, i) =>
        {
            using var s = _model.Session(settings[i]);
            s.Feed(prime);
            return Text(s.Generate(length));
        }).ToList();

        var sessions = primes.Select((p, i) => { var s = _model.Session(settings[i]); s.Feed(p); return s; }).ToList();
        var together = primes.Select(_ => new System.Text.StringBuilder()).ToList();
        for (int step = 0; step < length; step++)
        {
            var chars = GenerationStep.Advance(sessions);
            for (int i = 0; i < chars.Count; i++) together[i].Append(chars[i].Text);
        }
        sessions.ForEach(s => s.Dispose());
        return (alone, [.. together.Select(b => b.ToString())]);
    }

    [Fact]
    public void Sessions_stepped_together_produce_what_they_produce_alone()
    {
        var primes = new[] { "the c", "sat o", "mat. ", "n the" };
        var (alone, together) = AloneAndTogether(primes, [.. primes.Select(_ => new SamplingSettings(Temperature: 0.8, Seed: 21))], 40);
        Assert.Equal(alone, together);
    }

    [Fact]
    public void Sessions_with_min_p_stepped_together_draw_what_they_draw_alone()
    {
        var (alone, together) = AloneAndTogether(["the c", "sat o", "the c"],
            [new SamplingSettings(Temperature: 2.5, Seed: 8, MinP: 0.1), new SamplingSettings(Temperature: 2.5, Seed: 9, MinP: 0.3), new SamplingSettings(Temperature: 2.5, Seed: 8)], 60);
        Assert.Equal(alone, together);
        Assert.NotEqual(alone[0], alone[2]); // min-p changed what seed 8 draws: the rows did not all sample alike
    }

    [Fact]
    public void Sessions_joining_leaving_and_reordering_between_steps_produce_what_they_produce_alone()
    {
        var primes = new[] { "the c", "sat o", "mat. ", "n the", "cat s" };
        const int length = 30;
        var alone = primes.Select(prime =>
        {
            using var s = _model.Session(new SamplingSettings(Temperature: 0.8, Seed: 5));
            s.Feed(prime);
            return Text(s.Generate(length));
        }).ToList();

        var live = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var sessions = primes.Select(p => { var s = _model.Session(new SamplingSettings(Temperature: 0.8, Seed: 5)); s.Feed(p); return s; }).ToList();
        var text = primes.Select(_ => new System.Text.StringBuilder()).ToList();
        GenerationSession? fork = null;
        string forkExpected = "";
        for (int round = 0; text.Any(t => t.Length < length); round++)
        {
            // The same group again (the batch is reused), reversed, a subset, one alone.
            var order = (round % 4) switch
            {
                0 or 1 => Enumerable.Range(0, primes.Length),
                2 => Enumerable.Range(0, primes.Length).Reverse(),
                _ => Enumerable.Range(0, primes.Length).Where(i => i % 2 == round % 3 % 2),
            };
            var group = order.Where(i => text[i].Length < length).ToList();
            if (group.Count == 0) group = [text.FindIndex(t => t.Length < length)];
            var chars = GenerationStep.Advance(group.Select(i => sessions[i]).ToList());
            for (int k = 0; k < group.Count; k++) text[group[k]].Append(chars[k].Text);
            if (round == 3) sessions.ForEach(s => s.LeaveBatch()); // as a session does when its Generate call ends
            if (round == 5)
            {
                fork = sessions[0].Fork(); // from a row of a shared batch
                forkExpected = alone[0][text[0].Length..];
            }
        }
        Assert.Equal(alone, text.Select(b => b.ToString()));
        Assert.Equal(forkExpected, Text(fork!.Generate(forkExpected.Length)));
        fork.Dispose();
        sessions.ForEach(s => s.Dispose());
        Assert.Equal(live, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Fork_continues_identically_and_reset_starts_over()
    {
        using var original = _model.Session(new SamplingSettings(Temperature: 1.0, Seed: 8));
        original.Feed("the cat ");
        using var fork = original.Fork();
        Assert.Equal(Text(original.Generate(30)), Text(fork.Generate(30)));
        original.Reset();
        using var fresh = _model.Session(new SamplingSettings(Temperature: 1.0, Seed: 8));
        Assert.Equal(Text(fresh.Generate(20)), Text(original.Generate(20)));
    }

    [Theory]
    [InlineData("char3")]
    [InlineData("loop")]
    [InlineData("rnn")]
    public void A_windowed_models_short_prime_reads_as_if_spaces_came_before_it(string architecture)
    {
        // Padding, which these models never see in training, would make the first chars after a short prime
        // guesses; a space before a prime says it starts a word (bench/README measures what it gains on Nietzsche).
        var a = Architectures.Get(architecture);
        using var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(), Tiny.Corpus(), CPU, null);
        trainer.Model.eval();
        var context = ((WindowedCharModel)trainer.Model).Context;
        GenerationSession Fed(string text)
        {
            var session = new GenerationSession(trainer.Model, trainer.Vocabulary, new SamplingSettings { Seed = 1 });
            session.Feed(text);
            return session;
        }
        using var shortPrime = Fed("t");
        using var spaced = Fed(new string(' ', context) + "t");
        Assert.Equal(spaced.NextLogits.ToArray(), shortPrime.NextLogits.ToArray());
        shortPrime.Reset();
        shortPrime.Feed("t");
        Assert.Equal(spaced.NextLogits.ToArray(), shortPrime.NextLogits.ToArray()); // a reset starts from spaces too
    }

    [Fact]
    public void Characters_outside_the_vocabulary_in_a_prime_are_an_error_naming_them()
    {
        using var s = _model.Session(SamplingSettings.Greedy);
        var e = Assert.Throws<Text.UnknownCharactersException>(() => s.Feed("the ZZ cat"));
        Assert.Contains("'Z'", e.Message);
    }

    [Fact]
    public void Bad_sampling_settings_say_what_is_allowed()
    {
        Assert.Contains("temperature = -1", Assert.Throws<ArgumentException>(() => new SamplingSettings(Temperature: -1).Validate()).Message);
        Assert.Contains("top_p = 0", Assert.Throws<ArgumentException>(() => new SamplingSettings(TopP: 0).Validate()).Message);
        Assert.Contains("top_k = -2", Assert.Throws<ArgumentException>(() => new SamplingSettings(TopK: -2).Validate()).Message);
        foreach (var minP in new[] { 1.0, -0.1, double.NaN })
            Assert.Contains($"min_p = {minP.ToString(System.Globalization.CultureInfo.InvariantCulture)} is not allowed; use a number from 0 (off) up to, not including, 1.",
                Assert.Throws<ArgumentException>(() => new SamplingSettings(MinP: minP).Validate()).Message);
        Assert.Equal(0.99, new SamplingSettings(MinP: 0.99).Validate().MinP);
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => x == y || Math.Abs(x - y) <= tolerance; // == for the padding's −∞
        public int GetHashCode(float obj) => 0;
    }
}
