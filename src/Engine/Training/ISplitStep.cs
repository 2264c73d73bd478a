using CharRnn.Engine.Batching;
using CharRnn.Engine.Models;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training;

/// <summary>
/// One training batch's forward and backward, run a piece per call so that the caller (the
/// server's device loop) gets control back between pieces. Gradients add up over the pieces;
/// the trainer clips and steps the optimizer once the last piece is done.
/// </summary>
internal interface ISplitStep : IDisposable
{
    /// <summary>A piece has run: the trainer zeroes the gradients before the first one only.</summary>
    bool Started { get; }

    /// <summary>
    /// Runs the next piece of <paramref name="batch"/> (the same batch every call), starting from
    /// the carried <paramref name="hidden"/> state, and adds its loss × chars to
    /// <paramref name="lossSum"/>. True when the batch's gradient is complete.
    /// </summary>
    bool RunPiece(CharModel model, Batch batch, RecurrentState? hidden, Tensor lossSum);

    /// <summary>The state to carry into the next batch (null for windowed models), detached and out of every dispose scope.</summary>
    RecurrentState? TakeState();

    /// <summary>How a step is cut: in time for stream models (pieces cost what the whole step costs), in rows for windowed ones.</summary>
    public static ISplitStep For(DataLayout layout, int pieces) =>
        pieces > 1 && layout == DataLayout.Stream
            ? new TimeSplitStep(TimeSplitStep.SegmentsFor(pieces))
            : new RowSplitStep(Math.Max(1, pieces));
}
