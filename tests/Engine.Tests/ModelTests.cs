using CharRnn.Engine.Models;
using CharRnn.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

public class ModelTests
{
    public static TheoryData<string> ArchitectureNames() => new(Architectures.All.Select(a => a.Name));

    public static TheoryData<string> StatefulNames() => new(Architectures.All.Where(a => a.IsStateful).Select(a => a.Name));

    [Theory]
    [MemberData(nameof(ArchitectureNames))]
    public void Every_architecture_learns_a_repeating_pattern(string name)
    {
        var arch = Architectures.Get(name);
        using var trainer = Trainer.Create(arch, Tiny.HyperParameters(arch, bs: arch.IsStateful ? 8 : 32), Tiny.Options(epochs: 30, maxSteps: 160),
            Tiny.Corpus(), CPU, directory: null);
        var (before, _) = trainer.Validate();
        trainer.Run();
        var (after, accuracy) = trainer.Validate();
        Assert.True(after < 0.3 * before, $"{name}: validation loss went from {before:F3} to {after:F3}");
        Assert.True(accuracy > 0.7, $"{name}: accuracy {accuracy:P0}");
    }

    [Fact]
    public void The_hand_written_rnn_cell_equals_nn_RNN_given_the_same_weights()
    {
        manual_seed(1);
        using var reference = new StatefulRnn(vocabSize: 11, nFac: 5, nHidden: 7);
        using var cell = new StatefulRnnCell(vocabSize: 11, nFac: 5, nHidden: 7);
        CopyWeights(reference, cell);
        AssertSameOutputs(reference, cell);
    }

    [Fact]
    public void The_hand_written_gru_cell_equals_nn_GRU_given_the_same_weights()
    {
        manual_seed(2);
        using var reference = new StatefulGru(vocabSize: 11, nFac: 5, nHidden: 7);
        using var cell = new StatefulGruCell(vocabSize: 11, nFac: 5, nHidden: 7);
        CopyWeights(reference, cell);
        AssertSameOutputs(reference, cell);
    }

    [Fact]
    public void Identity_init_sets_the_hidden_to_hidden_weights_to_the_identity()
    {
        using var model = new SeqRnn(vocabSize: 10, nFac: 4, nHidden: 6, context: 8, identityInit: true);
        Assert.True(model.HiddenToHidden.Equals(eye(6)));
        using var plain = new SeqRnn(vocabSize: 10, nFac: 4, nHidden: 6, context: 8, identityInit: false);
        Assert.False(plain.HiddenToHidden.Equals(eye(6)));
    }

    [Theory]
    [MemberData(nameof(StatefulNames))]
    public void Carrying_the_state_across_batches_equals_one_long_forward(string name)
    {
        var arch = Architectures.Get(name);
        using var model = arch.Create(Tiny.HyperParameters(arch, hidden: 9), vocabSize: 13);
        model.eval();
        using var _ = no_grad();
        var x = randint(0, 13, [10, 3], dtype: ScalarType.Int64);
        var (whole, _) = model.Forward(x, null);
        var (first, state) = model.Forward(x.narrow(0, 0, 4), null);
        var (second, _) = model.Forward(x.narrow(0, 4, 6), state);
        Assert.True(cat([first, second], 0).allclose(whole, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void The_lstm_single_step_path_computes_what_nn_LSTM_computes()
    {
        manual_seed(3);
        using var model = new StatefulLstm(vocabSize: 13, nFac: 6, nHidden: 10, layers: 2, dropout: 0.3);
        model.eval();
        using var _ = no_grad();
        var state = model.InitialState(5);
        foreach (var part in state.Parts) part.normal_();
        var ids = randint(0, 13, [5], dtype: ScalarType.Int64);
        var (expected, expectedState) = model.Forward(ids.reshape(1, 5), state); // nn.LSTM over one time step
        var (actual, actualState) = model.Step(ids, state);
        Assert.True((expected[0] - actual).abs().max().item<float>() <= 1e-5f);
        for (int i = 0; i < 2; i++)
            Assert.True((expectedState!.Parts[i] - actualState.Parts[i]).abs().max().item<float>() <= 1e-5f);
    }

    [Fact]
    public void A_windowed_step_predicts_from_the_last_n_characters()
    {
        var arch = Architectures.Get("loop");
        using var model = (WindowedCharModel)arch.Create(Tiny.HyperParameters(arch), vocabSize: 12);
        model.eval();
        using var _ = no_grad();
        var text = tensor(new long[] { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3 });
        var state = model.InitialState(1);
        Tensor logits = null!;
        for (int i = 0; i < 10; i++) (logits, state) = model.Step(text[i].reshape(1), state);
        var (direct, _) = model.Forward(text.narrow(0, 2, 8).reshape(1, 8), null);
        Assert.True(logits.allclose(direct, atol: 1e-6));
    }

    private static void CopyWeights(nn.Module reference, nn.Module cell)
    {
        var source = reference.state_dict();
        var renamed = source.ToDictionary(kv => kv.Key.StartsWith("rnn.", StringComparison.Ordinal) ? kv.Key[4..].Replace("_l0", "", StringComparison.Ordinal) : kv.Key, kv => kv.Value);
        var (missing, unexpected) = cell.load_state_dict(renamed);
        Assert.Empty(missing);
        Assert.Empty(unexpected);
    }

    private static void AssertSameOutputs(CharModel reference, CharModel cell)
    {
        using var _ = no_grad();
        var x = randint(0, 11, [12, 4], dtype: ScalarType.Int64);
        var h0 = reference.InitialState(4);
        h0.Parts[0].normal_();
        var (expected, expectedState) = reference.Forward(x, h0);
        var (actual, actualState) = cell.Forward(x, h0);
        Assert.True((expected - actual).abs().max().item<float>() <= 1e-5f);
        Assert.True((expectedState!.Parts[0] - actualState!.Parts[0]).abs().max().item<float>() <= 1e-5f);
    }
}
