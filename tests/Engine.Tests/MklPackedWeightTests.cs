using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>MKL-packed weights for generation: the product they give, and when a model drops them.</summary>
public class MklPackedWeightTests
{
    [Fact]
    public void A_packed_product_equals_torchs_for_any_number_of_rows_and_accumulates_when_asked()
    {
        Assert.True(MklPackedWeight.Available, "this project's libtorch carries MKL's packed GEMM (libtorch_cpu.so exports cblas_sgemm_compute)");
        manual_seed(5);
        var weight = randn(96, 40);
        using var packed = MklPackedWeight.TryPack(weight, maxRows: 127)!;
        foreach (var rows in new[] { 1, 3, 64, 127 })
        {
            var x = randn(rows, 40);
            var output = full(rows, 96, 2.0f);
            packed.MultiplyInto(x, output, accumulate: false);
            Assert.True(output.allclose(x.mm(weight.t()), rtol: 1e-5, atol: 1e-5), $"{rows} row(s)");
            packed.MultiplyInto(x, output, accumulate: true);
            Assert.True(output.allclose(x.mm(weight.t()) * 2, rtol: 1e-5, atol: 1e-5), $"{rows} row(s), accumulated");
        }
        weight.add_(1); // the packed copy keeps the values it was made from
        var one = randn(1, 40);
        var before = empty(1, 96);
        packed.MultiplyInto(one, before, accumulate: false);
        Assert.False(before.allclose(one.mm(weight.t()), rtol: 1e-3, atol: 1e-3));
    }

    [Fact]
    public void Wrong_shapes_and_layouts_are_refused_with_what_was_expected()
    {
        using var packed = MklPackedWeight.TryPack(randn(8, 4), maxRows: 16)!;
        var e = Assert.Throws<ArgumentException>(() => packed.MultiplyInto(randn(2, 5), empty(2, 8), accumulate: false));
        Assert.Contains("multiplies [rows × 4] into [rows × 8]; got [2 × 5] into [2 × 8]", e.Message);
        Assert.Throws<ArgumentException>(() => packed.MultiplyInto(randn(4, 2).t(), empty(2, 8), accumulate: false));
        e = Assert.Throws<ArgumentException>(() => packed.MultiplyInto(randn(17, 4), empty(17, 8), accumulate: false));
        Assert.Contains("up to 16 rows", e.Message);
        Assert.Null(MklPackedWeight.TryPack(randn(8, 4, dtype: ScalarType.Float64), maxRows: 16));
        packed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => packed.MultiplyInto(randn(2, 4), empty(2, 8), accumulate: false));
    }

    [Fact]
    public void A_long_prime_through_a_packed_model_gives_what_the_unpacked_model_gives()
    {
        manual_seed(9);
        using var plain = new StatefulLstm(vocabSize: 11, nFac: 4, nHidden: 32, layers: 2, dropout: 0.5);
        using var packed = new StatefulLstm(vocabSize: 11, nFac: 4, nHidden: 32, layers: 2, dropout: 0.5);
        packed.load_state_dict(plain.state_dict());
        plain.eval();
        packed.eval();
        packed.PrepareForGeneration();
        Assert.Equal(MklPackedWeight.Available, packed.PackedForGeneration);
        using var _ = no_grad();
        foreach (var (steps, batch) in new[] { (1, 1), (200, 1), (40, 5), (3, 127) }) // 200 and 200 rows of input product: torch's; 381 rows of 127 sessions: packed recurrence
        {
            var ids = randint(0, 11, [steps, batch], dtype: ScalarType.Int64);
            var (expected, expectedState) = plain.Feed(ids, plain.InitialState(batch));
            var (actual, actualState) = packed.Feed(ids, packed.InitialState(batch));
            Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-5), $"{steps} steps of {batch}");
            Assert.True(actualState.Parts[1].allclose(expectedState.Parts[1], rtol: 1e-4, atol: 1e-5), $"{steps} steps of {batch}: state");
        }
    }

    [Fact]
    public void A_model_drops_its_packed_weights_when_it_trains_or_loads_weights_and_never_packs_in_training_mode()
    {
        using var model = new StatefulLstm(vocabSize: 11, nFac: 4, nHidden: 16, layers: 2, dropout: 0.5);
        model.PrepareForGeneration(); // in training mode: its dropout acts between the layers, which packed steps skip
        Assert.False(model.PackedForGeneration);
        model.eval();
        model.PrepareForGeneration();
        Assert.True(model.PackedForGeneration);
        model.train();
        Assert.False(model.PackedForGeneration);
        model.eval();
        model.PrepareForGeneration();
        model.load_state_dict(model.state_dict());
        Assert.False(model.PackedForGeneration);
        model.PrepareForGeneration();
        model.eval(); // eval keeps them
        Assert.True(model.PackedForGeneration);

        // Weights written in place (as a checkpoint is loaded) drop them.
        model.WeightsChanged();
        Assert.False(model.PackedForGeneration);
        model.PrepareForGeneration();

        // Moved to float64 after packing: steps fall back to the unpacked recurrence, and the packed copies go.
        model.to(ScalarType.Float64);
        using var _ = no_grad();
        var state = new RecurrentState(model.InitialState(2).Parts.Select(p => p.to(ScalarType.Float64)).ToArray(), batchDim: 1);
        var (logits, _) = model.Forward(randint(0, 11, [3, 2], dtype: ScalarType.Int64), state);
        Assert.Equal(ScalarType.Float64, logits.dtype);
        Assert.False(model.PackedForGeneration);
    }
}
