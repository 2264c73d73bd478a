using System.Text.Json;
using CharRnn.Tests.Shared;

namespace CharRnn.Tui.Tests;

/// <summary>charrnn export: a trained model as a .safetensors file for PyTorch.</summary>
public partial class CommandLineTests
{
    [Fact]
    public void Export_writes_the_models_weights_and_vocabulary_as_safetensors_that_read_back_bit_for_bit() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        var file = Path.Combine(root, "out", "gru.safetensors"); // its folder is made
        var said = Printed(["export", "m", "--models", root, "--out", file, "--threads", "1"]); // a name in --models, resolved as generate does
        Assert.StartsWith($"Exported stateful-gru (epoch 1, validation loss ", said);
        Assert.Contains($"from {Path.Combine(folder, "best.ckpt")} to {file}: 7 tensors", said);

        var read = SafetensorsReading.Read(file);
        using (var trained = CharRnn.Engine.Checkpoints.TrainedModel.Load(Path.Combine(folder, "best.ckpt"), TorchSharp.torch.CPU))
        {
            var own = trained.Model.state_dict();
            Assert.Equal(["e.weight", "l_out.bias", "l_out.weight", "rnn.bias_hh_l0", "rnn.bias_ih_l0", "rnn.weight_hh_l0", "rnn.weight_ih_l0"], read.Tensors.Keys.Order());
            foreach (var (name, tensor) in own)
            {
                Assert.Equal(tensor.shape, read.Tensors[name].Shape);
                Assert.Equal(tensor.data<float>().ToArray(), read.Tensors[name].Values);
            }
            var meta = read.Metadata;
            Assert.Equal("stateful-gru", meta["architecture"]);
            Assert.Equal("GRU", meta["torch_module"]);
            Assert.Equal(trained.Vocabulary.Symbols, JsonSerializer.Deserialize<string[]>(meta["vocab"]));
            Assert.Equal(8, JsonDocument.Parse(meta["hyperparameters"]).RootElement.GetProperty("n_hidden").GetDouble());
            Assert.Equal("false", meta["lowercase"]);
            Assert.Equal("1", meta["epoch"]);
            Assert.Equal(trained.Metadata.ValidationOfWeights!.Loss, double.Parse(meta["valid_loss"], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal("m/best.ckpt", meta["source_checkpoint"]);
        }
        Assert.Equal(["gru.safetensors"], Directory.GetFiles(Path.GetDirectoryName(file)!).Select(Path.GetFileName)); // no temp file left

        // An existing file is kept unless --force; with it, replaced (by the last.ckpt's weights, given as a file).
        var before = File.ReadAllBytes(file);
        AssertUserError(["export", folder, "--out", file, "--threads", "1"], $"charrnn: --out '{file}' exists; give --force to replace it, or another file name.");
        Assert.Equal(before, File.ReadAllBytes(file));
        Printed(["export", Path.Combine(folder, "last.ckpt"), "--out", file, "--force", "--threads", "1"]);
        Assert.Equal("m/last.ckpt", SafetensorsReading.Read(file).Metadata["source_checkpoint"]);
    });

    [Fact]
    public void Export_through_a_symlink_writes_its_target_and_keeps_the_link_even_where_the_target_is_not_there_yet() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        Directory.CreateDirectory(Path.Combine(root, "exports"));
        var target = Path.Combine(root, "exports", "gru.safetensors");
        var link = Path.Combine(root, "latest.safetensors");
        File.CreateSymbolicLink(link, target); // dangling: as with cp, the write makes the target

        var said = Printed(["export", folder, "--out", link, "--threads", "1"]);
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.Equal("m/best.ckpt", SafetensorsReading.Read(target).Metadata["source_checkpoint"]);
        Assert.Contains($" bytes. ", said, StringComparison.Ordinal);
        Assert.Contains($"{new FileInfo(target).Length:N0} bytes.", said, StringComparison.Ordinal); // the file's size, not the link's
        Assert.Equal(["gru.safetensors"], Directory.GetFiles(Path.Combine(root, "exports")).Select(Path.GetFileName)); // no temp file left

        // The target now there: replaced with --force, through the link again.
        Printed(["export", Path.Combine(folder, "last.ckpt"), "--out", link, "--force", "--threads", "1"]);
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.Equal("m/last.ckpt", SafetensorsReading.Read(target).Metadata["source_checkpoint"]);
    });

    [Fact]
    public void Export_refuses_a_missing_model_and_an_out_that_is_a_folder_or_not_safetensors() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        AssertUserError(["export", "no-such-model", "--models", root, "--out", Path.Combine(root, "x.safetensors"), "--threads", "1"],
            $"charrnn: No model 'no-such-model': it is not a model folder or .ckpt file, nor a model in --models '{root}'");
        AssertUserError(["export", folder, "--out", root, "--threads", "1"],
            $"charrnn: --out '{root}' is a folder; give the file to write, e.g. {Path.Combine(root, "model.safetensors")}.");
        AssertUserError(["export", folder, "--out", Path.Combine(folder, "best.ckpt"), "--force", "--threads", "1"],
            $"charrnn: --out '{Path.Combine(folder, "best.ckpt")}' does not end in .safetensors; give a file name that does (the format is safetensors).");
        AssertUserError(["export", folder, "--threads", "1"], "charrnn: Option '--out' is required. (see charrnn export --help)");
        // A place that cannot take the file is said in --out's terms (exit 2), not as the temp file beside it.
        AssertUserError(["export", folder, "--out", "/etc/hostname/m.safetensors", "--threads", "1"],
            "charrnn: --out '/etc/hostname/m.safetensors' cannot be written: '/etc/hostname' is a file, not a folder; give a file in a folder you may write.");
        AssertUserError(["export", folder, "--out", "/proc/m.safetensors", "--threads", "1"],
            "charrnn: --out '/proc/m.safetensors' cannot be written in '/proc' (written as a temp file beside it, then renamed): ");
        Assert.Empty(Directory.GetFiles(root, "*.safetensors", SearchOption.AllDirectories));
    });

    /// <summary>
    /// README's comparison, as docs/cli.md promises it: examples/python/load_in_pytorch.py loads a fresh export into torch.nn
    /// (strictly) and prints the greedy text charrnn generate -t 0 prints for the same prime; a file it cannot use is
    /// refused in a line saying what is wrong (exit 2), not a Python traceback.
    /// </summary>
    [TorchPythonFact]
    public void The_pytorch_example_continues_a_prime_as_generate_does_at_temperature_0_and_refuses_a_file_it_cannot_use() => InTempFolder(root =>
    {
        var (folder, corpus) = TrainedOneEpoch(root);
        var file = Path.Combine(root, "gru.safetensors");
        Printed(["export", folder, "--out", file, "--threads", "1"]);
        foreach (var prime in new[] { "the c", "" })
        {
            var engine = Printed(["generate", folder, "-t", "0", "--prime", prime, "-n", "60", "--seed", "1", "--threads", "1"]);
            var (code, torch) = TorchPythonFactAttribute.RunScript(file, "--prime", prime, "-n", "60");
            Assert.True(code == 0, torch);
            Assert.Equal(engine.TrimEnd('\n'), torch.TrimEnd('\n'));
        }

        Assert.Equal((2, $"{Path.Combine(root, "none.safetensors")}: cannot be read: No such file or directory\n"),
            TorchPythonFactAttribute.RunScript(Path.Combine(root, "none.safetensors")));
        Assert.Equal((2, $"{corpus}: not a safetensors file (its first 8 bytes give a header longer than the file); write one with charrnn export\n"),
            TorchPythonFactAttribute.RunScript(corpus));
        var (negative, said) = TorchPythonFactAttribute.RunScript(file, "-n", "-1");
        Assert.Equal(2, negative);
        Assert.Contains("-n/--chars: -1 is not a whole number of at least 0", said);
    });

    /// <summary>
    /// README: a file the example cannot use is refused in one line, exit 2. A truncated export, one whose weights are not the model its
    /// metadata describes (another n_hidden) and a model's own .ckpt each were a Python traceback (exit 1).
    /// </summary>
    [TorchPythonFact]
    public void The_pytorch_example_refuses_a_truncated_file_a_checkpoint_and_weights_its_metadata_does_not_describe_in_one_line() => InTempFolder(root =>
    {
        var (folder, _) = TrainedOneEpoch(root);
        var file = Path.Combine(root, "gru.safetensors");
        Printed(["export", folder, "--out", file, "--threads", "1"]);
        var bytes = File.ReadAllBytes(file);
        var headerLength = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var dataBytes = bytes.Length - 8 - headerLength;

        var cut = Path.Combine(root, "cut.safetensors");
        File.WriteAllBytes(cut, bytes[..^10]);
        Assert.Equal((2, $"{cut}: truncated: its tensors need {dataBytes} bytes of data, but the file has {dataBytes - 10} after its header; export it again\n"),
            TorchPythonFactAttribute.RunScript(cut));

        var checkpoint = Path.Combine(folder, "best.ckpt");
        Assert.Equal((2, $"{checkpoint}: a charrnn checkpoint (a model's .ckpt), not a .safetensors file; write one from it with charrnn export {checkpoint} --out FILE.safetensors\n"),
            TorchPythonFactAttribute.RunScript(checkpoint));

        // The same weights under metadata that says n_hidden is one more: the header rewritten, the data as it was.
        var header = System.Text.Json.Nodes.JsonNode.Parse(bytes.AsSpan(8, headerLength))!.AsObject();
        var hp = System.Text.Json.Nodes.JsonNode.Parse((string)header["__metadata__"]!["hyperparameters"]!)!.AsObject();
        hp["n_hidden"] = (int)hp["n_hidden"]! + 1;
        header["__metadata__"]!["hyperparameters"] = hp.ToJsonString();
        var json = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        var other = Path.Combine(root, "other.safetensors");
        File.WriteAllBytes(other, [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. bytes[(8 + headerLength)..]]);
        var (code, said) = TorchPythonFactAttribute.RunScript(other);
        Assert.Equal(2, code);
        Assert.StartsWith($"{other}: its weights do not fit the stateful-gru its metadata describes (", said);
        Assert.Contains("size mismatch for rnn.weight_hh_l0", said);
        Assert.Single(said.TrimEnd('\n').Split('\n'));
    });

    /// <summary>
    /// The example's torch.nn model is the engine's for training in PyTorch too: a stacked stateful-rnn or stateful-gru has dropout between its
    /// layers (StackedStatefulModel's nn.RNN/nn.GRU dropout:, docs/cli.md's table), as an LSTM has; only the LSTM had it. One layer has none.
    /// </summary>
    [TorchPythonFact]
    public void The_pytorch_examples_model_has_the_engines_dropout_between_layers_for_every_module()
    {
        var (code, said) = TorchPythonFactAttribute.RunWithScript(
            "from load_in_pytorch import char_model\n" +
            "print([char_model(m, 10, 4, 8, 2, 0.3).rnn.dropout for m in ('RNN', 'GRU', 'LSTM')], [char_model(m, 10, 4, 8, 1, 0.3).rnn.dropout for m in ('RNN', 'GRU', 'LSTM')])");
        Assert.Equal((0, "[0.3, 0.3, 0.3] [0.0, 0.0, 0.0]\n"), (code, said));
    }

    /// <summary>
    /// A --lower model's prime is lowercased by the example as the engine lowercases it (.NET's invariant simple mapping,
    /// a character at a time), not by Python's str.lower: 'İ' stays one character (Python's gives 'i' and a combining dot),
    /// a final 'Σ' is 'σ' (Python's gives 'ς'); so the ids, and the greedy text, are the ones charrnn generate has.
    /// </summary>
    [TorchPythonFact]
    public void The_pytorch_example_lowercases_a_lower_models_prime_as_the_engine_does() => InTempFolder(root =>
    {
        var corpus = Path.Combine(root, "greek.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("ΟΔΟΣ İSTANBUL GROẞE the cat sat on the mat. Σοφία says hello. ", 40)));
        var folder = Path.Combine(root, "m");
        Assert.Equal(0, Quietly(["train", "--arch", "stateful-gru", "--corpus", corpus, "--out", folder, "--lower", "--epochs", "1", "--n-hidden", "16", "--n-fac", "4",
            "--bs", "4", "--sample-chars", "0", "--threads", "1"]));
        var file = Path.Combine(root, "lower.safetensors");
        Printed(["export", folder, "--out", file, "--threads", "1"]);
        const string prime = "ΟΔΟΣ İST GROẞE Σ";
        var engine = Printed(["generate", folder, "-t", "0", "--prime", prime, "-n", "40", "--seed", "1", "--threads", "1"]);
        Assert.StartsWith("οδοσ İst große σ", engine); // .NET's lowercase, as the model's vocabulary holds it
        var (code, torch) = TorchPythonFactAttribute.RunScript(file, "--prime", prime, "-n", "40");
        Assert.True(code == 0, torch);
        Assert.Equal(engine.TrimEnd('\n'), torch.TrimEnd('\n'));
    });
}
