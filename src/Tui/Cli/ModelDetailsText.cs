using System.Globalization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Tui.Client;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn models NAME: one model as the REPL's `info` shows it, read from its checkpoint's metadata (the command-line
/// verbs run on the engine, not through the client that `info` reads), with its whole epoch history rather than the
/// last few epochs, and the checkpoints in its folder. Its settings are named as the command line types them
/// (`--n-hidden 8`, `--min-freq 1`, as train's heading and settings line), where `info` writes the REPL's keys.
/// </summary>
public static class ModelDetailsText
{
    public static IEnumerable<string> Lines(ModelListing m, IReadOnlyList<StoredCheckpoint> checkpoints)
    {
        var meta = m.Metadata ?? throw ModelsCommand.Unreadable(m);
        yield return $"{m.Name} · {meta.Architecture} · {meta.ParameterCount:N0} parameters · corpus {meta.Corpus.Name}{(meta.Vocabulary.Lowercase ? " (lowercased)" : "")}";
        var specs = Architectures.All.FirstOrDefault(a => a.Name == meta.Architecture)?.Parameters;
        yield return "  hyperparameters: " + string.Join(" · ", meta.HyperParameters.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h =>
            Flag(h.Key, specs?.FirstOrDefault(s => s.Name == h.Key) is { } spec ? spec.Format(h.Value) : SpecText.Real(h.Value))));
        yield return "  training: " + string.Join(" · ", Training(meta));
        var best = double.IsFinite(meta.Position.BestValidLoss) ? $"best {Loss(meta.Position.BestValidLoss)}" : "not validated yet";
        var last = meta.ValidationOfWeights is { } weights && double.IsFinite(weights.Loss) ? $" · last {Loss(weights.Loss)}" : "";
        yield return $"  validation loss (nats/char): {best}{last}; generation uses {Path.GetFileName(m.CheckpointPath)}";
        if (meta.InitFrom is { } from) yield return $"  {from.Describe()}";
        if (meta.Imported is { } imported)
            yield return $"  imported from {imported.File} at {imported.At.LocalDateTime:yyyy-MM-dd HH:mm}; not validated here (charrnn eval scores it)";
        if (m.Warning != null) yield return $"  warning: {m.Warning}";
        // Counted as listed: the padding symbol is in the size but not in the list, as `info` counts them.
        yield return $"  vocabulary: {meta.Vocabulary.Symbols.Length - 1} characters + padding: {VisibleText.Vocabulary(string.Concat(meta.Vocabulary.Symbols))}";
        if (meta.History.Count > 0)
        {
            yield return EpochTable.Header;
            foreach (var e in meta.History)
                yield return EpochTable.Row(e.Epoch, e.Step, e.TrainLoss, e.ValidLoss, e.ValidAccuracy, e.LearningRate, e.ElapsedSeconds);
            if (meta.History.LastOrDefault(e => !string.IsNullOrEmpty(e.Sample)) is { } sampled)
                yield return $"  sample after epoch {sampled.Epoch}: {sampled.Sample!.Replace("\n", " ", StringComparison.Ordinal)}";
        }
        if (checkpoints.Count == 0) yield break;
        yield return $"  checkpoints in {m.Folder}:";
        foreach (var c in checkpoints)
            yield return $"  {c.File,-16} {ModelsCommand.Size(c.Bytes),8}  " + (c.Metadata is { } saved
                ? $"epoch {saved.Position.Epoch}, step {saved.Position.Step:N0}" +
                  (saved.ValidationOfWeights is { } v && double.IsFinite(v.Loss) ? $", val {Loss(v.Loss)}" : "") +
                  (saved.Reason.Length > 0 ? $" ({saved.Reason})" : "")
                : $"cannot be read: {c.Error}");
    }

    /// <summary>The options it was trained with, as `info` lists them (as flags): those a run sets, and the ones that are off left out.</summary>
    private static List<string> Training(CheckpointMetadata meta)
    {
        var o = meta.Training;
        var options = new List<string> { TrainedSoFarText.Of(meta.Position.Epoch, meta.Position.Step, meta.History.Count > 0 ? (meta.History[^1].Epoch, meta.History[^1].Step) : null), TrainingSettingsLine.Flag("optimizer", o.Optimizer), TrainingSettingsLine.Flag("learning_rate", Groups(o.LearningRate)) };
        if (o.Schedule.Length > 0) options.Add(TrainingSettingsLine.Flag("schedule", o.Schedule));
        if (!o.WeightDecay.IsUniform || o.WeightDecay.Embedding != 0) options.Add(TrainingSettingsLine.Flag("weight_decay", Groups(o.WeightDecay)));
        if (o.Clip > 0) options.Add(TrainingSettingsLine.Flag("clip", SpecText.Real(o.Clip)));
        if (o.Patience > 0) options.Add(TrainingSettingsLine.Flag("patience", o.Patience.ToString(CultureInfo.InvariantCulture)));
        if (o.MinDelta > 0) options.Add(TrainingSettingsLine.Flag("min_delta", SpecText.Real(o.MinDelta)));
        options.Add(TrainingSettingsLine.Flag("min_freq", o.MinFrequency.ToString(CultureInfo.InvariantCulture)));
        options.Add(TrainingSettingsLine.Flag("valid_fraction", SpecText.Real(o.ValidFraction)));
        return options;
    }

    /// <summary>A hyperparameter as its flag is typed (`--n-hidden 8`), as train's heading names it; one the build does not know too.</summary>
    private static string Flag(string name, string value) => HyperParameterSpec.FlagOf(name) + JobReasonText.CommandLine.Assign + value;

    /// <summary>One value, or the three layer groups' (embedding,recurrent,output) when they differ, as the server sends them to `info`.</summary>
    private static string Groups(Engine.Training.LayerGroupValues v) =>
        v.IsUniform ? SpecText.Real(v.Embedding) : string.Join(",", new[] { v.Embedding, v.Recurrent, v.Output }.Select(SpecText.Real));

    private static string Loss(double loss) => loss.ToString("F4", CultureInfo.InvariantCulture);
}
