using CharRnn.Engine.Models;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

public class UniformMaskDropoutTests
{
    [Fact]
    public void Training_drops_about_p_and_scales_the_rest_by_one_over_one_minus_p()
    {
        manual_seed(3);
        using var dropout = new UniformMaskDropout(0.3);
        dropout.train();
        using var input = (rand(200_000) + 1).requires_grad_(); // no zeros of its own
        using var output = dropout.forward(input);
        using var dropped = output.eq(0);
        var droppedShare = dropped.to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(droppedShare, 0.29, 0.31); // binomial sd at n = 200k: 0.001

        using var kept = dropped.logical_not();
        using var ratio = output.masked_select(kept) / input.detach().masked_select(kept);
        Assert.Equal(1 / 0.7, ratio.min().item<float>(), 5);
        Assert.Equal(1 / 0.7, ratio.max().item<float>(), 5);

        output.sum().backward(); // the gradient is the mask: 0 where dropped, 1/(1−p) where kept
        using var expected = output.detach() / input.detach();
        Assert.True(input.grad!.allclose(expected, rtol: 1e-6, atol: 1e-7));
    }

    [Fact]
    public void Evaluation_and_p_zero_pass_the_input_through()
    {
        using var input = rand(1000);
        using (var dropout = new UniformMaskDropout(0.5))
        {
            dropout.eval();
            Assert.True(Same(dropout.forward(input), input));
        }
        using (var none = new UniformMaskDropout(0))
        {
            none.train();
            Assert.True(Same(none.forward(input), input));
        }
    }

    [Fact]
    public void Masks_come_from_the_seeded_generator()
    {
        using var dropout = new UniformMaskDropout(0.5);
        dropout.train();
        using var input = ones(1000);
        manual_seed(11);
        using var first = dropout.forward(input);
        manual_seed(11);
        using var again = dropout.forward(input);
        using var other = dropout.forward(input);
        Assert.True(Same(first, again));
        Assert.False(Same(first, other));
    }

    [Fact]
    public void A_float64_input_is_dropped_alike_through_libtorchs_uniform_draws()
    {
        manual_seed(5);
        using var dropout = new UniformMaskDropout(0.3);
        dropout.train();
        using var input = ones(100_000, dtype: ScalarType.Float64);
        using var output = dropout.forward(input);
        Assert.Equal(ScalarType.Float64, output.dtype);
        using var dropped = output.eq(0);
        Assert.InRange(dropped.to_type(ScalarType.Float64).mean().item<double>(), 0.29, 0.31);
        Assert.Equal(1 / 0.7, output.max().item<double>(), 6);
    }

    [Fact]
    public void A_mask_is_the_same_draws_whatever_its_length()
    {
        // Vector lanes draw all but the last few elements, a scalar loop the rest: they must agree.
        using var shortMask = KeepMask.Draw(empty(13), 0.5, seed: 42);
        using var longMask = KeepMask.Draw(empty(64), 0.5, seed: 42);
        Assert.True(Same(shortMask, longMask.narrow(0, 0, 13)));
        using var otherSeed = KeepMask.Draw(empty(64), 0.5, seed: 43);
        Assert.False(Same(longMask, otherSeed));
        Assert.All(longMask.data<float>().ToArray(), v => Assert.True(v is 0f or 2f, $"{v} is neither dropped (0) nor kept (1/(1 - 0.5))"));
        using var kept = longMask.eq(2f);
        Assert.InRange(kept.sum().item<long>(), 16, 48); // 64 fair draws
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.5)]
    public void A_mask_is_SplitMix64s_stream_in_24_bit_draws(double p)
    {
        const ulong seed = 7;
        var generator = new CharRnn.Engine.Sampling.SplitMix64(seed);
        var expected = new float[41];
        for (int k = 0; k < expected.Length; k += 2)
        {
            var z = generator.NextUInt64();
            foreach (var (index, half) in new[] { (k, (uint)z), (k + 1, (uint)(z >> 32)) })
                if (index < expected.Length) expected[index] = (half >> 8) / (double)(1 << 24) >= p ? (float)(1 / (1 - p)) : 0f;
        }
        using var like = empty(expected.Length);
        using var mask = KeepMask.Draw(like, p, seed);
        Assert.Equal(expected, mask.data<float>().ToArray());
    }

    [Fact]
    public void An_empty_input_gets_an_empty_mask_and_a_bad_p_is_refused()
    {
        using var like = empty(0, 5);
        using var mask = KeepMask.Draw(like, 0.5, 1);
        Assert.Equal([0L, 5L], mask.shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => KeepMask.Draw(like, -0.1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => KeepMask.Draw(like, double.NaN, 1));
    }

    private static bool Same(Tensor a, Tensor b) => a.allclose(b, rtol: 0, atol: 0);

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void A_probability_outside_zero_to_one_is_refused(double p)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new UniformMaskDropout(p));
        Assert.Contains("dropout must be at least 0 and below 1", error.Message);
    }
}
