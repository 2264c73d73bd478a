namespace CharRnn.Engine.Inspection;

/// <summary>A cell, the text feature its activation correlates with best (Pearson's r), and its mean and spread.</summary>
public sealed record RankedCell(int Cell, string Feature, double R, double Mean, double StandardDeviation);

/// <summary>
/// The cells of a trace that look most interesting: each cell's activation is correlated with every
/// <see cref="TextFeature"/> of the traced text, and the cells are ordered by their best |r| (a constant
/// cell or feature correlates with nothing: r 0), ties by the larger spread.
/// </summary>
public static class CellRanking
{
    public static IReadOnlyList<RankedCell> Rank(HiddenStateTrace trace, int top, IReadOnlyList<TextFeature>? features = null)
    {
        if (top < 1) throw new ArgumentOutOfRangeException(nameof(top), top, "List at least one cell.");
        var computed = (features ?? TextFeature.All).Select(f => (f.Name, Values: f.Compute(trace.Characters))).ToList();
        var ranked = new List<RankedCell>(trace.Cells);
        for (int cell = 0; cell < trace.Cells; cell++)
        {
            var activation = trace.Cell(cell).Select(a => (double)a).ToArray();
            var (mean, sd) = MeanAndDeviation(activation);
            var best = computed.Select(f => (f.Name, R: Correlation(activation, f.Values))).MaxBy(f => Math.Abs(f.R));
            ranked.Add(new RankedCell(cell, best.Name, best.R, mean, sd));
        }
        return ranked.OrderByDescending(c => Math.Abs(c.R)).ThenByDescending(c => c.StandardDeviation).ThenBy(c => c.Cell).Take(top).ToList();
    }

    /// <summary>
    /// Pearson's r; 0 where either series is constant (it says nothing about the other), constant up to float32 rounding
    /// included: a cell saturated at tanh's 1 moves by a float step (6e-8), which would otherwise correlate perfectly.
    /// </summary>
    public static double Correlation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var (mx, sx) = MeanAndDeviation(x);
        var (my, sy) = MeanAndDeviation(y);
        if (IsRounding(sx, mx) || IsRounding(sy, my)) return 0;
        double sum = 0;
        for (int i = 0; i < x.Count; i++) sum += (x[i] - mx) * (y[i] - my);
        return Math.Clamp(sum / x.Count / (sx * sy), -1, 1);
    }

    /// <summary>A spread under 1e-6 of the values' size (about eight float32 steps): what rounding makes of a constant.</summary>
    private static bool IsRounding(double deviation, double mean) => deviation < 1e-6 * Math.Max(1, Math.Abs(mean));

    /// <summary>Mean and population standard deviation.</summary>
    private static (double Mean, double Deviation) MeanAndDeviation(IReadOnlyList<double> values)
    {
        var mean = values.Average();
        return (mean, Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count));
    }
}
