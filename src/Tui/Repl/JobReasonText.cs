using System.Text.RegularExpressions;

namespace CharRnn.Tui.Repl;

/// <summary>
/// A job's reason (Job.reason, an end event's) in the REPL's words: the server names the settings in it as
/// StartJobRequest.options' fields (`reached max_steps = 3`, `(epochs = 10)`), the REPL as its keys are typed
/// (`max_steps=3`, `epochs=10`, `lr=0,1e-3,1e-3`), as <see cref="JobWarningText"/> says a job's warnings.
/// </summary>
public static partial class JobReasonText
{
    /// <summary>TrainingOptions' fields and the REPL's train and resume keys for them (CommandCatalog.TrainingKeys).</summary>
    private static readonly Dictionary<string, string> ReplKeys = new(StringComparer.Ordinal)
    {
        ["epochs"] = "epochs", ["max_steps"] = "max_steps", ["learning_rate"] = "lr", ["weight_decay"] = "wd", ["clip"] = "clip",
        ["lowercase"] = "lower", ["min_freq"] = "min_freq", ["valid_fraction"] = "val_fraction", ["seed"] = "seed",
        ["sample_chars"] = "sample_chars", ["keep_cycle_checkpoints"] = "keep_cycles", ["patience"] = "patience",
        ["min_delta"] = "min_delta", ["optimizer"] = "optimizer",
    };

    /// <summary>`field = value` or `field = [a, b, c]`; the value stops at a space, ',', ';', ':' or ')'.</summary>
    [GeneratedRegex(@"\b([a-z_]+) = (\[[^\]]*\]|[^\s,;:)\]]+)", RegexOptions.CultureInvariant)]
    private static partial Regex Setting();

    /// <summary>
    /// <paramref name="reason"/> with each setting it names in the REPL's spelling; a field the REPL has no key for (a
    /// later server's, time_budget_seconds, whose key takes a duration) stays as the server wrote it.
    /// </summary>
    public static string Of(string reason) => Setting().Replace(reason, m =>
    {
        if (!ReplKeys.TryGetValue(m.Groups[1].Value, out var key)) return m.Value;
        var value = m.Groups[2].Value;
        var stop = value.Length > 1 && value[^1] == '.' && !value.StartsWith('[') ? "." : ""; // a sentence's full stop, not the value's
        value = value[..^stop.Length];
        if (value.StartsWith('[')) value = string.Join(",", value[1..^1].Split(',', StringSplitOptions.TrimEntries));
        return key + "=" + value + stop;
    });
}
