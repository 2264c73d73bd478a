using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>bf16 generation: MKL's bf16 product, and a stateful LSTM generating with it.</summary>
public class Bf16GenerationTests : IClassFixture<Bf16GenerationTests.TrainedLstm>
{
    /// <summary>One small trained LSTM shared by the tests of this class.</summary>
    public sealed class TrainedLstm() : TrainedTinyModel("stateful-lstm", hidden: 48);

    private readonly TrainedLstm _model;

    public Bf16GenerationTests(TrainedLstm model) => _model = model;

    private static Tensor Rounded(Tensor t) => t.to(ScalarType.BFloat16).to(ScalarType.Float32);

    [Bf16Fact]
    public void The_bf16_product_is_torchs_float32_product_of_the_bf16_rounded_operands_at_every_row_count()
    {
        Assert.Null(MklBf16Weight.WhyUnavailable);
        manual_seed(4);
        var weight = randn(256, 96);
        using var bf16 = MklBf16Weight.TryCreate(weight)!;
        foreach (var rows in new[] { 1, 3, 64, 130, 1500 }) // 1500: past the kept buffer, as a long prime
        {
            var x = randn(rows, 96);
            var expected = Rounded(x).mm(Rounded(weight).t());
            var product = full(rows, 256, float.NaN); // beta 0: the old values, even NaN, are ignored
            bf16.MultiplyInto(x, product, accumulate: false);
            Assert.True(product.allclose(expected, rtol: 1e-5, atol: 1e-5), $"{rows} rows: off by {(product - expected).abs().max().item<float>()}");
            // It is bf16's product, not float32's: the unrounded operands give another result.
            Assert.False(product.allclose(x.mm(weight.t()), rtol: 1e-5, atol: 1e-5), $"{rows} rows: float32's own product");

            var bias = randn(rows, 256);
            var sum = bias.clone();
            bf16.MultiplyInto(x, sum, accumulate: true);
            Assert.True(sum.allclose(bias + expected, rtol: 1e-5, atol: 1e-5), $"{rows} rows, accumulated");
        }
        var e = Assert.Throws<ArgumentException>(() => bf16.MultiplyInto(randn(2, 95), empty(2, 256), accumulate: false));
        Assert.Contains("A bf16 [256 × 96] weight multiplies [rows × 96] into [rows × 256]; got [2 × 95] into [2 × 256]", e.Message);
        Assert.Null(MklBf16Weight.TryCreate(randn(8, 4, dtype: ScalarType.Float64)));
    }

    [Fact]
    public void Torchs_bf16_product_for_other_devices_is_the_rounded_operands_product_rounded_to_bf16()
    {
        // The GPU's path, checked here on the CPU (where torch computes bf16 products too).
        manual_seed(5);
        var weight = randn(64, 40);
        using var bf16 = TorchBf16Weight.TryCreate(weight)!;
        var x = randn(7, 40);
        var expected = Rounded(x).mm(Rounded(weight).t());
        var product = zeros(7, 64);
        bf16.MultiplyInto(x, product, accumulate: true);
        Assert.True(product.allclose(expected, rtol: 1e-2, atol: 1e-2), $"off by {(product - expected).abs().max().item<float>()}");
    }

    [Bf16Fact]
    public void A_model_prepared_in_bf16_says_so_and_drops_it_as_it_drops_packed_weights()
    {
        using var model = new StatefulLstm(vocabSize: 11, nFac: 4, nHidden: 16, layers: 2, dropout: 0.5);
        model.PrepareForGeneration(GenerationPrecision.BFloat16); // in training mode: none
        Assert.Equal(GenerationPrecision.Float32, model.GenerationPrecision);
        model.eval();
        model.PrepareForGeneration(GenerationPrecision.BFloat16);
        Assert.Equal(GenerationPrecision.BFloat16, model.GenerationPrecision);
        model.PrepareForGeneration();
        Assert.Equal(GenerationPrecision.Float32, model.GenerationPrecision);
        model.PrepareForGeneration(GenerationPrecision.BFloat16);
        model.WeightsChanged();
        Assert.Equal(GenerationPrecision.Float32, model.GenerationPrecision);
        // Models without a bf16 path generate in float32.
        var gru = Architectures.Get("stateful-gru");
        using var other = gru.Create(Tiny.HyperParameters(gru), vocabSize: 11);
        other.eval();
        other.PrepareForGeneration(GenerationPrecision.BFloat16);
        Assert.Equal(GenerationPrecision.Float32, other.GenerationPrecision);
    }

    [Bf16Fact]
    public void Greedy_sessions_stepped_together_in_bf16_produce_what_they_produce_alone()
    {
        var model = _model.Trainer.Model;
        model.PrepareForGeneration(GenerationPrecision.BFloat16);
        try
        {
            Assert.Equal(GenerationPrecision.BFloat16, model.GenerationPrecision);
            // 130 sessions: past the row count where float32's packed weights give way to torch's products.
            var primes = Enumerable.Range(0, 130).Select(i => new[] { "the c", "sat o", "mat. ", "n the", "cat s" }[i % 5][..(1 + i % 5)]).ToArray();
            GenerationSession Session(string prime)
            {
                var s = _model.Session(SamplingSettings.Greedy);
                s.Feed(prime);
                return s;
            }
            const int length = 30;
            var alone = primes.Take(6).Select(prime =>
            {
                using var s = Session(prime);
                return (Text: string.Concat(s.Generate(length).Select(c => c.Text)), Logits: s.NextLogits.ToArray());
            }).ToList();
            var sessions = primes.Select(Session).ToList();
            var together = primes.Select(_ => new System.Text.StringBuilder()).ToList();
            for (int step = 0; step < length; step++)
            {
                var chars = GenerationStep.Advance(sessions);
                for (int i = 0; i < chars.Count; i++) together[i].Append(chars[i].Text);
            }
            Assert.Equal(alone.Select(a => a.Text), together.Take(6).Select(b => b.ToString()));
            // Beyond the text, the logits: the same bf16 products alone and in a batch of 130, to float32's rounding
            // (bf16's own change to them is ~1e-2, so a batch computed in float32 would show here).
            for (int i = 0; i < alone.Count; i++)
            {
                var difference = alone[i].Logits.Zip(sessions[i].NextLogits.ToArray(), (a, b) => Math.Abs(a - b)).Max();
                Assert.True(difference < 1e-4, $"session {i}: logits alone and together differ by {difference}");
            }
            sessions.ForEach(s => s.Dispose());
            for (int i = 6; i < primes.Length; i++) Assert.Equal(together[i % 5].ToString(), together[i].ToString()); // the same prime, the same text, wherever its row
        }
        finally { model.PrepareForGeneration(); }
    }

    [Bf16Fact]
    public void A_trained_models_nats_per_char_in_bf16_is_within_a_small_bound_of_float32s()
    {
        var model = _model.Trainer.Model;
        var text = Tiny.Text(8);
        double NatsPerChar(GenerationPrecision precision)
        {
            model.PrepareForGeneration(precision);
            Assert.Equal(precision, model.GenerationPrecision);
            using var s = _model.Session(SamplingSettings.Greedy);
            var score = s.Feed(text);
            return score.Loss;
        }
        try
        {
            var float32 = NatsPerChar(GenerationPrecision.Float32);
            var bf16 = NatsPerChar(GenerationPrecision.BFloat16);
            Assert.True(float32 < 1.0, $"the model learnt the text: {float32} nats/char");
            Assert.NotEqual(float32, bf16); // bf16's products were used
            Assert.True(Math.Abs(bf16 - float32) < 0.01, $"bf16 {bf16} against float32 {float32} nats/char");
        }
        finally { model.PrepareForGeneration(); }
    }

    [Bf16Fact]
    public void The_architectures_named_as_having_a_bf16_path_are_exactly_those_that_generate_in_bf16()
    {
        // The list refusals and the server's log name (GenerationPrecisions.NoBf16Path): every architecture, prepared in bf16.
        var inBf16 = Architectures.All.Where(a =>
        {
            using var model = a.Create(Tiny.HyperParameters(a), vocabSize: 11);
            model.eval();
            model.PrepareForGeneration(GenerationPrecision.BFloat16);
            return model.GenerationPrecision == GenerationPrecision.BFloat16;
        }).Select(a => a.Name);
        Assert.Equal(GenerationPrecisions.Bf16Architectures, inBf16);
        Assert.Equal("a stateful-gru model has no bf16 path (stateful-lstm models have)", GenerationPrecisions.NoBf16Path("stateful-gru"));
    }

    [Fact]
    public void Precision_names_are_float32_and_bf16_and_others_are_refused_saying_so()
    {
        Assert.Equal(GenerationPrecision.BFloat16, GenerationPrecisions.Parse("bf16", "--precision"));
        Assert.Equal(GenerationPrecision.Float32, GenerationPrecisions.Parse("float32", "--precision"));
        Assert.Equal("bf16", GenerationPrecisions.Name(GenerationPrecision.BFloat16));
        var e = Assert.Throws<ArgumentException>(() => GenerationPrecisions.Parse("fp16", "--precision"));
        Assert.StartsWith("--precision 'fp16' is not a precision; use float32 (the default: exact) or bf16", e.Message);
        Assert.Null(GenerationPrecisions.WhyUnavailable(GenerationPrecision.Float32, TorchSharp.DeviceType.CPU));
        Assert.Equal(MklBf16Weight.WhyUnavailable, GenerationPrecisions.WhyUnavailable(GenerationPrecision.BFloat16, TorchSharp.DeviceType.CPU));
    }
}
