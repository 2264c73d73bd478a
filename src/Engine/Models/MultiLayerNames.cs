using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace CharRnn.Engine.Models;

/// <summary>
/// The names an n-layer nn.LSTM/GRU/RNN gives its weights, for a model that keeps its layers as
/// one-layer modules in a list: rnn.{k}.weight_ih_l0 becomes rnn.weight_ih_l{k}. Either layout
/// then saves, and (TorchSharp's load_state_dict matches against state_dict) loads, the same names.
/// </summary>
internal static partial class MultiLayerNames
{
    public static Dictionary<string, Tensor> Rename(Dictionary<string, Tensor> own, Dictionary<string, Tensor>? destination)
    {
        destination ??= new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in own)
            destination[OneLayerName().Replace(name, "rnn.$2_l$1")] = tensor;
        return destination;
    }

    [GeneratedRegex(@"rnn\.(\d+)\.(\w+)_l0$")]
    private static partial Regex OneLayerName();
}
