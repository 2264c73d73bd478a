using CharRnn.Engine.Checkpoints;

namespace CharRnn.ModelServer.TrainedModels;

/// <summary>
/// A model loaded onto the device for generation and shared by the sessions open on it.
/// When its checkpoint is replaced (a job saved a better one) it turns stale: new sessions get
/// the new checkpoint, and this one is freed when its last session closes. Device thread only.
/// </summary>
/// <param name="incarnation">Which model of this name it is (<see cref="ModelStore.Incarnation"/>).</param>
public sealed class LoadedModel(string name, TrainedModel trained, DateTime checkpointWriteTime, int incarnation)
{
    public string Name { get; } = name;
    public int Incarnation { get; } = incarnation;
    public TrainedModel Trained { get; } = trained;
    public DateTime CheckpointWriteTime { get; } = checkpointWriteTime;
    public int Sessions { get; set; }
    public bool Stale { get; set; }
}
