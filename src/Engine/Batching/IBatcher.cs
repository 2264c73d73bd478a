namespace CharRnn.Engine.Batching;

/// <summary>A source of batches that is a pure function of (epoch, index): resuming at a position
/// replays exactly the batches an uninterrupted run would have seen.</summary>
public interface IBatcher : IDisposable
{
    int BatchesPerEpoch(int epoch);
    Batch Get(int epoch, int index);
}
