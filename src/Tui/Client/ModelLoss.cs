using CharRnn.Protos.V1;

namespace CharRnn.Tui.Client;

/// <summary>The validation loss a model list shows for a model.</summary>
public static class ModelLoss
{
    /// <summary>
    /// Its best epoch's (best.ckpt, what generation uses), else that of its last weights (a model
    /// trained only between epoch ends, by max_steps or a time budget); null when never measured.
    /// </summary>
    public static double? Of(ModelSummary m) => m.HasBestValidLoss ? m.BestValidLoss : m.HasLastValidLoss ? m.LastValidLoss : null;
}
