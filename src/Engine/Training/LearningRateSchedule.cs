using System.Globalization;

namespace CharRnn.Engine.Training;

/// <summary>
/// A learning-rate multiplier as a function of training progress in (fractional) epochs.
/// Stateless, so resuming at a position gives exactly the rate of an uninterrupted run.
/// Forms: "constant"; "steps:3=0.1,6=0.01" (from epoch 3 multiply by 0.1, from 6 by 0.01: the
/// lesson's set_lrs); "sgdr:cycle_len=1,cycle_mult=2" (cosine annealing with warm restarts); and phases of
/// these run one after another, "constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2"
/// (the lesson's LSTM: each phase counts its epochs from its own start, so the third SGDR starts afresh).
/// </summary>
public abstract class LearningRateSchedule
{
    public abstract double Factor(double epochs);

    /// <summary>True when a cycle ends exactly at this whole epoch (checkpoints are saved there).</summary>
    public virtual bool IsCycleEnd(int completedEpochs) => false;

    /// <summary>The largest factor the rate is multiplied by at any point (the schedule's peak).</summary>
    public virtual double MaxFactor => 1;

    /// <summary>True when the rate restarts in cycles whose ends can be kept (SGDR, or phases with an SGDR among them).</summary>
    public virtual bool HasCycles => false;

    /// <summary>How many cycles have ended once <paramref name="completedEpochs"/> are done (those ending between epochs too).</summary>
    public virtual int CyclesEndedBy(int completedEpochs) => 0;

    /// <summary>
    /// Where a run that stops after <paramref name="completedEpochs"/> leaves a cycle unfinished, the factor its
    /// last epoch ended at (not yet annealed); null at a cycle's end, or where that epoch ran without cycles.
    /// </summary>
    public virtual double? MidCycleFactor(int completedEpochs) => null;

    /// <summary>
    /// The whole epochs after which a cycle ends, up to the first at or past <paramref name="epochs"/> (none without
    /// cycles): a run told to stop between two of them stops mid-cycle, its rate not yet annealed.
    /// </summary>
    public IReadOnlyList<int> CycleEndsThrough(int epochs)
    {
        var ends = new List<int>();
        foreach (var e in WholeEpochCycleEnds(TrainingOptions.MaxEpochs))
        {
            ends.Add(e);
            if (e >= epochs) break;
        }
        return ends;
    }

    /// <summary>
    /// The whole epochs from 1 to <paramref name="through"/> at which <see cref="IsCycleEnd"/> holds, in order, found in
    /// one walk through the cycles: asking IsCycleEnd of each epoch walked them all again each time, and
    /// sgdr:cycle_len=0.01,cycle_mult=1.00001 has hundreds of thousands of cycles.
    /// </summary>
    internal virtual IEnumerable<int> WholeEpochCycleEnds(int through) => [];

    /// <summary>The text form, which <see cref="Parse"/> reads back.</summary>
    public abstract override string ToString();

    // Read leniently, and said so: the kind in any case, spaces around the whole ignored, sgdr's settings defaulting to 1.
    public const string Help = "constant | steps:EPOCH=FACTOR,... (from EPOCH completed epochs on, the rate is multiplied by FACTOR; " +
                               "e.g. steps:3=0.1,6=0.01) | sgdr:cycle_len=N,cycle_mult=M (e.g. sgdr:cycle_len=1,cycle_mult=2; " +
                               "either left out is 1); or phases run one after another, separated by ';', each but the last ending " +
                               "after its epochs=N and counting epochs from its own start (e.g. constant,epochs=2; " +
                               "sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2); " +
                               "the kind (constant, steps, sgdr) in any case, its settings after ':' or ',', spaces around the whole ignored";

    public static LearningRateSchedule Parse(string? text)
    {
        var spec = (text ?? "constant").Trim();
        return spec.Contains(';') || spec.Contains("epochs", StringComparison.OrdinalIgnoreCase)
            ? PhasedSchedule.ParsePhases(spec)
            : ParseOne(spec, $"schedule '{Text.Echo.Of(spec)}'");
    }

    /// <summary>
    /// One schedule with no phases; <paramref name="label"/> starts its messages: what the user wrote, and within
    /// phases which phase ("schedule '…': phase 2 ('steps:')").
    /// </summary>
    internal static LearningRateSchedule ParseOne(string spec, string label)
    {
        var colon = spec.IndexOfAny([':', ',']); // "sgdr,cycle_len=2" as "sgdr:cycle_len=2", as a phase reads it
        var typedKind = colon < 0 ? spec : spec[..colon];
        var args = colon < 0 ? "" : spec[(colon + 1)..];
        return typedKind.ToLowerInvariant() switch
        {
            "constant" or "" when args.Length == 0 => new ConstantSchedule(),
            "constant" => throw new ArgumentException($"{label}: constant takes no settings (but, {PhaseEpochs}), and was given '{Text.Echo.Of(args)}'." +
                                                      $"{EpochsSuggestion(args)} Use {Help}."),
            "steps" => StepSchedule.ParseArgs(args, label),
            "sgdr" => SgdrSchedule.ParseArgs(args, label),
            _ => throw new ArgumentException($"{label} is not known{KindSuggestion(typedKind)}; use {Help}."),
        };
    }

    /// <summary>What a phase takes beside its kind's own settings, said where a message lists what a kind takes.</summary>
    protected const string PhaseEpochs = "in a phase followed by another, epochs=N";

    private static readonly string[] Kinds = ["constant", "steps", "sgdr"];

    // "step:4=0.1" is the lesson's set_lrs a letter off: name the kind it probably was (nothing when none is close).
    private static string KindSuggestion(string kind) =>
        Text.ClosestName.To(kind, Kinds) is { } known ? $" ('{Text.Echo.Of(kind)}' is not a kind of schedule: did you mean '{known}'?)" : "";

    /// <summary>" Did you mean 'epochs'?" where the first setting of <paramref name="settings"/> is a slip of a phase's epochs=N.</summary>
    protected static string EpochsSuggestion(string settings)
    {
        var name = settings.Split([',', '='])[0].Trim();
        return Text.ClosestName.To(name, ["epochs"]) is { } known ? $" Did you mean '{known}'?" : "";
    }

    protected static double Number(string text, string label)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new ArgumentException($"{label}: '{Text.Echo.Of(text)}' is not a number; use {Help}.");
        return v;
    }
}
