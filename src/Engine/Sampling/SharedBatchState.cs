using CharRnn.Engine.Models;

namespace CharRnn.Engine.Sampling;

/// <summary>
/// The new state of sessions stepped together, kept as the one batch the model returned: each
/// session points at its row. When the same sessions step together again, in the same order,
/// the batch is the next step's input as it is: no per-row views, copies or concatenation
/// (per-row tensor work cost as much as the model step itself for 64 GRU sessions). A session
/// that leaves the group takes its row out as its own state.
/// </summary>
internal sealed class SharedBatchState(RecurrentState batch)
{
    private int _holders = (int)batch.BatchSize;

    public RecurrentState Batch { get; } = batch;

    /// <summary>One session no longer points here; the last one frees the batch.</summary>
    public void Release()
    {
        if (--_holders == 0) Batch.Dispose();
    }
}
