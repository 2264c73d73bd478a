using CharRnn.Engine.Checkpoints;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// A model checkpoint read and built off the device thread, for <see cref="ModelStore.Acquire"/>
/// to take: reading, building and packing a large model takes long enough to stall every stream
/// if the device thread did it. Whoever does not hand it on disposes it.
/// </summary>
public sealed class PreloadedModel(string path, DateTime written, TrainedModel trained) : IDisposable
{
    public string Path { get; } = path;
    public DateTime Written { get; } = written;
    public TrainedModel Trained { get; } = trained;

    public void Dispose() => Trained.Dispose();
}
