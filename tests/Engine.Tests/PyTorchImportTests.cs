using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Export;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>PyTorchImport and SafetensorsReader: an exported file back into a checkpoint, and every way a file can be refused.</summary>
public class PyTorchImportTests
{
    private static TrainedModel Trained(TempFolder dir, string arch) => PyTorchExportTests.Trained(dir, arch);

    /// <summary>Exported, imported into a checkpoint, written and loaded as any checkpoint is: the same weights and logits.</summary>
    [Theory]
    [MemberData(nameof(ModelTests.ArchitectureNames), MemberType = typeof(ModelTests))]
    public void An_exported_model_imports_to_a_checkpoint_with_the_same_weights_and_logits(string arch)
    {
        using var dir = new TempFolder();
        using var trained = Trained(dir, arch);
        var file = Path.Combine(dir.Path, "model.safetensors");
        PyTorchExport.Of(trained, "m/last.ckpt").Write(file);

        var now = DateTimeOffset.UtcNow;
        var checkpointPath = Path.Combine(dir.Path, "imported.ckpt");
        using (var contents = SafetensorsReader.Read(file))
        using (var checkpoint = PyTorchImport.ToCheckpoint(contents, file, now))
            CheckpointFile.Write(checkpointPath, checkpoint);
        using var imported = TrainedModel.Load(checkpointPath, CPU);

        Assert.Equal(trained.Architecture.Name, imported.Architecture.Name);
        Assert.Equal(trained.HyperParameters.Values, imported.HyperParameters.Values);
        Assert.Equal(trained.Vocabulary.Symbols, imported.Vocabulary.Symbols);
        Assert.Equal(trained.Vocabulary.Counts, imported.Vocabulary.Counts);
        var own = trained.Model.state_dict();
        var back = imported.Model.state_dict();
        Assert.Equal(own.Keys.Order(), back.Keys.Order());
        foreach (var (name, tensor) in own) Assert.Equal(tensor.data<float>().ToArray(), back[name].data<float>().ToArray());
        using (no_grad())
        {
            var shape = trained.Architecture.IsStateful ? new long[] { 9, 2 } : [4, trained.Architecture.WindowLength(trained.HyperParameters)]; // time × batch, or rows × window
            var x = randint(1, trained.Vocabulary.Size, shape, dtype: ScalarType.Int64);
            var (expected, _) = trained.Model.Forward(x, null);
            var (actual, _) = imported.Model.Forward(x, null);
            Assert.True(actual.equal(expected).all().item<bool>(), $"logits differ by {(actual - expected).abs().max().item<float>()}");
        }

        // Says where it came from; keeps the export's figures as the source's, claims no validation of its own.
        var meta = imported.Metadata;
        Assert.Equal(new ImportRecord("model.safetensors", now, "m/last.ckpt", trained.Metadata.Position.Epoch, 6,
            trained.Metadata.ValidationOfWeights?.Loss), meta.Imported);
        Assert.Equal(PyTorchImport.Reason, meta.Reason);
        Assert.Null(meta.ValidationOfWeights);
        Assert.Empty(meta.History);
        Assert.False(double.IsFinite(meta.Position.BestValidLoss));
        Assert.Equal(6, meta.Position.Step);
        Assert.Equal(trained.Model.ParameterCount, meta.ParameterCount);
    }

    [Fact]
    public void An_imported_model_is_refused_a_resume_with_why()
    {
        using var dir = new TempFolder();
        var checkpointPath = Imported(dir, "stateful-gru");
        var e = Assert.Throws<CheckpointException>(() => Trainer.Resume(checkpointPath, Tiny.Corpus(), CPU, dir.Path));
        Assert.False(e.Damaged);
        Assert.StartsWith("it was imported from 'model.safetensors', which holds the weights but not the optimizer state", e.Problem);
    }

    internal static string Imported(TempFolder dir, string arch)
    {
        using var trained = Trained(dir, arch);
        var file = Path.Combine(dir.Path, "model.safetensors");
        PyTorchExport.Of(trained, "m/last.ckpt").Write(file);
        var checkpointPath = Path.Combine(dir.Path, "imported", Trainer.LastCheckpoint);
        using var contents = SafetensorsReader.Read(file);
        using var checkpoint = PyTorchImport.ToCheckpoint(contents, file, DateTimeOffset.UtcNow);
        CheckpointFile.Write(checkpointPath, checkpoint);
        return checkpointPath;
    }

    /// <summary>A stateful-gru's export taken apart: its header entries and metadata (to change), and its data bytes.</summary>
    private sealed class Parts
    {
        public required Dictionary<string, (string DType, long[] Shape, float[] Values)> Tensors { get; init; }
        public required Dictionary<string, string> Metadata { get; init; }
        /// <summary>The metadata's vocab and vocab_counts, a fresh copy each read.</summary>
        public (string[] Vocab, long[] Counts) Vocabulary =>
            (JsonSerializer.Deserialize<string[]>(Metadata["vocab"])!, JsonSerializer.Deserialize<long[]>(Metadata["vocab_counts"])!);

        public static Parts Exported(TempFolder dir)
        {
            using var trained = Trained(dir, "stateful-gru");
            var file = Path.Combine(dir.Path, "source.safetensors");
            PyTorchExport.Of(trained, "m/last.ckpt").Write(file);
            using var contents = SafetensorsReader.Read(file);
            return new Parts
            {
                Tensors = contents.Tensors.ToDictionary(kv => kv.Key, kv => ("F32", kv.Value.shape, kv.Value.data<float>().ToArray())),
                Metadata = contents.Metadata.ToDictionary(),
            };
        }

        /// <summary>The file, written here byte by byte (not by the engine's writer), F16, BF16 and F64 values in those types.</summary>
        public string Write(TempFolder dir, string name = "bad.safetensors")
        {
            var data = new MemoryStream();
            var header = new Dictionary<string, object> { ["__metadata__"] = Metadata };
            foreach (var (tensor, (dtype, shape, values)) in Tensors)
            {
                var begin = data.Length;
                foreach (var v in values)
                {
                    switch (dtype)
                    {
                        case "F16": data.Write(BitConverter.GetBytes((Half)v)); break;
                        case "BF16": data.Write(BitConverter.GetBytes(ToBFloat16(v))); break;
                        case "F64": data.Write(BitConverter.GetBytes((double)v)); break;
                        default: data.Write(BitConverter.GetBytes(v)); break;
                    }
                }
                header[tensor] = new { dtype, shape, data_offsets = new[] { begin, data.Length } };
            }
            var path = Path.Combine(dir.Path, name);
            File.WriteAllBytes(path, Raw(JsonSerializer.Serialize(header), data.ToArray()));
            return path;
        }
    }

    /// <summary>
    /// A float's bfloat16 bits, as PyTorch's .bfloat16() rounds (to nearest, ties to even): its top 16 bits, here by hand
    /// so that the reader's conversion is checked against this, not against itself. Weights are finite: no NaN case.
    /// </summary>
    private static ushort ToBFloat16(float v)
    {
        var bits = BitConverter.SingleToUInt32Bits(v);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>What a float written as <paramref name="dtype"/> is when read back as a float: the type's rounding of it.</summary>
    private static float RoundedAs(string dtype, float v) => dtype switch
    {
        "F16" => (float)(Half)v,
        "BF16" => BitConverter.UInt32BitsToSingle((uint)ToBFloat16(v) << 16),
        _ => v, // F64 holds every float exactly
    };

    internal static byte[] Raw(string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    private static string Refusal(string path)
    {
        using var contents = SafetensorsReader.Read(path); // the reader's own refusals come out of here
        var e = Assert.Throws<InvalidDataException>(() => PyTorchImport.ToCheckpoint(contents, path, DateTimeOffset.UtcNow).Dispose());
        return e.Message;
    }

    private static string ReadRefusal(string path) => Assert.Throws<InvalidDataException>(() => SafetensorsReader.Read(path).Dispose()).Message;

    /// <summary>
    /// A model saved by PyTorch after .half(), .bfloat16() or .double(): every weight imports as float32 equal to the
    /// original within the type's precision (exactly the type's rounding of it), and the imported model generates text.
    /// </summary>
    [Theory]
    [InlineData("F16", 1.0 / 2048)]  // 11 significant bits: a relative error of at most 2^-11
    [InlineData("BF16", 1.0 / 256)]  // 8 significant bits: at most 2^-8 (2^-9 rounded to nearest)
    [InlineData("F64", 0.0)]         // holds every float: exact
    public void Weights_saved_in_another_floating_point_type_import_within_its_precision_and_generate(string dtype, double relativeError)
    {
        using var dir = new TempFolder();
        var parts = Parts.Exported(dir);
        foreach (var name in parts.Tensors.Keys.ToList())
            parts.Tensors[name] = parts.Tensors[name] with { DType = dtype };
        var file = parts.Write(dir, $"{dtype}.safetensors");
        var checkpointPath = Path.Combine(dir.Path, "imported.ckpt");
        using (var contents = SafetensorsReader.Read(file))
        using (var checkpoint = PyTorchImport.ToCheckpoint(contents, file, DateTimeOffset.UtcNow))
            CheckpointFile.Write(checkpointPath, checkpoint);
        using var imported = TrainedModel.Load(checkpointPath, CPU);

        // The model the file was exported from (Parts.Exported trained it in dir): its float32 weights are the originals.
        using var source = TrainedModel.Load(Path.Combine(dir.Path, Trainer.LastCheckpoint), CPU);
        var originals = source.Model.state_dict();
        var weights = imported.Model.state_dict();
        Assert.Equal(originals.Keys.Order(), weights.Keys.Order());
        foreach (var (name, tensor) in originals)
        {
            var (original, read) = (tensor.data<float>().ToArray(), weights[name]);
            Assert.Equal(ScalarType.Float32, read.dtype);
            var values = read.data<float>().ToArray();
            Assert.Equal(original.Select(v => RoundedAs(dtype, v)), values);
            for (var i = 0; i < values.Length; i++)
                Assert.True(Math.Abs(values[i] - original[i]) <= relativeError * Math.Abs(original[i]) + (dtype == "F16" ? 6e-8 : 0), // F16's smallest step, for subnormals
                    $"{name}[{i}] = {values[i]} read from {dtype}; saved as {original[i]}");
        }

        // It generates, as a model does; from F64, exactly the text the model it was exported from generates.
        string Greedy(TrainedModel m)
        {
            using var session = new Sampling.GenerationSession(m.Model, m.Vocabulary, Sampling.SamplingSettings.Greedy);
            session.Feed("the ");
            return string.Concat(session.Generate(40).Select(c => c.Text));
        }
        var generated = Greedy(imported);
        Assert.Equal(40, generated.Length);
        Assert.All(generated, c => Assert.Contains(c.ToString(), imported.Vocabulary.Symbols));
        if (dtype == "F64") Assert.Equal(Greedy(source), generated);
    }

    [Fact]
    public void A_truncated_file_is_refused_saying_so()
    {
        using var dir = new TempFolder();
        var file = Parts.Exported(dir).Write(dir);
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..^10]);
        Assert.Equal($"'{file}' cannot be imported: its tensors need {bytes.Length - 8 - (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes)} bytes of data, " +
                     $"but the file has {bytes.Length - 18 - (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes)} after the header (truncated).", ReadRefusal(file));
        File.WriteAllBytes(file, bytes[..5]);
        Assert.Equal($"'{file}' cannot be imported: it has 5 bytes, fewer than the 8-byte header length every safetensors file starts with (empty or truncated).", ReadRefusal(file));
        File.WriteAllBytes(file, bytes[..100]); // the header cut short
        Assert.StartsWith($"'{file}' cannot be imported: its header length is ", ReadRefusal(file));
        Assert.Contains("(truncated, or not a safetensors file;", ReadRefusal(file));
    }

    /// <summary>A model's own .ckpt given to import (a user who has one and wants a model of it): said to be a checkpoint, with what import takes instead.</summary>
    [Fact]
    public void A_charrnn_checkpoint_is_refused_as_one_saying_that_import_takes_its_export()
    {
        using var dir = new TempFolder();
        using (Trained(dir, "stateful-gru")) { }
        var file = Path.Combine(dir.Path, Trainer.LastCheckpoint);
        Assert.Equal($"'{file}' cannot be imported: it is a charrnn checkpoint (.ckpt), which is a model already, not a .safetensors file as charrnn export writes; " +
                     "give its path to generate, eval or train --init-from as it is, or import its export (charrnn export CKPT --out FILE.safetensors).", ReadRefusal(file));
    }

    [Fact]
    public void A_header_that_is_not_JSON_or_not_a_safetensors_header_is_refused()
    {
        using var dir = new TempFolder();
        var file = Path.Combine(dir.Path, "bad.safetensors");
        File.WriteAllBytes(file, Raw("{\"e.weight\": {\"dtype\": \"F32\",", []));
        Assert.StartsWith($"'{file}' cannot be imported: its header is not well-formed JSON (", ReadRefusal(file));
        File.WriteAllBytes(file, Raw("[1, 2]", []));
        Assert.Equal($"'{file}' cannot be imported: its header is a JSON array, not the object of tensors a safetensors header is.", ReadRefusal(file));
        File.WriteAllBytes(file, Raw("{\"e.weight\": {\"dtype\": \"F32\", \"shape\": [2]}}", new byte[8]));
        Assert.StartsWith($"'{file}' cannot be imported: its header entry 'e.weight' is not {{\"dtype\": \"F32\", \"shape\": [...], \"data_offsets\": [begin, end]}}", ReadRefusal(file));
        File.WriteAllBytes(file, Raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", new byte[12]));
        Assert.Equal($"'{file}' cannot be imported: tensor 'b' starts at byte 4 of the data, expected 8: the tensors' byte ranges must follow one another without gaps or overlaps.", ReadRefusal(file));
        File.WriteAllBytes(file, Raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", new byte[12]));
        Assert.Equal($"'{file}' cannot be imported: it has 4 bytes after its last tensor's data, which no header entry covers.", ReadRefusal(file));
        File.WriteAllBytes(file, Raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", new byte[8]));
        Assert.Equal($"'{file}' cannot be imported: tensor 'a' has 8 bytes (data_offsets [0, 8]); its shape [3] of F32 needs 12.", ReadRefusal(file));
        File.WriteAllBytes(file, Raw("{\"__metadata__\": {\"epoch\": 3}}", []));
        Assert.Equal($"'{file}' cannot be imported: its __metadata__ key 'epoch' holds a JSON number; safetensors metadata values are strings.", ReadRefusal(file));
    }

    [Fact]
    public void A_dtype_that_is_not_floating_point_is_refused_naming_those_read()
    {
        using var dir = new TempFolder();
        var parts = Parts.Exported(dir);
        parts.Tensors["l_out.bias"] = parts.Tensors["l_out.bias"] with { DType = "I32" }; // four bytes each, as F32
        var file = parts.Write(dir);
        Assert.Equal($"'{file}' cannot be imported: tensor 'l_out.bias' has dtype I32; the weights must be floating point: F32, F16, BF16, F64 (F16, BF16 and F64 are converted to F32).", ReadRefusal(file));
    }

    [Fact]
    public void A_missing_or_unexpected_tensor_is_refused_naming_what_the_model_needs()
    {
        using var dir = new TempFolder();
        var parts = Parts.Exported(dir);
        var hp = Architectures.Get("stateful-gru").Resolve(JsonSerializer.Deserialize<Dictionary<string, double>>(parts.Metadata["hyperparameters"]));
        var size = JsonSerializer.Deserialize<string[]>(parts.Metadata["vocab"])!.Length;
        var removed = parts.Tensors["rnn.weight_hh_l1"];
        parts.Tensors.Remove("rnn.weight_hh_l1");
        var file = parts.Write(dir);
        var needs = string.Join(", ", new[] { "e.weight", "l_out.bias", "l_out.weight" }.Concat(
            new[] { 0, 1 }.SelectMany(l => new[] { "bias_hh", "bias_ih", "weight_hh", "weight_ih" }.Select(w => $"rnn.{w}_l{l}"))).Order(StringComparer.Ordinal));
        Assert.Equal($"'{file}' cannot be imported: tensor rnn.weight_hh_l1 is missing: a stateful-gru with {hp} and a vocabulary of {size} needs {needs}.", Refusal(file));

        parts.Tensors["rnn.weight_hh_l1"] = removed;
        parts.Tensors["rnn.weight_hh_l2"] = removed;
        file = parts.Write(dir);
        Assert.Equal($"'{file}' cannot be imported: it has a tensor rnn.weight_hh_l2 that a stateful-gru with {hp} and a vocabulary of {size} does not have (it needs exactly {needs}).", Refusal(file));
    }

    [Fact]
    public void A_wrong_shape_is_refused_with_the_name_the_shape_expected_and_the_shape_found()
    {
        using var dir = new TempFolder();
        var parts = Parts.Exported(dir);
        var (dtype, shape, values) = parts.Tensors["rnn.weight_hh_l0"];
        parts.Tensors["rnn.weight_hh_l0"] = (dtype, [shape[0], shape[1] - 1], values[..(int)(shape[0] * (shape[1] - 1))]);
        var file = parts.Write(dir);
        Assert.Contains($"cannot be imported: tensor rnn.weight_hh_l0 has shape [{shape[0]}, {shape[1] - 1}]; a stateful-gru with ", Refusal(file));
        Assert.EndsWith($" expects [{shape[0]}, {shape[1]}].", Refusal(file));
    }

    [Fact]
    public void A_vocabulary_whose_size_does_not_match_the_weights_is_refused_as_such()
    {
        using var dir = new TempFolder();
        var parts = Parts.Exported(dir);
        var vocab = JsonSerializer.Deserialize<List<string>>(parts.Metadata["vocab"])!;
        var counts = JsonSerializer.Deserialize<List<long>>(parts.Metadata["vocab_counts"])!;
        vocab.Add("\u00e9");
        counts.Add(1);
        (parts.Metadata["vocab"], parts.Metadata["vocab_counts"]) = (JsonSerializer.Serialize(vocab), JsonSerializer.Serialize(counts));
        var file = parts.Write(dir);
        var n = vocab.Count;
        var nFac = parts.Tensors["e.weight"].Shape[1];
        Assert.Equal($"'{file}' cannot be imported: its vocab has {n} symbols, but tensor e.weight has shape [{n - 1}, {nFac}] (for {n - 1} symbols; expected [{n}, {nFac}]): " +
                     "the vocab metadata must be the one the weights were trained with.", Refusal(file));
    }

    [Fact]
    public void A_file_without_charrnn_exports_metadata_is_refused_naming_the_keys_and_how_to_keep_them()
    {
        using var dir = new TempFolder();
        var parts = Parts.Exported(dir);
        parts.Metadata.Clear();
        parts.Metadata["format"] = "pt"; // what safetensors.torch.save_file writes without metadata=
        var file = parts.Write(dir);
        Assert.Equal($"'{file}' cannot be imported: it was not written by charrnn export: its metadata has no charrnn_export_version (it has format). " +
                     "An import needs the metadata keys charrnn_export_version, architecture, hyperparameters, vocab, vocab_counts, lowercase, unknown_index; " +
                     "when saving from PyTorch, pass on the exported file's: safetensors.torch.save_file(state_dict, path, metadata=safe_open(exported, \"pt\").metadata()).", Refusal(file));

        parts = Parts.Exported(dir);
        parts.Metadata.Remove("vocab_counts");
        file = parts.Write(dir);
        Assert.Equal($"'{file}' cannot be imported: its metadata has no vocab_counts; an import needs charrnn_export_version, architecture, hyperparameters, vocab, vocab_counts, lowercase, unknown_index.", Refusal(file));

        parts = Parts.Exported(dir);
        parts.Metadata["architecture"] = "stateful-gur";
        file = parts.Write(dir);
        Assert.StartsWith($"'{file}' cannot be imported: its metadata 'architecture' cannot be used: Unknown architecture 'stateful-gur'. Known: ", Refusal(file));

        parts = Parts.Exported(dir);
        parts.Metadata["charrnn_export_version"] = "2";
        file = parts.Write(dir);
        Assert.Equal($"'{file}' cannot be imported: it has charrnn_export_version '2'; this build reads version 1.", Refusal(file));
    }

    /// <summary>A vocab that repeats a character names both places and the character in words (a raw tab or line feed shows as blank space), without .NET's "(Parameter 'symbols')".</summary>
    [Fact]
    public void A_vocab_that_repeats_a_character_is_refused_naming_both_indexes_and_the_character()
    {
        using var dir = new TempFolder();
        var parts = Parts.Exported(dir);
        var (vocab, _) = parts.Vocabulary;
        var n = vocab.Length;
        Assert.DoesNotContain("\t", vocab);
        vocab[n - 2] = vocab[n - 1] = "\t";
        parts.Metadata["vocab"] = JsonSerializer.Serialize(vocab);
        var file = parts.Write(dir);
        Assert.Equal($"'{file}' cannot be imported: its metadata 'vocab' cannot be used: symbols {n - 2} and {n - 1} are both tab (U+0009); each character may appear once.", Refusal(file));

        vocab[n - 2] = "ab";
        parts.Metadata["vocab"] = JsonSerializer.Serialize(vocab);
        file = parts.Write(dir);
        Assert.Equal($"'{file}' cannot be imported: its metadata 'vocab' cannot be used: Vocabulary symbol {n - 2} (\"ab\") is not exactly one character.", Refusal(file));
    }

    /// <summary>
    /// Metadata JSON of the wrong kind names the key at fault and what it must be, where the JSON goes wrong, in the file's terms:
    /// vocab_counts of fractions were blamed on 'vocab', and every such refusal spoke .NET ('could not be converted to System.Int64').
    /// </summary>
    [Fact]
    public void Metadata_json_of_the_wrong_kind_is_refused_naming_its_key_and_what_it_must_be()
    {
        using var dir = new TempFolder();
        var parts = Parts.Exported(dir);
        var (vocab, counts) = parts.Vocabulary;
        string RefusalWith(string key, string value)
        {
            var saved = parts.Metadata[key];
            parts.Metadata[key] = value;
            try { return Refusal(parts.Write(dir)); }
            finally { parts.Metadata[key] = saved; }
        }
        var file = Path.Combine(dir.Path, "bad.safetensors");
        Assert.Equal($"'{file}' cannot be imported: its metadata 'vocab_counts' cannot be used: it must be a JSON array of whole numbers, one count per vocab symbol; the JSON at $[0] does not fit that.",
            RefusalWith("vocab_counts", JsonSerializer.Serialize(counts.Select(c => c + 0.5))));
        Assert.Equal($"'{file}' cannot be imported: its metadata 'vocab' cannot be used: it must be a JSON array of one-character strings, the vocabulary in index order; the JSON at $[0] does not fit that.",
            RefusalWith("vocab", JsonSerializer.Serialize(new object[] { 0 }.Concat(vocab.Skip(1)))));
        Assert.Equal($"'{file}' cannot be imported: its metadata 'hyperparameters' cannot be used: it must be a JSON object of numbers by name (e.g. {{\"n_hidden\": 256}}); the JSON at $.n_hidden does not fit that.",
            RefusalWith("hyperparameters", "{\"n_hidden\": \"24\"}"));
        Assert.Equal($"'{file}' cannot be imported: its metadata 'hyperparameters' cannot be used: it must be a JSON object of numbers by name (e.g. {{\"n_hidden\": 256}}); the JSON at $ does not fit that.",
            RefusalWith("hyperparameters", "null"));
        Assert.StartsWith($"'{file}' cannot be imported: its metadata 'vocab' cannot be used: it is not well-formed JSON (",
            RefusalWith("vocab", "not json"));
        Assert.EndsWith($"); it must be a JSON array of one-character strings, the vocabulary in index order.", RefusalWith("vocab", "not json"));
        Assert.Equal($"'{file}' cannot be imported: its metadata 'lowercase' cannot be used: it is 'yes', expected \"true\" or \"false\".",
            RefusalWith("lowercase", "yes"));
        Assert.DoesNotContain("System.", RefusalWith("vocab_counts", "[1.5]"));
    }

    [Fact]
    public void Weights_that_are_not_finite_are_refused()
    {
        using var dir = new TempFolder();
        var parts = Parts.Exported(dir);
        parts.Tensors["l_out.bias"].Values[0] = float.NaN;
        var file = parts.Write(dir);
        Assert.Equal($"'{file}' cannot be imported: tensor l_out.bias holds NaN or infinite values; the weights must be finite.", Refusal(file));
    }

    [Fact]
    public void A_shape_whose_byte_count_overflows_is_refused_not_allocated()
    {
        using var dir = new TempFolder();
        var file = Path.Combine(dir.Path, "bad.safetensors");
        // 2^62 floats are 2^64 bytes: a byte count that wraps to 0, matching data_offsets [0, 0].
        File.WriteAllBytes(file, Raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904], \"data_offsets\": [0, 0]}}", []));
        Assert.Equal($"'{file}' cannot be imported: tensor 'a' has shape [4611686018427387904], too large to hold.", ReadRefusal(file));
        File.WriteAllBytes(file, Raw("{\"a\": {\"dtype\": \"F64\", \"shape\": [2305843009213693952, 2], \"data_offsets\": [0, 0]}}", []));
        Assert.Equal($"'{file}' cannot be imported: tensor 'a' has shape [2305843009213693952, 2], too large to hold.", ReadRefusal(file));
    }

    [Fact]
    public void A_header_with_text_that_is_not_UTF_8_or_a_lone_surrogate_is_refused()
    {
        using var dir = new TempFolder();
        var file = Path.Combine(dir.Path, "bad.safetensors");
        var header = Encoding.UTF8.GetBytes("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}");
        header[2] = 0xFF; // the tensor's name: a byte no UTF-8 text has
        var bytes = new byte[8 + header.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(file, bytes);
        Assert.StartsWith($"'{file}' cannot be imported: its header is not well-formed JSON (", ReadRefusal(file));
        File.WriteAllBytes(file, Raw("{\"__metadata__\": {\"corpus\": \"\\ud800\"}}", []));
        Assert.StartsWith($"'{file}' cannot be imported: its header is not well-formed JSON (", ReadRefusal(file));
        File.WriteAllBytes(file, Raw("{\"\\udc00\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", new byte[4]));
        Assert.StartsWith($"'{file}' cannot be imported: its header is not well-formed JSON (", ReadRefusal(file));
    }

    [Fact]
    public void A_name_given_twice_in_the_header_is_refused()
    {
        using var dir = new TempFolder();
        var file = Path.Combine(dir.Path, "bad.safetensors");
        File.WriteAllBytes(file, Raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", new byte[8]));
        Assert.Equal($"'{file}' cannot be imported: its header names tensor 'a' twice; each name may appear once.", ReadRefusal(file));
        File.WriteAllBytes(file, Raw("{\"__metadata__\": {\"vocab\": \"[]\"}, \"__metadata__\": {}}", []));
        Assert.Equal($"'{file}' cannot be imported: its header has __metadata__ twice; it may appear once.", ReadRefusal(file));
        File.WriteAllBytes(file, Raw("{\"__metadata__\": {\"vocab\": \"[]\", \"vocab\": \"[]\"}}", []));
        Assert.Equal($"'{file}' cannot be imported: its __metadata__ has key 'vocab' twice; each key may appear once.", ReadRefusal(file));
    }

    /// <summary>
    /// Metadata describing a model far larger than the file's weights (n_hidden 1024, 2 layers: over 9 million parameters, from a
    /// file of a few thousand) is refused before that model is built: an untrusted file must not make the importer allocate
    /// far more than its own size.
    /// </summary>
    [Fact]
    public void Metadata_describing_a_model_far_larger_than_the_files_weights_is_refused_before_building_it()
    {
        using var dir = new TempFolder();
        var parts = Parts.Exported(dir);
        var hp = JsonSerializer.Deserialize<Dictionary<string, double>>(parts.Metadata["hyperparameters"])!;
        hp["n_hidden"] = 1024;
        parts.Metadata["hyperparameters"] = JsonSerializer.Serialize(hp);
        var file = parts.Write(dir);
        var held = parts.Tensors.Values.Sum(t => (long)t.Values.Length);
        var architecture = Architectures.Get("stateful-gru");
        var size = JsonSerializer.Deserialize<string[]>(parts.Metadata["vocab"])!.Length;
        var described = $"a stateful-gru with {architecture.Resolve(hp)} and a vocabulary of {size}";
        var needed = TrainingFootprint.Parameters(architecture, architecture.Resolve(hp), size);
        Assert.InRange(needed, 9e6, 10e6); // layer 0: 3·1024·(8+1024+2), layer 1: 3·1024·(1024+1024+2), and the output layer
        Assert.Equal($"'{file}' cannot be imported: its metadata describes {described} of about {needed:N0} parameters, but the file holds {held:N0} weights: " +
                     "the metadata must be the one the weights were exported with.", Refusal(file));
    }

    [Fact]
    public void Export_figures_out_of_range_are_refused()
    {
        using var dir = new TempFolder();
        var exported = Parts.Exported(dir);
        // A loss is a cross-entropy: never below 0.
        foreach (var (key, value) in new[] { ("epoch", "-1"), ("step", "-5"), ("epoch", "x"), ("valid_loss", "NaN"), ("valid_loss", "-Infinity"), ("valid_loss", "1e999"), ("valid_loss", "-0.5") })
        {
            var parts = new Parts { Tensors = exported.Tensors, Metadata = new(exported.Metadata) { [key] = value } };
            var file = parts.Write(dir);
            Assert.Equal($"'{file}' cannot be imported: its metadata '{key}' cannot be used: '{value}' is not {(key == "valid_loss" ? "a finite number of 0 or more" : "a whole number of 0 or more")}.", Refusal(file));
        }
    }

    /// <summary>
    /// vocab_counts are how often the training text had each symbol: none is negative, the padding symbol (never text) has 0,
    /// and together they are at most a text's length (an Int64). A file that says otherwise is refused, naming the count;
    /// before, a negative count imported and made the unigram prior's log NaN, and counts whose sum overflows made every
    /// generation from the model fail with an OverflowException.
    /// </summary>
    [Fact]
    public void Vocabulary_counts_no_text_has_are_refused_naming_the_count()
    {
        using var dir = new TempFolder();
        var exported = Parts.Exported(dir);
        var (vocab, counts) = exported.Vocabulary;
        Assert.Equal(0, counts[0]); // what an export writes for padding
        string RefusedWith(Action<long[]> change)
        {
            var edited = (long[])counts.Clone();
            change(edited);
            var parts = new Parts { Tensors = exported.Tensors, Metadata = new(exported.Metadata) { ["vocab_counts"] = JsonSerializer.Serialize(edited) } };
            return Refusal(parts.Write(dir));
        }
        var file = Path.Combine(dir.Path, "bad.safetensors");
        var prefix = $"'{file}' cannot be imported: its metadata 'vocab_counts' cannot be used: ";

        const string TextSymbols = "a count is how often the training text had the symbol, and every symbol but the padding symbol (index 0) " +
                                   "and the unknown symbol (index 1, when unknown_index is 1) is a character of that text, so 1 or more.";
        Assert.Equal(prefix + $"the count of symbol 2 ({Vocabulary.Describe(Rune.GetRuneAt(vocab[2], 0))}) is -1; " + TextSymbols,
            RefusedWith(c => c[2] = -1));
        Assert.Equal(prefix + $"the count of symbol {vocab.Length - 1} ({Vocabulary.Describe(Rune.GetRuneAt(vocab[^1], 0))}) is {long.MinValue}; " + TextSymbols,
            RefusedWith(c => c[^1] = long.MinValue));
        // A count of 0 made a fresh session's unigram prior -inf for the symbol: feeding it first scored an infinite loss.
        Assert.Equal(prefix + $"the count of symbol 2 ({Vocabulary.Describe(Rune.GetRuneAt(vocab[2], 0))}) is 0; " + TextSymbols,
            RefusedWith(c => c[2] = 0));
        Assert.Equal("", exported.Metadata["unknown_index"]); // so symbol 1 is a character of the text too
        Assert.Equal(prefix + $"the count of symbol 1 ({Vocabulary.Describe(Rune.GetRuneAt(vocab[1], 0))}) is 0; " + TextSymbols,
            RefusedWith(c => c[1] = 0));
        Assert.Equal(prefix + "the padding symbol (index 0) has count 7; it stands for no text and is never counted, so its count is 0.",
            RefusedWith(c => c[0] = 7));
        Assert.Equal(prefix + $"the counts add up to more than {long.MaxValue:N0}, more characters than any training text has.",
            RefusedWith(c => (c[2], c[3]) = (long.MaxValue, long.MaxValue)));
    }

    /// <summary>
    /// The unknown symbol counts the training text's rare characters, so a min_freq model whose text had none has it at 0:
    /// such a file imports (its count is not refused as a character's 0 is), and a negative one is still refused.
    /// </summary>
    [Fact]
    public void An_unknown_symbol_counted_0_imports_and_a_negative_one_is_refused()
    {
        using var dir = new TempFolder();
        var exported = Parts.Exported(dir);
        var (vocab, counts) = exported.Vocabulary;
        Assert.DoesNotContain(Vocabulary.Unknown, vocab);
        vocab[1] = Vocabulary.Unknown; // the same size, so the tensors still fit
        Parts WithUnknownCounted(long count)
        {
            counts[1] = count;
            return new Parts { Tensors = exported.Tensors, Metadata = new(exported.Metadata)
            {
                ["vocab"] = JsonSerializer.Serialize(vocab), ["unknown_index"] = "1", ["vocab_counts"] = JsonSerializer.Serialize(counts),
            } };
        }

        var file = WithUnknownCounted(0).Write(dir);
        using (var contents = SafetensorsReader.Read(file))
        using (var checkpoint = PyTorchImport.ToCheckpoint(contents, file, DateTimeOffset.UtcNow))
        {
            Assert.True(checkpoint.Metadata.Vocabulary.HasUnknown);
            Assert.Equal(0, checkpoint.Metadata.Vocabulary.Counts[1]);
        }
        Assert.Equal($"'{file}' cannot be imported: its metadata 'vocab_counts' cannot be used: the count of symbol 1 ({Vocabulary.Describe(Rune.GetRuneAt(Vocabulary.Unknown, 0))}) is -1; " +
                     "a count is how often the training text had the symbol, 0 or more.", Refusal(WithUnknownCounted(-1).Write(dir)));
    }

    /// <summary>
    /// Each tensor read is a torch tensor of a few hundred bytes however small its data: a header of 200,000 empty tensors
    /// (11 MB) took 330 MB to read. An engine model has at most 35 tensors; a file of more is refused before any is made.
    /// </summary>
    [Fact]
    public void A_header_of_more_tensors_than_the_reader_takes_is_refused_before_reading_them()
    {
        using var dir = new TempFolder();
        var file = Path.Combine(dir.Path, "bad.safetensors");
        var entries = Enumerable.Range(0, SafetensorsReader.MaxTensors + 1).Select(i => $"\"t{i}\": {{\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [0, 0]}}");
        File.WriteAllBytes(file, Raw("{" + string.Join(", ", entries) + "}", []));
        Assert.Equal($"'{file}' cannot be imported: its header has more than {SafetensorsReader.MaxTensors:N0} tensors; " +
                     "an engine model has at most 35 (a stateful RNN, GRU or LSTM of 8 layers), and no more are read.", ReadRefusal(file));
    }

    /// <summary>
    /// Keys the engine does not read must agree with what it builds from the others: a padding_index other than 0, a layout
    /// or torch_module not the architecture's, and lowercase true over a vocab with an uppercase letter were imported with
    /// the key ignored (a PyTorch user reading it would run another model than the engine). Each is refused naming the key,
    /// the value found and what is allowed; the same file with the key as the export writes it (or left out) imports.
    /// </summary>
    [Fact]
    public void Metadata_that_contradicts_the_architecture_or_vocab_is_refused_naming_the_key_the_value_and_what_is_allowed()
    {
        using var dir = new TempFolder();
        var exported = Parts.Exported(dir); // a stateful-gru, its vocab all lowercase
        Assert.Equal(("0", "Stream", "GRU", "false"), (exported.Metadata["padding_index"], exported.Metadata["layout"], exported.Metadata["torch_module"], exported.Metadata["lowercase"]));
        string? RefusalWith(params (string Key, string? Value)[] changes)
        {
            var metadata = new Dictionary<string, string>(exported.Metadata);
            foreach (var (key, value) in changes)
                if (value is null) metadata.Remove(key);
                else metadata[key] = value;
            var file = new Parts { Tensors = exported.Tensors, Metadata = metadata }.Write(dir);
            using var contents = SafetensorsReader.Read(file);
            try { PyTorchImport.ToCheckpoint(contents, file, DateTimeOffset.UtcNow).Dispose(); return null; }
            catch (InvalidDataException e) { return e.Message; }
        }
        var prefix = $"'{Path.Combine(dir.Path, "bad.safetensors")}' cannot be imported: its metadata ";
        const string OrTheArchitecture = " (or the architecture must be the one the weights were exported with).";

        Assert.Equal(prefix + "'padding_index' is '1'; the padding symbol is always index 0 (vocab[0], \"\\u0000\"), so padding_index must be 0.",
            RefusalWith(("padding_index", "1")));
        Assert.Equal(prefix + "'padding_index' is ''; the padding symbol is always index 0 (vocab[0], \"\\u0000\"), so padding_index must be 0.",
            RefusalWith(("padding_index", "")));
        Assert.Equal(prefix + "'layout' is 'NextCharWindows', but architecture stateful-gru has the Stream layout; layout must be Stream" + OrTheArchitecture,
            RefusalWith(("layout", "NextCharWindows")));
        Assert.Equal(prefix + "'torch_module' is 'LSTM', but it must be GRU: stateful-gru loads into nn.GRU" + OrTheArchitecture,
            RefusalWith(("torch_module", "LSTM")));
        Assert.Equal(prefix + "'torch_module' is '', but it must be GRU: stateful-gru loads into nn.GRU" + OrTheArchitecture,
            RefusalWith(("torch_module", "")));

        // A vocab with an uppercase letter (the 't' of "the cat" as 'T'): lowercase true is refused, false imports.
        var (vocab, _) = exported.Vocabulary;
        vocab[Array.IndexOf(vocab, "t")] = "T";
        var upper = ("vocab", (string?)JsonSerializer.Serialize(vocab));
        Assert.Equal(prefix + "'lowercase' is 'true', but its vocab has 'T' (U+0054), which a lowercased text never has (and a lowercased prime never reaches); " +
                     "lowercase must be 'false' for this vocab, or the vocab must be the one the weights were trained with.",
            RefusalWith(upper, ("lowercase", "true")));
        Assert.Null(RefusalWith(upper));
        Assert.Null(RefusalWith(("lowercase", "true"))); // its own lowercase vocab
        Assert.Null(RefusalWith(("padding_index", null), ("layout", null), ("torch_module", null))); // keys the engine does not need
        Assert.Null(RefusalWith());
    }

    /// <summary>A windowed model's export (no torch.nn module) is refused a torch_module, and its own empty one imports.</summary>
    [Fact]
    public void A_windowed_models_torch_module_must_be_empty()
    {
        using var dir = new TempFolder();
        using var trained = Trained(dir, "char3");
        var file = Path.Combine(dir.Path, "char3.safetensors");
        var export = PyTorchExport.Of(trained, "m/last.ckpt");
        Assert.Equal(("", "NextCharWindows"), (export.Metadata["torch_module"], export.Metadata["layout"]));
        var edited = new Dictionary<string, string>(export.Metadata) { ["torch_module"] = "RNN" };
        SafetensorsFile.Write(file, export.Tensors, edited);
        Assert.Equal($"'{file}' cannot be imported: its metadata 'torch_module' is 'RNN', but it must be empty: char3 is a windowed model, which no torch.nn module loads " +
                     "(or the architecture must be the one the weights were exported with).", Refusal(file));
    }
}
