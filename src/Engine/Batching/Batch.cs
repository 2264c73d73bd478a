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
