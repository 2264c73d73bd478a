using System.Globalization;
using CharRnn.Engine.Models;
using CharRnn.Engine.Training;
using CharRnn.Tui.Client;

namespace CharRnn.Tui.Cli;

/// <summary>
/// The training settings a run goes by, as one line under train's and resume's header: what a recipe,
/// the architecture's defaults and the flags given came to, so a user sees which took effect. Each is
/// named as its flag is typed (`--max-steps 1`), not by the engine's field (max_steps).
/// </summary>
internal static class TrainingSettingsLine
{
    public static string Of(TrainingOptions o)
    {
        var parts = new List<string>
        {
            Flag("epochs", o.Epochs.ToString(CultureInfo.InvariantCulture)),
            Flag("optimizer", o.Optimizer),
            Flag("learning_rate", Values(o.LearningRate)),
            Flag("weight_decay", Values(o.WeightDecay)),
            Flag("schedule", o.Schedule),
        };
        if (o.Clip > 0) parts.Add(Flag("clip", HyperParameterSpec.Number(o.Clip)));
        if (o.MaxSteps > 0) parts.Add(Flag("max_steps", o.MaxSteps.ToString(CultureInfo.InvariantCulture)));
        if (o.Patience > 0) parts.Add(Flag("patience", o.Patience.ToString(CultureInfo.InvariantCulture)));
        if (o.MinDelta > 0) parts.Add(Flag("min_delta", HyperParameterSpec.Number(o.MinDelta)));
        parts.Add(TextSettings(o));
        if (o.KeepCycleCheckpoints) parts.Add(Flag("keep_cycle_checkpoints", "true"));
        return "training: " + string.Join(" · ", parts);
    }

    /// <summary>
    /// An architecture's hyperparameters as their flags are typed, in its spec's order: `--n-fac 42 --n-hidden 256 --random-bptt true`
    /// (the engine's own text, HyperParameters.ToString, is the REPL's `n_fac=42`, which the command line does not take).
    /// </summary>
    internal static string HyperParameters(HyperParameters hp) =>
        string.Join(" ", hp.Specs.Select(s => s.Flag + JobReasonText.CommandLine.Assign + s.Format(hp.Values[s.Name])));

    /// <summary>Lowercasing and the rarest character kept: `--lower true · --min-freq 3`.</summary>
    internal static string TextSettings(TrainingOptions o) =>
        Flag("lowercase", o.Lowercase ? "true" : "false") + " · " + Flag("min_freq", o.MinFrequency.ToString(CultureInfo.InvariantCulture));

    /// <summary>A setting (TrainingOptions' field) as its flag is typed with <paramref name="value"/>: `--max-steps 1`.</summary>
    internal static string Flag(string field, string value) => JobReasonText.CommandLine.Names[field] + JobReasonText.CommandLine.Assign + value;

    // As the README writes rates (1e-5, not G6's 1E-05); three values when the layer groups differ.
    internal static string Values(LayerGroupValues v) => v.IsUniform
        ? HyperParameterSpec.Number(v.Embedding)
        : string.Join(",", new[] { v.Embedding, v.Recurrent, v.Output }.Select(HyperParameterSpec.Number));
}
