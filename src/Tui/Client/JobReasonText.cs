using System.Text.RegularExpressions;

namespace CharRnn.Tui.Client;

/// <summary>
/// A job's reason (Job.reason, an end event's; the engine's <c>TrainingOutcome.Reason</c>) in a client's words: the
/// engine and server name the settings in it as StartJobRequest.options' fields (`reached max_steps = 3`,
/// `(epochs = 10)`), the REPL as its keys are typed (`max_steps=3`, `lr=0,1e-3,1e-3`) and charrnn train and resume as
/// their flags (`--max-steps 3`, `--lr 0,1e-3,1e-3`), as <see cref="Repl.JobWarningText"/> says a job's warnings.
/// </summary>
public static partial class JobReasonText
{
    /// <summary>How one client spells TrainingOptions' fields: its name for each, and what goes between a name and its value.</summary>
    public sealed record Spelling(IReadOnlyDictionary<string, string> Names, string Assign);

    /// <summary>The REPL's train and resume keys (CommandCatalog.TrainingKeys): `max_steps=3`.</summary>
    public static readonly Spelling Repl = new(new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["epochs"] = "epochs", ["max_steps"] = "max_steps", ["learning_rate"] = "lr", ["weight_decay"] = "wd", ["clip"] = "clip", ["schedule"] = "schedule",
        ["lowercase"] = "lower", ["min_freq"] = "min_freq", ["valid_fraction"] = "val_fraction", ["seed"] = "seed",
        ["sample_chars"] = "sample_chars", ["keep_cycle_checkpoints"] = "keep_cycles", ["patience"] = "patience",
        ["min_delta"] = "min_delta", ["optimizer"] = "optimizer",
    }, "=");

    /// <summary>
    /// charrnn train's and resume's flags (TrainingFlags, TrainCommand): `--max-steps 3`. Each is its REPL key as a flag
    /// (max_steps, --max-steps; lr, --lr), so one table names both.
    /// </summary>
    public static readonly Spelling CommandLine = new(
        Repl.Names.ToDictionary(n => n.Key, n => "--" + n.Value.Replace('_', '-'), StringComparer.Ordinal), " ");

    /// <summary>`field = value` or `field = [a, b, c]`; the value stops at a space, ',', ';', ':' or ')'.
    /// A key after '× ' is the last of a product (`lr × wd = 5 × 0.5`), whose value is not its own: left as it is.</summary>
    [GeneratedRegex(@"(?<!× )\b([a-z_]+) = (\[[^\]]*\]|[^\s,;:)\]]+)", RegexOptions.CultureInvariant)]
    private static partial Regex Setting();

    /// <summary><paramref name="reason"/> in the REPL's keys.</summary>
    public static string Of(string reason) => Of(reason, Repl);

    /// <summary>
    /// <paramref name="reason"/> with each setting it names in <paramref name="spelling"/>; a field it has no name for (a
    /// later server's, time_budget_seconds, whose key and flag take a duration) stays as the server wrote it.
    /// </summary>
    public static string Of(string reason, Spelling spelling) => Setting().Replace(reason, m =>
    {
        if (!spelling.Names.TryGetValue(m.Groups[1].Value, out var name)) return m.Value;
        var value = m.Groups[2].Value;
        var stop = value.Length > 1 && value[^1] == '.' && !value.StartsWith('[') ? "." : ""; // a sentence's full stop, not the value's
        value = value[..^stop.Length];
        if (value.StartsWith('[')) value = string.Join(",", value[1..^1].Split(',', StringSplitOptions.TrimEntries));
        return name + spelling.Assign + value + stop;
    });
}
