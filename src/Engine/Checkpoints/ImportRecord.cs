namespace CharRnn.Engine.Checkpoints;

/// <summary>
/// A model made by charrnn import from <paramref name="File"/> (its name, not its folder) at <paramref name="At"/>. What the
/// export recorded of the model it came from is kept here as that model's, not as this one's: the weights may have been
/// changed in PyTorch since (fine-tuned, pruned, averaged), so <paramref name="ExportedValidLoss"/> is the source model's
/// validation loss when it was exported, never a validation of these weights.
/// </summary>
public sealed record ImportRecord(string File, DateTimeOffset At, string? SourceCheckpoint, int? ExportedEpoch, long? ExportedStep, double? ExportedValidLoss)
{
    /// <summary>Why a resume is refused: the file has the weights, not what training goes on from.</summary>
    public string WhyNotResumable =>
        $"it was imported from '{File}', which holds the weights but not the optimizer state, training options or corpus fingerprint a resume continues from; " +
        "generate from it or evaluate it, or train a new model";
}
