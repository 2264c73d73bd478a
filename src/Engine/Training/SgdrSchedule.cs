using System.Globalization;

namespace CharRnn.Engine.Training;

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
