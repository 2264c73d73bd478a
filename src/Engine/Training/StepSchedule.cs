using System.Globalization;

namespace CharRnn.Engine.Training;

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
