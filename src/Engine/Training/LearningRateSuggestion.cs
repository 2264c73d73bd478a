namespace CharRnn.Engine.Training;

/// <summary>
/// fastai's two usual readings of a learning-rate search: the rate where the smoothed loss falls fastest (the most
/// negative gradient over steps, which are evenly spaced in log(lr)), and the rate of the lowest smoothed loss divided
/// by 10 (a rate still well before the loss turns up). As fastai's plot does, the first 10 and last 5 steps are left
/// out when enough remain: the first are still settling, the last already blowing up.
/// </summary>
public sealed record LearningRateSuggestion(double SteepestRate, double MinimumLossRate)
{
    public const int SkipStart = 10, SkipEnd = 5;

    /// <summary>The lowest loss's rate / 10.</summary>
    public double MinimumLossRateOverTen => MinimumLossRate / 10;

    /// <summary>The suggestion for <paramref name="points"/>; null for fewer than 2 points (no slope to read).</summary>
    public static LearningRateSuggestion? From(IReadOnlyList<LearningRatePoint> points)
    {
        var read = points.Count - SkipStart - SkipEnd >= 2 ? points.Skip(SkipStart).Take(points.Count - SkipStart - SkipEnd).ToList() : points.ToList();
        if (read.Count < 2) return null;
        var losses = read.Select(p => p.SmoothedLoss).ToArray();
        var slopes = Gradient(losses);
        var steepest = Array.IndexOf(slopes, slopes.Min());
        var lowest = Array.IndexOf(losses, losses.Min());
        return new LearningRateSuggestion(read[steepest].Rate, read[lowest].Rate);
    }

    /// <summary>numpy's gradient over unit steps: central differences inside, one-sided at the two ends.</summary>
    internal static double[] Gradient(IReadOnlyList<double> values)
    {
        var n = values.Count;
        var result = new double[n];
        result[0] = values[1] - values[0];
        result[n - 1] = values[n - 1] - values[n - 2];
        for (var i = 1; i < n - 1; i++) result[i] = (values[i + 1] - values[i - 1]) / 2;
        return result;
    }
}
