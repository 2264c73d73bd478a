using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>
/// stateful-rnn and stateful-gru with char-rnn's -num_layers and -dropout: n stacked layers with
/// dropout between them and on the output; the defaults (one layer, no dropout) are the lesson's model,
/// and a checkpoint saved before the two existed loads as that.
/// </summary>
public class StackedStatefulModelTests
{
    private const int Vocab = 13, Fac = 6, Hidden = 10;

    public static TheoryData<string> Names() => new(["stateful-rnn", "stateful-gru"]);

    private static StatefulCharModel Build(string arch, int layers, double dropout, bool layersInOneCall = false) => arch == "stateful-gru"
        ? new StatefulGru(Vocab, Fac, Hidden, layers, dropout, layersInOneCall)
        : new StatefulRnn(Vocab, Fac, Hidden, layers, dropout, layersInOneCall);

    [Theory]
    [MemberData(nameof(Names))]
    public void The_defaults_are_the_lessons_one_layer_module_with_no_dropout(string arch)
    {
        var architecture = Architectures.Get(arch);
        var defaults = architecture.Resolve();
        Assert.Equal(1, defaults.Int("layers"));
        Assert.Equal(0, defaults.Float("dropout"));
        using var model = architecture.Create(defaults, Vocab);
        Assert.Equal(["e", "rnn", "l_out"], model.named_children().Select(c => c.name));
        Assert.Equal(["e.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "l_out.weight", "l_out.bias"],
            model.state_dict().Keys);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Two_layers_train_the_loss_falls_and_the_state_is_layers_by_batch_by_hidden(string arch)
    {
        var architecture = Architectures.Get(arch);
        var hp = architecture.Resolve(new Dictionary<string, double>
        {
            ["n_fac"] = 8, ["n_hidden"] = 32, ["layers"] = 2, ["dropout"] = 0.1, ["bs"] = 8, ["bptt"] = 8, ["random_bptt"] = 0,
        });
        using var trainer = Trainer.Create(architecture, hp, Tiny.Options(epochs: 3), Tiny.Corpus(), CPU, null);
        trainer.Run();
        var (first, last) = (trainer.History[0].ValidLoss, trainer.History[^1].ValidLoss);
        Assert.True(last < 0.7 * first, $"{arch}: validation loss went from {first:F3} to {last:F3}");

        var model = (StatefulCharModel)trainer.Model;
        Assert.Equal(2, model.Layers);
        model.eval();
        using var _ = no_grad();
        var (_, state) = model.Forward(randint(0, model.VocabSize, [5, 3], dtype: ScalarType.Int64), null);
        Assert.Equal([2, 3, 32], state!.Parts[0].shape);
        var (_, stepped) = model.Step(randint(0, model.VocabSize, [4], dtype: ScalarType.Int64), model.InitialState(4));
        Assert.Equal([2, 4, 32], stepped.Parts[0].shape);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Dropout_acts_in_training_and_not_in_eval(string arch)
    {
        manual_seed(21);
        using var model = Build(arch, layers: 2, dropout: 0.5);
        var ids = randint(0, Vocab, [6, 4], dtype: ScalarType.Int64);
        var state = model.InitialState(4);
        model.eval();
        var (once, _) = model.Forward(ids, state);
        var (twice, _) = model.Forward(ids, state);
        Assert.True(once.Equals(twice), "eval: the same input twice gives the same output");
        model.train();
        var (dropped, _) = model.Forward(ids, state);
        var (droppedAgain, _) = model.Forward(ids, state);
        Assert.False(dropped.allclose(once, rtol: 0, atol: 1e-3), "training: dropout changed the output");
        Assert.False(dropped.allclose(droppedAgain, rtol: 0, atol: 1e-3), "training: each pass draws new masks");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_layer_by_layer_and_one_call_layouts_save_nn_names_and_compute_the_same(string arch)
    {
        manual_seed(22);
        using var split = Build(arch, layers: 3, dropout: 0.3);
        using var inOneCall = Build(arch, layers: 3, dropout: 0.3, layersInOneCall: true);
        Assert.Contains("rnn.1.weight_ih_l0", split.named_parameters().Select(p => p.name));
        Assert.Equal(inOneCall.state_dict().Keys.Order(), split.state_dict().Keys.Order());
        Assert.Contains("rnn.weight_hh_l2", split.state_dict().Keys);
        var (missing, unexpected) = inOneCall.load_state_dict(split.state_dict());
        Assert.Empty(missing);
        Assert.Empty(unexpected);

        split.eval();
        inOneCall.eval();
        var state = split.InitialState(3);
        state.Parts[0].normal_();
        var ids = randint(0, Vocab, [5, 3], dtype: ScalarType.Int64);
        var (expected, expectedState) = split.Forward(ids, state);
        var (actual, actualState) = inOneCall.Forward(ids, state);
        Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-5), $"logits differ by {(actual - expected).abs().max().item<float>()}");
        Assert.True(actualState!.Parts[0].allclose(expectedState!.Parts[0], rtol: 0, atol: 1e-5));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_checkpoint_saved_before_layers_and_dropout_existed_loads_and_resumes_as_one_layer_without_dropout(string arch)
    {
        using var dir = new TempFolder();
        var architecture = Architectures.Get(arch);
        var hp = architecture.Resolve(new Dictionary<string, double> { ["n_fac"] = 8, ["n_hidden"] = 16, ["bs"] = 8, ["bptt"] = 8 });
        using (var trainer = Trainer.Create(architecture, hp, Tiny.Options(maxSteps: 3), Tiny.Corpus(), CPU, dir.Path)) trainer.Run();

        // As the code before them wrote it: no layers or dropout in the hyperparameter map.
        var path = Path.Combine(dir.Path, Trainer.LastCheckpoint);
        using (var saved = CheckpointFile.Read(path))
        {
            var old = saved.Metadata.HyperParameters.Where(kv => kv.Key is not ("layers" or "dropout")).ToDictionary();
            Assert.Equal(old.Count + 2, saved.Metadata.HyperParameters.Count);
            CheckpointFile.Write(path, new Checkpoint(saved.Metadata with { HyperParameters = old }, saved.Tensors, saved.Blobs));
        }
        Assert.False(CheckpointFile.ReadMetadata(path).HyperParameters.ContainsKey("layers"));

        using (var loaded = TrainedModel.Load(path, CPU))
        {
            Assert.Equal(1, loaded.HyperParameters.Int("layers"));
            Assert.Equal(0, loaded.HyperParameters.Float("dropout"));
            Assert.Equal(1, ((StatefulCharModel)loaded.Model).Layers);
        }
        using var resumed = Trainer.Resume(path, Tiny.Corpus(), CPU, dir.Path, o => o with { MaxSteps = 5 });
        resumed.Run();
        Assert.Equal(5, resumed.Position.Step);
        Assert.Equal(1, resumed.HyperParameters.Int("layers"));
    }
}
