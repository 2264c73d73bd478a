using System.Globalization;
using System.Text.Json;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using static TorchSharp.torch;

namespace CharRnn.Engine.Export;

/// <summary>
/// A trained model as PyTorch users take it: its weights under the state_dict keys of the same model written
/// with torch.nn (e.weight, rnn.weight_ih_l0, …, l_out.weight, as bench/pytorch_reference.py names its modules),
/// and the metadata that using them needs (architecture, hyperparameters, vocabulary, lower-casing).
/// The stream models load into that module: stateful-rnn, stateful-gru and stateful-lstm as they are, and the
/// hand-written cells (stateful-rnn-cell, stateful-gru-cell) too, renamed to nn.RNN's and nn.GRU's keys, since
/// they compute exactly what those compute. The windowed models (char3, loop, …) keep the engine's own names:
/// no torch.nn module of the lesson's reference has their shape.
/// </summary>
public sealed class PyTorchExport
{
    /// <summary>The version of this layout of names and metadata; raised when either changes meaning.</summary>
    public const int FormatVersion = 1;

    private PyTorchExport(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata, string? torchModule)
    {
        Tensors = tensors;
        Metadata = metadata;
        TorchModule = torchModule;
    }

    /// <summary>The weights by PyTorch name, in ordinal order of the names (the tensors are the model's own: not copies).</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>"RNN", "GRU" or "LSTM": the torch.nn recurrent module the weights load into; null for a windowed model.</summary>
    public string? TorchModule { get; }

    public static PyTorchExport Of(TrainedModel trained, string sourceCheckpoint)
    {
        var model = trained.Model;
        var torchModule = TorchModuleOf(model);
        var tensors = model.state_dict()
            .Select(kv => KeyValuePair.Create(TorchName(model, kv.Key), kv.Value))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .ToList();
        var meta = trained.Metadata;
        var vocabulary = trained.Vocabulary;
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt", // what safetensors' own PyTorch writer records
            ["charrnn_export_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["architecture"] = trained.Architecture.Name,
            ["layout"] = trained.Architecture.Layout.ToString(),
            ["torch_module"] = torchModule ?? "",
            ["hyperparameters"] = JsonSerializer.Serialize(trained.HyperParameters.Values),
            ["vocab"] = JsonSerializer.Serialize(vocabulary.Symbols),
            ["vocab_counts"] = JsonSerializer.Serialize(vocabulary.Counts),
            ["lowercase"] = vocabulary.Lowercase ? "true" : "false",
            ["padding_index"] = "0",
            ["unknown_index"] = vocabulary.HasUnknown ? "1" : "",
            ["epoch"] = meta.Position.Epoch.ToString(CultureInfo.InvariantCulture),
            ["step"] = meta.Position.Step.ToString(CultureInfo.InvariantCulture),
            ["valid_loss"] = meta.ValidationOfWeights is { } v ? v.Loss.ToString("R", CultureInfo.InvariantCulture) : "",
            ["corpus"] = meta.Corpus.Name,
            ["source_checkpoint"] = sourceCheckpoint,
        };
        return new PyTorchExport(tensors, metadata, torchModule);
    }

    /// <summary>"RNN", "GRU" or "LSTM": the torch.nn module <paramref name="model"/>'s weights load into; null for a windowed model.</summary>
    public static string? TorchModuleOf(CharModel model) => model switch
    {
        StatefulRnn or StatefulRnnCell => "RNN",
        StatefulGru or StatefulGruCell => "GRU",
        StatefulLstm => "LSTM",
        _ => null,
    };

    /// <summary>
    /// The file's name for <paramref name="model"/>'s weight <paramref name="name"/> (a state_dict key): a hand-written cell's
    /// weight_ih, … under the name nn.RNN/nn.GRU's layer 0 gives it (rnn.weight_ih_l0, …), every other as it is.
    /// PyTorchImport maps back through this too, so the two stay each other's inverse.
    /// </summary>
    public static string TorchName(CharModel model, string name) =>
        model is StatefulRnnCell or StatefulGruCell && name is "weight_ih" or "weight_hh" or "bias_ih" or "bias_hh" ? $"rnn.{name}_l0" : name;

    public void Write(string path) => SafetensorsFile.Write(path, Tensors, Metadata);

    /// <summary>The same bytes as <see cref="Write"/>, to a stream (a server sending the file over the network).</summary>
    public void WriteTo(Stream stream) => SafetensorsFile.WriteTo(stream, Tensors, Metadata);

    /// <summary>The size in bytes of the file <see cref="WriteTo"/> writes, known before writing it.</summary>
    public long FileBytes => SafetensorsFile.SizeOf(Tensors, Metadata);

    /// <summary>
    /// A checkpoint as the metadata names it: its folder's name and file name (lstm/best.ckpt), not the local path,
    /// so the same checkpoint exported anywhere (a model folder, a server's models folder) gives the same file.
    /// </summary>
    public static string SourceName(string checkpoint)
    {
        var full = Path.GetFullPath(checkpoint);
        var folder = Path.GetFileName(Path.GetDirectoryName(full));
        return string.IsNullOrEmpty(folder) ? Path.GetFileName(full) : $"{folder}/{Path.GetFileName(full)}";
    }
}
