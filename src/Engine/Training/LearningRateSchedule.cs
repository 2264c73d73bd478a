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

public sealed class ConstantSchedule : LearningRateSchedule
{
    public override double Factor(double epochs) => 1.0;
    public override string ToString() => "constant";
}

/// <summary>Piecewise-constant multipliers, switched at whole epochs.</summary>
public sealed class StepSchedule(IReadOnlyList<(int Epoch, double Factor)> steps) : LearningRateSchedule
{
    public IReadOnlyList<(int Epoch, double Factor)> Steps { get; } = steps.OrderBy(s => s.Epoch).ToList();

    public override double Factor(double epochs)
    {
        double factor = 1.0;
        foreach (var (epoch, f) in Steps)
            if (epochs >= epoch) factor = f;
        return factor;
    }

    public override double MaxFactor => Math.Max(1, Steps.Max(s => s.Factor)); // 1 before its first step, unless that is at epoch 0
    public override string ToString() =>
        "steps:" + string.Join(",", Steps.Select(s => $"{s.Epoch}={s.Factor.ToString("G6", CultureInfo.InvariantCulture)}"));

    internal static StepSchedule ParseArgs(string args, string label)
    {
        var steps = new List<(int, double)>();
        foreach (var part in args.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=');
            if (kv.Length != 2 || !int.TryParse(kv[0], out var epoch) || epoch < 0)
                throw new ArgumentException(EpochsSuggestion(part) is { Length: > 0 } epochs
                    ? $"{label}: '{Text.Echo.Of(part)}' should be EPOCH=FACTOR with a whole epoch ≥ 0 (and, {PhaseEpochs}).{epochs} Use {Help}."
                    : $"{label}: '{Text.Echo.Of(part)}' should be EPOCH=FACTOR with a whole epoch ≥ 0; use {Help}.");
            var factor = Number(kv[1], label);
            if (factor <= 0 || factor > 1000)
                throw new ArgumentException($"{label}: factor {factor} must be greater than 0 and at most 1000.");
            steps.Add((epoch, factor));
        }
        if (steps.Count == 0) throw new ArgumentException($"{label} lists no steps; use {Help}.");
        return new StepSchedule(steps);
    }
}

/// <summary>
/// SGDR (Loshchilov &amp; Hutter): within each cycle the rate follows half a cosine from the full
/// rate down to zero, then restarts. Cycle k lasts cycle_len · cycle_mult^k epochs, so with
/// cycle_len=1, cycle_mult=2 cycles end after epochs 1, 3, 7, 15, 31, 63 (the lesson's 63).
/// TorchSharp has no CosineAnnealingWarmRestarts; this is it, as a pure function of progress.
/// </summary>
public sealed class SgdrSchedule : LearningRateSchedule
{
    public SgdrSchedule(double cycleLength, double cycleMult)
    {
        if (!(cycleLength >= MinCycleLength && cycleLength <= 10000)) throw new ArgumentException($"sgdr cycle_len = {cycleLength} must be from {MinCycleLength} to 10000 epochs.");
        if (cycleMult < 1 || cycleMult > 100) throw new ArgumentException($"sgdr cycle_mult = {cycleMult} must be from 1 to 100.");
        CycleLength = cycleLength;
        CycleMult = cycleMult;
    }

    /// <summary>A hundredth of an epoch: shorter cycles restart within a few batches of each other.</summary>
    public const double MinCycleLength = 0.01;

    public double CycleLength { get; }
    public double CycleMult { get; }
    public override bool HasCycles => true;

    public override double? MidCycleFactor(int completedEpochs) =>
        completedEpochs <= 0 || IsCycleEnd(completedEpochs) ? null : Factor(completedEpochs);

    public override double Factor(double epochs)
    {
        var (_, start, length) = CycleAt(epochs);
        var t = (epochs - start) / length;
        return 0.5 * (1 + Math.Cos(Math.PI * t));
    }

    public override bool IsCycleEnd(int completedEpochs)
    {
        // The sum's rounding grows with the cycles added (100,000 of 0.1 epochs stray ~1e-7); cycles are at least
        // 0.01 epochs, so a millionth cannot take one end for another.
        const double tolerance = 1e-6;
        if (completedEpochs <= 0) return false;
        if (CycleMult == 1) // by division: summing 10 million cycles would stray past any tolerance
            return Math.Abs(Math.Round(completedEpochs / CycleLength) * CycleLength - completedEpochs) < tolerance;
        double end = 0, length = CycleLength;
        while (end + tolerance < completedEpochs) { end += length; length *= CycleMult; }
        return Math.Abs(end - completedEpochs) < tolerance;
    }

    internal override IEnumerable<int> WholeEpochCycleEnds(int through)
    {
        if (CycleMult == 1) // IsCycleEnd divides: no walk
        {
            for (var e = 1; e <= through; e++)
                if (IsCycleEnd(e)) yield return e;
            yield break;
        }
        const double tolerance = 1e-6; // as IsCycleEnd's, whose sums these are, added in the same order
        double end = 0, length = CycleLength;
        while (true)
        {
            end += length;
            length *= CycleMult;
            if (end > through + tolerance) yield break;
            var whole = Math.Round(end);
            if (whole >= 1 && Math.Abs(end - whole) < tolerance) yield return (int)whole;
        }
    }

    public override int CyclesEndedBy(int completedEpochs)
    {
        const double tolerance = 1e-6; // as IsCycleEnd's
        if (CycleMult == 1) return (int)Math.Floor((completedEpochs + tolerance) / CycleLength);
        double end = CycleLength, length = CycleLength * CycleMult;
        var cycles = 0;
        while (end <= completedEpochs + tolerance) { cycles++; end += length; length *= CycleMult; }
        return cycles;
    }

    /// <summary>Epochs needed to finish <paramref name="cycles"/> whole cycles.</summary>
    public double EpochsForCycles(int cycles)
    {
        double total = 0, length = CycleLength;
        for (int i = 0; i < cycles; i++) { total += length; length *= CycleMult; }
        return total;
    }

    private (int Cycle, double Start, double Length) CycleAt(double epochs)
    {
        if (CycleMult == 1)
        {
            var whole = (int)Math.Floor((epochs + 1e-12) / CycleLength); // equal cycles: no walk through them
            return (whole, whole * CycleLength, CycleLength);
        }
        double start = 0, length = CycleLength;
        int cycle = 0;
        while (epochs >= start + length - 1e-12) { start += length; length *= CycleMult; cycle++; }
        return (cycle, start, length);
    }

    public override string ToString() =>
        $"sgdr:cycle_len={CycleLength.ToString("G6", CultureInfo.InvariantCulture)},cycle_mult={CycleMult.ToString("G6", CultureInfo.InvariantCulture)}";

    internal static SgdrSchedule ParseArgs(string args, string label)
    {
        double cycleLength = 1, cycleMult = 1;
        foreach (var part in args.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=');
            if (kv.Length != 2) throw new ArgumentException($"{label}: '{Text.Echo.Of(part)}' should be name=value; use {Help}.");
            switch (kv[0].Trim())
            {
                case "cycle_len": cycleLength = Number(kv[1], label); break;
                case "cycle_mult": cycleMult = Number(kv[1], label); break;
                default:
                    throw new ArgumentException($"{label}: '{Text.Echo.Of(kv[0])}' is not an sgdr setting; use cycle_len and cycle_mult (and, {PhaseEpochs})." +
                                                Text.ClosestName.Suggestion(kv[0].Trim(), ["cycle_len", "cycle_mult", "epochs"]));
            }
        }
        try { return new SgdrSchedule(cycleLength, cycleMult); }
        catch (ArgumentException e) { throw new ArgumentException($"{label}: {e.Message}"); } // say which schedule, and which phase
    }
}
