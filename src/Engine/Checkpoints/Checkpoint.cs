using static TorchSharp.torch;

namespace CharRnn.Engine.Checkpoints;

/// <summary>
/// Everything one checkpoint file holds: the metadata, named CPU tensors ("model/…" weights,
/// "state/…" the carried hidden state, "rng/…" generator states) and named byte blobs
/// ("optimizer"). The holder disposes the tensors.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    public Checkpoint(CheckpointMetadata metadata, Dictionary<string, Tensor> tensors, Dictionary<string, byte[]> blobs)
    {
        Metadata = metadata;
        Tensors = tensors;
        Blobs = blobs;
    }

    public CheckpointMetadata Metadata { get; }
    public Dictionary<string, Tensor> Tensors { get; }
    public Dictionary<string, byte[]> Blobs { get; }

    public IEnumerable<KeyValuePair<string, Tensor>> WithPrefix(string prefix) =>
        Tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal));

    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}
