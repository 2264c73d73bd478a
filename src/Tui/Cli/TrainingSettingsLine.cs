using CharRnn.Engine.Models;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// The training settings a run goes by, as one line under train's and resume's header: what a recipe,
/// the architecture's defaults and the flags given came to, so a user sees which took effect.
/// </summary>
internal static class TrainingSettingsLine
{
    public static string Of(TrainingOptions o)
    {
        var parts = new List<string>
        {
            $"{o.Epochs} epoch{(o.Epochs == 1 ? "" : "s")}",
            $"{o.Optimizer} lr {Values(o.LearningRate)} wd {Values(o.WeightDecay)}",
            $"schedule {o.Schedule}",
        };
        if (o.Clip > 0) parts.Add($"clip {HyperParameterSpec.Number(o.Clip)}");
        if (o.MaxSteps > 0) parts.Add($"max_steps {o.MaxSteps}");
        if (o.Patience > 0) parts.Add($"patience {o.Patience}");
        if (o.MinDelta > 0) parts.Add($"min_delta {HyperParameterSpec.Number(o.MinDelta)}");
        parts.Add($"lower {(o.Lowercase ? "true" : "false")}");
        parts.Add($"min_freq {o.MinFrequency}");
        if (o.KeepCycleCheckpoints) parts.Add("keep_cycles true");
        return "training: " + string.Join(" · ", parts);
    }

    // As the README writes rates (1e-5, not G6's 1E-05); three values when the layer groups differ.
    internal static string Values(LayerGroupValues v) => v.IsUniform
        ? HyperParameterSpec.Number(v.Embedding)
        : string.Join(",", new[] { v.Embedding, v.Recurrent, v.Output }.Select(HyperParameterSpec.Number));
}
