using System.Globalization;

namespace CharRnn.Engine.Training;

/// <summary>
/// Schedules run one after another, each but the last for its own epochs, each counting epochs from its own
/// start: "constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2" is the
/// lesson's LSTM, whose third fit began a fresh SGDR (cycles of 1, 2, 4 … epochs again) after the second's 15.
/// </summary>
public sealed class PhasedSchedule : LearningRateSchedule
{
    /// <summary>One phase: its schedule, and how many epochs it runs (null for the last, which runs to the end).</summary>
    public sealed record Phase(LearningRateSchedule Schedule, int? Epochs);

    public PhasedSchedule(IReadOnlyList<Phase> phases)
    {
        if (phases.Count == 0) throw new ArgumentException("a phased schedule needs at least one phase.");
        if (phases.Take(phases.Count - 1).Any(p => p.Epochs is not > 0) || phases[^1].Epochs != null)
            throw new ArgumentException("every phase but the last runs for epochs > 0; the last runs to the end.");
        Phases = phases;
    }

    public IReadOnlyList<Phase> Phases { get; }

    /// <summary>The phase running at <paramref name="epochs"/> and the epoch it started at (a phase's end belongs to the next).</summary>
    private (LearningRateSchedule Schedule, int Start) PhaseAt(double epochs)
    {
        var start = 0;
        foreach (var phase in Phases)
        {
            if (phase.Epochs is not { } length || epochs < start + length) return (phase.Schedule, start);
            start += length;
        }
        throw new InvalidOperationException("unreachable: the last phase has no end");
    }

    public override double Factor(double epochs)
    {
        var (schedule, start) = PhaseAt(epochs);
        return schedule.Factor(epochs - start);
    }

    // A whole epoch that ends a phase belongs to that phase here: the epoch just completed ran in it.
    public override bool IsCycleEnd(int completedEpochs)
    {
        if (completedEpochs <= 0) return false;
        var (schedule, start) = PhaseAt(completedEpochs - 0.5);
        return schedule.IsCycleEnd(completedEpochs - start);
    }

    // Asked of the phase that ran the last epoch: at a phase's end, Factor already gives the next phase's start.
    public override double? MidCycleFactor(int completedEpochs)
    {
        if (completedEpochs <= 0) return null;
        var (schedule, start) = PhaseAt(completedEpochs - 0.5);
        return schedule.MidCycleFactor(completedEpochs - start);
    }

    /// <summary>Cycles are counted across phases, so each cycle's checkpoint (cycle-N.ckpt) has a name of its own.</summary>
    public override int CyclesEndedBy(int completedEpochs)
    {
        int cycles = 0, start = 0;
        foreach (var phase in Phases)
        {
            if (completedEpochs <= start) break;
            var ran = phase.Epochs is { } length ? Math.Min(length, completedEpochs - start) : completedEpochs - start;
            cycles += phase.Schedule.CyclesEndedBy(ran);
            start += phase.Epochs ?? 0;
        }
        return cycles;
    }

    // Each phase's ends, from its own start, among the epochs that phase runs (an epoch ending a phase is that phase's).
    internal override IEnumerable<int> WholeEpochCycleEnds(int through)
    {
        var start = 0;
        foreach (var phase in Phases)
        {
            if (start >= through) yield break;
            foreach (var end in phase.Schedule.WholeEpochCycleEnds(Math.Min(phase.Epochs ?? int.MaxValue, through - start)))
                yield return start + end;
            start += phase.Epochs ?? 0;
        }
    }

    public override double MaxFactor => Phases.Max(p => p.Schedule.MaxFactor);
    public override bool HasCycles => Phases.Any(p => p.Schedule.HasCycles);

    public override string ToString() =>
        string.Join("; ", Phases.Select(p => p.Schedule + (p.Epochs is { } n ? $",epochs={n}" : "")));

    /// <summary>
    /// Phases separated by ';', each a schedule with epochs=N among its settings ("constant,epochs=2",
    /// "sgdr:cycle_len=1,epochs=15"). One phase alone is that schedule itself, so existing specs keep their meaning.
    /// </summary>
    internal static LearningRateSchedule ParsePhases(string spec)
    {
        var texts = spec.Split(';', StringSplitOptions.TrimEntries);
        if (Array.FindIndex(texts, t => t.Length == 0) is var empty and >= 0) // a stray ';' first: it is what the other messages would stem from
            throw new ArgumentException($"schedule '{Text.Echo.Of(spec)}': phase {empty + 1} is empty; separate phases with one ';', as in {Example}.");
        var phases = new List<Phase>();
        for (var i = 0; i < texts.Length; i++)
        {
            var (text, number, last) = (texts[i], i + 1, i == texts.Length - 1);
            var (schedule, epochs) = ParsePhase(text, spec, number);
            if (last && epochs != null)
                throw new ArgumentException($"schedule '{Text.Echo.Of(spec)}': the last phase ('{Text.Echo.Of(text)}') runs until training ends, so it takes no epochs=; " +
                                            $"drop epochs={epochs}, or add a phase after it (phases: {Example}).");
            if (!last && epochs == null)
                throw new ArgumentException($"schedule '{Text.Echo.Of(spec)}': phase {number} ('{Text.Echo.Of(text)}') has no epochs=N; every phase but the last " +
                                            $"needs one, saying how many epochs it runs before the next starts (e.g. {Example}).");
            phases.Add(new Phase(schedule, epochs));
        }
        // A phase starting past the most epochs a run may have would never run (and the sum could overflow).
        if (phases.Sum(p => (long)(p.Epochs ?? 0)) is var before and >= TrainingOptions.MaxEpochs)
            throw new ArgumentException($"schedule '{Text.Echo.Of(spec)}': the phases before the last run {before} epochs in all, so the last would start " +
                                        $"only after epoch {before}; a run has at most {TrainingOptions.MaxEpochs} epochs, so they may add up to at most {TrainingOptions.MaxEpochs - 1}.");
        return phases.Count == 1 ? phases[0].Schedule : new PhasedSchedule(phases);
    }

    private const string Example = "constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2";

    /// <summary>One phase's schedule and its epochs=N, taken out of its settings wherever it stands among them.</summary>
    private static (LearningRateSchedule Schedule, int? Epochs) ParsePhase(string text, string spec, int number)
    {
        var headEnd = text.IndexOfAny([':', ',']);
        var kind = headEnd < 0 ? text : text[..headEnd].Trim();
        var settings = headEnd < 0 ? [] : text[(headEnd + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (kind.Length == 0)
            throw new ArgumentException($"schedule '{Text.Echo.Of(spec)}': phase {number} ('{Text.Echo.Of(text)}') names no kind; start it with constant, steps or sgdr.");
        int? epochs = null;
        var rest = new List<string>();
        foreach (var setting in settings)
        {
            var equals = setting.IndexOf('=');
            if (equals < 0 || !setting[..equals].Trim().Equals("epochs", StringComparison.OrdinalIgnoreCase)) { rest.Add(setting); continue; }
            var value = setting[(equals + 1)..].Trim();
            if (epochs != null)
                throw new ArgumentException($"schedule '{Text.Echo.Of(spec)}': phase {number} gives epochs= twice; give it once.");
            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > TrainingOptions.MaxEpochs)
                throw new ArgumentException($"schedule '{Text.Echo.Of(spec)}': epochs={Text.Echo.Of(value)} in phase {number} is not allowed; " +
                                            $"a phase's epochs must be a whole number from 1 to {TrainingOptions.MaxEpochs}.");
            epochs = n;
        }
        var single = kind + (rest.Count > 0 ? ":" + string.Join(",", rest) : "");
        return (ParseOne(single, $"schedule '{Text.Echo.Of(spec)}': phase {number} ('{Text.Echo.Of(text)}')"), epochs);
    }
}
