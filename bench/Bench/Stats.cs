using System.Globalization;

namespace CharRnn.Bench;

/// <summary>Repeated measurements of one figure: the median is the headline, min/max the spread.</summary>
public sealed class Stats(IEnumerable<double> values)
{
    public IReadOnlyList<double> Values { get; } = values.Where(double.IsFinite).Order().ToList();

    public double Median => Values.Count == 0 ? double.NaN
        : Values.Count % 2 == 1 ? Values[Values.Count / 2] : (Values[Values.Count / 2 - 1] + Values[Values.Count / 2]) / 2;
    public double Min => Values.Count == 0 ? double.NaN : Values[0];
    public double Max => Values.Count == 0 ? double.NaN : Values[^1];

    /// <summary>The value at quantile q (0..1) by nearest rank.</summary>
    public double Quantile(double q) => Values.Count == 0 ? double.NaN : Values[Math.Clamp((int)Math.Ceiling(q * Values.Count) - 1, 0, Values.Count - 1)];

    public string Format(string unit = "", int decimals = 0) =>
        Values.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture,
            $"{N(Median, decimals)}{unit} ({N(Min, decimals)}–{N(Max, decimals)}, n={Values.Count})");

    public static string N(double v, int decimals = 0) => double.IsFinite(v) ? v.ToString("N" + decimals, CultureInfo.InvariantCulture) : "-";
}
