using System.Globalization;

namespace CharRnn.Engine.Checkpoints;

/// <summary>
/// Where a model fine-tuned from another one's weights started (charrnn train --init-from, StartJobRequest.init_from): the
/// source model's name, the checkpoint file its weights came from, the epoch it stood at and the validation loss of those
/// weights when one was measured (null for an imported model, never validated here). The run itself starts fresh, at epoch 1.
/// </summary>
public sealed record InitFromRecord(string Model, string Checkpoint, int Epoch, double? ValidLoss)
{
    /// <summary>What `charrnn models NAME` and the REPL's `info` say: "started from nietzsche-lstm (best.ckpt, epoch 12)".</summary>
    public string Describe() =>
        $"started from {Model} ({Checkpoint}, epoch {Epoch}" +
        (ValidLoss is { } loss && double.IsFinite(loss) ? $", validation loss {loss.ToString("F4", CultureInfo.InvariantCulture)}" : "") + ")";
}
