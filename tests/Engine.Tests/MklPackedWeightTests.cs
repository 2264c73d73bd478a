using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>MKL-packed weights for generation: the product they give, and when a model drops them.</summary>
public class MklPackedWeightTests
{
    [Fact]
    public void Products_equal_torchs_at_any_row_count_packed_or_not_and_accumulate_when_asked()
    {
        Assert.True(MklPackedWeight.Available, "this project's libtorch carries MKL's packed GEMM (libtorch_cpu.so exports cblas_sgemm_compute)");
        manual_seed(5);
        var weight = randn(96, 40);
        using var packed = MklPackedWeight.TryCreate(weight)!;
        foreach (var rows in new[] { 1, 3, 64, 127, 300 })
        {
            for (int call = 0; call < 3; call++) // each count's first products torch's, then packed
            {
                var x = randn(rows, 40);
                var output = full(rows, 96, float.NaN);
                packed.MultiplyInto(x, output, accumulate: false);
                Assert.True(output.allclose(x.mm(weight.t()), rtol: 1e-5, atol: 1e-5), $"{rows} row(s), call {call}");
                packed.MultiplyInto(x, output, accumulate: true);
                Assert.True(output.allclose(x.mm(weight.t()) * 2, rtol: 1e-5, atol: 1e-5), $"{rows} row(s), call {call}, accumulated");
            }
            Assert.Equal(rows, packed.PackedRows[0]);
        }
        weight.add_(1); // the packed weight keeps the values it was made from, packed or not
        foreach (var rows in new[] { 300, 5 })
        {
            var x = randn(rows, 40);
            var product = empty(rows, 96);
            packed.MultiplyInto(x, product, accumulate: false);
            Assert.True(product.allclose(x.mm((weight - 1).t()), rtol: 1e-5, atol: 1e-5), $"{rows} row(s) after the source changed");
        }
    }

    [Fact]
    public void A_row_count_used_often_among_the_last_products_is_packed_and_the_least_recently_used_copy_goes_first()
    {
        manual_seed(3);
        var weight = randn(32, 16);
        using var packed = MklPackedWeight.TryCreate(weight)!;
        void Multiply(params int[] rowCounts)
        {
            foreach (var rows in rowCounts)
            {
                var x = randn(rows, 16);
                var output = empty(rows, 32);
                packed.MultiplyInto(x, output, accumulate: false);
                Assert.True(output.allclose(x.mm(weight.t()), rtol: 1e-5, atol: 1e-5), $"{rows} row(s), packed {string.Join(",", packed.PackedRows)}");
            }
        }
        Assert.Equal(2, MklPackedWeight.SightingsToPack);
        Multiply(3, 3);
        Assert.Empty(packed.PackedRows);
        Multiply(3); // a generation loop's third step
        Assert.Equal([3], packed.PackedRows);
        Multiply(2, 3, 2, 3, 2); // batches that alternate (the server's 256 and the rest) are both packed
        Assert.Equal([2, 3], packed.PackedRows);
        Multiply(40); // a prime's one-off row count: torch's
        Assert.Equal([2, 3], packed.PackedRows);
        Multiply(3); // a kept copy is used at once, and is now the most recent
        Assert.Equal([3, 2], packed.PackedRows);
        Multiply(5, 5, 5);
        Assert.Equal(MklPackedWeight.MaxPacks, packed.PackedRows.Count);
        Assert.Equal([5, 3], packed.PackedRows);
        Multiply(6, 7, 6, 8, 9, 8, 10, 11); // sizes that change every product or two: torch's, no copy made
        Assert.Equal([5, 3], packed.PackedRows);

        packed.DropPacks(); // a model that waits unused frees its copies, and its memory of row counts
        Assert.Empty(packed.PackedRows);
        Multiply(6, 6);
        Assert.Empty(packed.PackedRows);
        Multiply(6);
        Assert.Equal([6], packed.PackedRows);
    }

    [Fact]
    public void Wrong_shapes_and_layouts_are_refused_with_what_was_expected()
    {
        using var packed = MklPackedWeight.TryCreate(randn(8, 4))!;
        var e = Assert.Throws<ArgumentException>(() => packed.MultiplyInto(randn(2, 5), empty(2, 8), accumulate: false));
        Assert.Contains("multiplies [rows × 4] into [rows × 8]; got [2 × 5] into [2 × 8]", e.Message);
        Assert.Throws<ArgumentException>(() => packed.MultiplyInto(randn(4, 2).t(), empty(2, 8), accumulate: false));
        Assert.Null(MklPackedWeight.TryCreate(randn(8, 4, dtype: ScalarType.Float64)));
        Assert.Null(MklPackedWeight.TryCreate(randn(8)));
        packed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => packed.MultiplyInto(randn(2, 4), empty(2, 8), accumulate: false));
    }

    [Fact]
    public void Primes_and_generation_steps_through_a_packed_model_give_what_the_unpacked_model_gives()
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
        foreach (var (prime, batch) in new[] { (1, 1), (200, 1), (40, 5), (3, 127), (2, 300) }) // 300 rows: the unpacked path
        {
            // A prime (its steps' recurrent products packed from the second), then steps one char at a time (packed throughout).
            var ids = randint(0, 11, [prime, batch], dtype: ScalarType.Int64);
            var (expected, expectedState) = plain.FeedEach(ids, plain.InitialState(batch));
            var (actual, actualState) = packed.FeedEach(ids, packed.InitialState(batch));
            for (int step = 0; step <= 4; step++)
            {
                Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-5), $"{prime} steps of {batch}, then {step}");
                Assert.True(actualState.Parts[1].allclose(expectedState.Parts[1], rtol: 1e-4, atol: 1e-5), $"{prime} steps of {batch}, then {step}: state");
                var next = randint(0, 11, [1, batch], dtype: ScalarType.Int64);
                (expected, expectedState) = plain.FeedEach(next, expectedState);
                (actual, actualState) = packed.FeedEach(next, actualState);
            }
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
