namespace CharRnn.Engine.Sampling;

/// <summary>
/// The model gave no usable next-character scores (all NaN or −∞): its weights have diverged.
/// Not a bug in the caller's request but in the model's state, so a server answers FAILED_PRECONDITION.
/// </summary>
public sealed class ModelDivergedException() : InvalidOperationException(
    "The model gave no usable next-character scores (all NaN or −∞): its weights have diverged. " +
    "Retrain it, or resume from an earlier checkpoint with a lower learning rate.");
