using CharRnn.Engine.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>
/// On the CPU the LSTM runs its layers as one-layer nn.LSTMs with its own dropout between them,
/// on CUDA as one n-layer nn.LSTM; either must be the lesson's n-layer LSTM, saved under
/// nn.LSTM's names, and a checkpoint of one must load into the other.
/// </summary>
public class StatefulLstmTests
{
    private const int Vocab = 13, Fac = 6, Hidden = 10;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Weights_keep_nn_LSTM_multi_layer_names_in_either_layout(bool layersInOneCall)
    {
        using var model = new StatefulLstm(Vocab, Fac, Hidden, layers: 2, dropout: 0.3, layersInOneCall);
        string[] expected =
        [
            "e.weight",
            "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
            "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1",
            "l_out.weight", "l_out.bias",
        ];
        Assert.Equal(expected.Order(), model.state_dict().Keys.Order());
        Assert.Equal([Hidden * 4, Hidden], model.state_dict()["rnn.weight_ih_l1"].shape);
        Assert.Equal(model.parameters().Count(), model.state_dict().Count);
    }

    [Fact]
    public void With_gradients_on_it_computes_what_a_two_layer_nn_LSTM_with_its_weights_computes()
    {
        manual_seed(11);
        using var model = new StatefulLstm(Vocab, Fac, Hidden, layers: 2, dropout: 0.3);
        model.eval(); // no dropout; gradients stay on, so the layers run as nn.LSTM modules
        using var reference = nn.LSTM(Fac, Hidden, 2);
        var weights = model.state_dict();
        var (missing, unexpected) = reference.load_state_dict(weights.Where(kv => kv.Key.StartsWith("rnn.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[4..], kv => kv.Value));
        Assert.Empty(missing);
        Assert.Empty(unexpected);

        var state = model.InitialState(3);
        foreach (var part in state.Parts) part.normal_();
        var ids = randint(0, Vocab, [5, 3], dtype: ScalarType.Int64);
        var (logits, after) = model.Forward(ids, state);

        var embedded = Embed(ids, weights["e.weight"]);
        var (output, h, c) = reference.forward(embedded, (state.Parts[0], state.Parts[1]));
        var expected = nn.functional.linear(output, weights["l_out.weight"], weights["l_out.bias"]);
        Assert.True(logits.allclose(expected, rtol: 0, atol: 1e-5), $"logits differ by {(logits - expected).abs().max().item<float>()}");
        Assert.True(after!.Parts[0].allclose(h, rtol: 0, atol: 1e-5));
        Assert.True(after.Parts[1].allclose(c, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Training_drops_between_the_layers_and_on_the_output_with_seeded_masks()
    {
        const double p = 0.4;
        manual_seed(12);
        using var model = new StatefulLstm(Vocab, Fac, Hidden, layers: 2, dropout: p);
        model.train();
        var weights = model.state_dict();
        var state = model.InitialState(4);
        var ids = randint(0, Vocab, [6, 4], dtype: ScalarType.Int64);

        manual_seed(99);
        var (logits, _) = model.Forward(ids, state);

        // The same step by hand, drawing the same masks from the same seeds (one from libtorch's generator per mask).
        static Tensor Drop(Tensor x) => x.mul(KeepMask.Draw(x, p, (ulong)randint(0, long.MaxValue, [1], ScalarType.Int64).item<long>()));
        Tensor Layer(Tensor x, int layer)
        {
            var gates = nn.functional.linear(x, weights[$"rnn.weight_ih_l{layer}"], weights[$"rnn.bias_ih_l{layer}"]);
            var h = zeros(x.shape[1], Hidden);
            var c = zeros(x.shape[1], Hidden);
            var outputs = new List<Tensor>();
            for (long t = 0; t < x.shape[0]; t++)
            {
                var g = (gates[t] + nn.functional.linear(h, weights[$"rnn.weight_hh_l{layer}"], weights[$"rnn.bias_hh_l{layer}"])).chunk(4, -1);
                c = sigmoid(g[1]) * c + sigmoid(g[0]) * tanh(g[2]);
                h = sigmoid(g[3]) * tanh(c);
                outputs.Add(h);
            }
            return stack(outputs);
        }
        manual_seed(99);
        var first = Layer(Embed(ids, weights["e.weight"]), 0);
        var second = Layer(Drop(first), 1);
        var expected = nn.functional.linear(Drop(second), weights["l_out.weight"], weights["l_out.bias"]);

        Assert.True(logits.allclose(expected, rtol: 0, atol: 1e-5), $"logits differ by {(logits - expected).abs().max().item<float>()}");
        model.eval();
        var (undropped, _) = model.Forward(ids, state);
        Assert.False(logits.allclose(undropped, rtol: 0, atol: 1e-3)); // the masks did drop something
    }

    [Fact]
    public void The_two_layouts_load_each_others_weights_and_compute_the_same()
    {
        manual_seed(13);
        using var split = new StatefulLstm(Vocab, Fac, Hidden, layers: 2, dropout: 0.3);
        using var inOneCall = new StatefulLstm(Vocab, Fac, Hidden, layers: 2, dropout: 0.3, layersInOneCall: true);
        using (no_grad())
            foreach (var (name, target) in inOneCall.state_dict()) target.copy_(split.state_dict()[name]);
        split.eval();
        inOneCall.eval();
        var state = split.InitialState(3);
        foreach (var part in state.Parts) part.normal_();
        var ids = randint(0, Vocab, [5, 3], dtype: ScalarType.Int64);

        var (expected, _) = split.Forward(ids, state);
        var (actual, _) = inOneCall.Forward(ids, state); // gradients on: nn.LSTM's two layers in one call
        Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-5), $"logits differ by {(actual - expected).abs().max().item<float>()}");
        using (no_grad())
        {
            var (stepped, _) = inOneCall.Step(ids[0], state); // gradients off: computed here from the same weights
            Assert.True(stepped.allclose(expected[0], rtol: 0, atol: 1e-5));
        }
    }

    [Fact]
    public void Load_state_dict_takes_the_names_state_dict_gives_in_either_layout()
    {
        manual_seed(14);
        using var inOneCall = new StatefulLstm(Vocab, Fac, Hidden, layers: 2, dropout: 0.3, layersInOneCall: true);
        using var split = new StatefulLstm(Vocab, Fac, Hidden, layers: 2, dropout: 0.3);
        var (missing, unexpected) = split.load_state_dict(inOneCall.state_dict());
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        foreach (var (name, tensor) in inOneCall.state_dict())
            Assert.True(split.state_dict()[name].Equals(tensor), $"{name} was not loaded");
        (missing, unexpected) = inOneCall.load_state_dict(split.state_dict());
        Assert.Empty(missing);
        Assert.Empty(unexpected);
    }

    [Fact]
    public void The_architecture_lays_the_LSTM_out_for_the_device_it_is_built_for()
    {
        var architecture = Architectures.Get("stateful-lstm");
        var hyperParameters = Tiny.HyperParameters(architecture);
        using var forCpu = architecture.Create(hyperParameters, Vocab);
        using var forCuda = architecture.Create(hyperParameters, Vocab, DeviceType.CUDA);
        Assert.Contains("rnn.1.weight_ih_l0", forCpu.named_parameters().Select(p => p.name));
        Assert.Contains("rnn.weight_ih_l1", forCuda.named_parameters().Select(p => p.name));
        Assert.Equal(forCpu.state_dict().Keys.Order(), forCuda.state_dict().Keys.Order());
    }

    private static Tensor Embed(Tensor ids, Tensor table) => table.index_select(0, ids.flatten()).reshape(ids.shape[0], ids.shape[1], -1);
}
