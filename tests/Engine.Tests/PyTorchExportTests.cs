using System.Text.Json;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Export;
using CharRnn.Engine.Models;
using CharRnn.Engine.Training;
using CharRnn.Tests.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

public class PyTorchExportTests
{
    /// <summary>A tiny <paramref name="arch"/> trained 6 steps into <paramref name="dir"/>, loaded from its last.ckpt (PyTorchImportTests start from it too).</summary>
    internal static TrainedModel Trained(TempFolder dir, string arch)
    {
        var a = Architectures.Get(arch);
        using (var trainer = Trainer.Create(a, Tiny.HyperParameters(a), Tiny.Options(maxSteps: 6), Tiny.Corpus(), CPU, dir.Path))
            trainer.Run();
        return TrainedModel.Load(Path.Combine(dir.Path, Trainer.LastCheckpoint), CPU);
    }

    /// <summary>What torch.nn names the weights of bench/pytorch_reference.py's module (e, rnn, l_out) with <paramref name="layers"/> layers.</summary>
    private static IEnumerable<string> TorchNames(int layers) =>
        new[] { "e.weight", "l_out.weight", "l_out.bias" }
            .Concat(Enumerable.Range(0, layers).SelectMany(l => new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" }.Select(w => $"rnn.{w}_l{l}")));

    [Theory]
    [MemberData(nameof(ModelTests.ArchitectureNames), MemberType = typeof(ModelTests))]
    public void The_file_holds_every_weight_as_F32_under_torch_nn_names_with_the_vocabulary_and_hyperparameters(string arch)
    {
        using var dir = new TempFolder();
        using var trained = Trained(dir, arch);
        var file = Path.Combine(dir.Path, "model.safetensors");
        var export = PyTorchExport.Of(trained, "m/last.ckpt");
        export.Write(file);
        Assert.Equal(new FileInfo(file).Length, export.FileBytes); // the size a server announces before writing

        var read = SafetensorsReading.Read(file);
        var own = trained.Model.state_dict();
        // The hand-written cells' four weights go under nn.RNN/nn.GRU's layer-0 names; every other weight keeps its name.
        var cell = (trained.Model as StatefulRnnCell)?.Weights ?? (trained.Model as StatefulGruCell)?.Weights;
        if (cell != null)
        {
            foreach (var bare in new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" }) own.Remove(bare);
            (own["rnn.weight_ih_l0"], own["rnn.weight_hh_l0"], own["rnn.bias_ih_l0"], own["rnn.bias_hh_l0"]) = (cell.WeightIh, cell.WeightHh, cell.BiasIh, cell.BiasHh);
        }
        if (trained.Architecture.IsStateful)
            Assert.Equal(TorchNames(trained.HyperParameters.Values.TryGetValue("layers", out var layers) ? (int)layers : 1).Order(), read.Tensors.Keys.Order());
        Assert.Equal(own.Keys.Order(), read.Tensors.Keys.Order());
        foreach (var (name, tensor) in own)
        {
            Assert.Equal(tensor.shape, read.Tensors[name].Shape);
            Assert.Equal(tensor.data<float>().ToArray(), read.Tensors[name].Values);
        }

        var meta = read.Metadata;
        Assert.Equal(arch, meta["architecture"]);
        Assert.Equal(trained.Vocabulary.Symbols, JsonSerializer.Deserialize<string[]>(meta["vocab"]));
        Assert.Equal("\0", JsonSerializer.Deserialize<string[]>(meta["vocab"])![0]);
        Assert.Equal(trained.HyperParameters.Values, JsonSerializer.Deserialize<Dictionary<string, double>>(meta["hyperparameters"]));
        Assert.Equal(trained.Vocabulary.Lowercase ? "true" : "false", meta["lowercase"]);
        Assert.Equal(trained.Architecture.IsStateful ? arch.Contains("lstm") ? "LSTM" : arch.Contains("gru") ? "GRU" : "RNN" : "", meta["torch_module"]);
        Assert.Equal("6", meta["step"]);
        Assert.Equal("m/last.ckpt", meta["source_checkpoint"]);
        Assert.Equal("1", meta["charrnn_export_version"]);
    }

    /// <summary>
    /// The strongest check short of PyTorch itself: the exported tensors load, strictly, into the same model built
    /// from TorchSharp's nn.RNN/nn.GRU/nn.LSTM (whose state_dict keys are PyTorch's), and it computes the same logits.
    /// The hand-written cells load into the nn.RNN and nn.GRU models; the LSTM into one n-layer nn.LSTM.
    /// </summary>
    [Theory]
    [InlineData("stateful-rnn-cell", "stateful-rnn")]
    [InlineData("stateful-gru-cell", "stateful-gru")]
    [InlineData("stateful-gru", "stateful-gru")]
    [InlineData("stateful-lstm", "stateful-lstm")]
    public void A_stream_models_export_loads_strictly_into_the_torch_nn_model_and_computes_the_same_logits(string arch, string torchArch)
    {
        using var dir = new TempFolder();
        using var trained = Trained(dir, arch);
        var file = Path.Combine(dir.Path, "model.safetensors");
        PyTorchExport.Of(trained, "m/last.ckpt").Write(file);
        var read = SafetensorsReading.Read(file);

        var target = Architectures.Get(torchArch);
        using var torchModel = target.Create(target.Resolve(trained.HyperParameters.Values.Where(kv => target.Parameters.Any(p => p.Name == kv.Key)).ToDictionary()),
            trained.Vocabulary.Size, DeviceType.CUDA); // built on the CPU; CUDA's layout is one n-layer nn.LSTM, named as torch.nn names it
        var weights = read.Tensors.ToDictionary(kv => kv.Key, kv => tensor(kv.Value.Values, kv.Value.Shape));
        var (missing, unexpected) = torchModel.load_state_dict(weights, strict: true);
        Assert.Empty(missing);
        Assert.Empty(unexpected);

        torchModel.eval();
        using var _ = no_grad();
        var x = randint(1, trained.Vocabulary.Size, [9, 2], dtype: ScalarType.Int64);
        var (expected, _) = trained.Model.Forward(x, null);
        var (actual, _) = torchModel.Forward(x, null);
        Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-5), $"logits differ by {(actual - expected).abs().max().item<float>()}");
    }
}
