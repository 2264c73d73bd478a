using System.Globalization;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// A learning-rate search as text that fits 80 columns: about 15 rows evenly spaced in log10(lr), each its rate, its
/// smoothed loss and a bar as long as the loss, so the curve reads down the page as fastai's sched.plot() reads across;
/// the rows nearest the two suggestions are marked. The bars run from the lowest loss shown to the first: the fall is
/// what is read, and a blow-up to 4 × would squeeze it into a column or two, so a loss above the first ends in ▸.
/// </summary>
internal static class LearningRatePlot
{
    public const int Rows = 15, BarWidth = 40; // 79 columns with both marks

    public static IEnumerable<string> Lines(IReadOnlyList<LearningRatePoint> points, LearningRateSuggestion? suggestion)
    {
        if (points.Count == 0) yield break;
        var shown = Enumerable.Range(0, Math.Min(Rows, points.Count))
            .Select(i => points.Count <= Rows ? i : (int)Math.Round(i * (points.Count - 1) / (double)(Rows - 1)))
            .Distinct().ToList();
        var low = shown.Min(i => points[i].SmoothedLoss);
        var top = points[shown[0]].SmoothedLoss > low ? points[shown[0]].SmoothedLoss : shown.Max(i => points[i].SmoothedLoss);
        var steepest = suggestion == null ? -1 : Nearest(points, shown, suggestion.SteepestRate);
        var lowest = suggestion == null ? -1 : Nearest(points, shown, suggestion.MinimumLossRate);
        yield return "       lr   smoothed loss (bars from the lowest to the first; ▸ is past it)";
        foreach (var i in shown)
        {
            var point = points[i];
            var bar = top > low ? 1 + (int)Math.Round(Math.Min(1, (point.SmoothedLoss - low) / (top - low)) * (BarWidth - 2)) : 1;
            var over = point.SmoothedLoss > top ? "▸" : "";
            var mark = (i == steepest, i == lowest) switch
            {
                (true, true) => " ◂ steepest, lowest",
                (true, false) => " ◂ steepest",
                (false, true) => " ◂ lowest",
                _ => "",
            };
            yield return string.Create(CultureInfo.InvariantCulture, $"  {Rate(point.Rate),7}  {point.SmoothedLoss,7:F3}  {new string('█', bar)}{over}{mark}");
        }
    }

    /// <summary>A rate in two significant figures, as charrnn train's --lr takes it (1.2e-04).</summary>
    public static string Rate(double rate) => rate.ToString("0.0e+00", CultureInfo.InvariantCulture);

    /// <summary>The shown row whose rate is nearest <paramref name="rate"/> in log10.</summary>
    private static int Nearest(IReadOnlyList<LearningRatePoint> points, List<int> shown, double rate) =>
        shown.MinBy(i => Math.Abs(Math.Log10(points[i].Rate) - Math.Log10(rate)));
}
