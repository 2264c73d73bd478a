using static TorchSharp.torch;

namespace CharRnn.Engine.Batching;

/// <summary>One training batch on the device. For the stream layout x and y are [T, bs]; otherwise [bs, n] and [bs] or [bs, n].</summary>
public readonly record struct Batch(Tensor X, Tensor Y)
{
    /// <summary>Characters predicted in this batch: the unit of chars/s.</summary>
    public long Characters => Y.numel();

    /// <summary>The rows of the state carried from the batch before that this batch's columns continue, where
    /// they are not all of them (a scoring batcher's tail continues its last stream only); null: every row.</summary>
    public (long Start, long Length)? StateRows { get; init; }
}

/// <summary>A source of batches that is a pure function of (epoch, index): resuming at a position
/// replays exactly the batches an uninterrupted run would have seen.</summary>
public interface IBatcher : IDisposable
{
    int BatchesPerEpoch(int epoch);
    Batch Get(int epoch, int index);
    /// <summary>Characters predicted per epoch.</summary>
    long CharactersPerEpoch { get; }
}
