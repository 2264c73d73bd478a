using System.Globalization;

namespace CharRnn.Engine.Sampling;

/// <summary>
/// How the next character is drawn from the model's distribution. Temperature 0 is greedy
/// (argmax); top-k keeps the k most likely chars (0: all); top-p keeps the smallest set whose
/// probability reaches p (1: all); min-p keeps the chars at least min_p times as likely as the
/// most likely one (0: all; Nguyen et al. 2024), which at a high temperature cuts the flattened
/// tail that top-p keeps. All three apply to the distribution at the temperature, in HF
/// transformers' order (top-k, top-p, min-p): a char is drawn only if it passes every one, and
/// top-p measures its set in what top-k left, renormalised, as HF's warpers do. The seed makes a
/// session's draws reproducible.
/// </summary>
public sealed record SamplingSettings(double Temperature = 1.0, int TopK = 0, double TopP = 1.0, ulong Seed = 0, double MinP = 0)
{
    public const double MaxTemperature = 10;

    /// <summary>A seed for a session that asked for none: nine digits, short enough to read off and type back to replay.</summary>
    public static ulong DrawSeed() => (ulong)Random.Shared.NextInt64(1_000_000_000);

    public static SamplingSettings Greedy { get; } = new(Temperature: 0);

    public bool IsGreedy => Temperature == 0;

    public SamplingSettings Validate()
    {
        if (!double.IsFinite(Temperature) || Temperature < 0 || Temperature > MaxTemperature)
            throw new ArgumentException($"temperature = {Temperature.ToString(CultureInfo.InvariantCulture)} is not allowed; use 0 (greedy) up to {MaxTemperature}.");
        if (TopK < 0)
            throw new ArgumentException($"top_k = {TopK} is not allowed; use 0 (off) or a positive number of characters.");
        if (!double.IsFinite(TopP) || TopP <= 0 || TopP > 1)
            throw new ArgumentException($"top_p = {TopP.ToString(CultureInfo.InvariantCulture)} is not allowed; use a number greater than 0 and at most 1 (1: off).");
        if (!double.IsFinite(MinP) || MinP < 0 || MinP >= 1)
            throw new ArgumentException($"min_p = {MinP.ToString(CultureInfo.InvariantCulture)} is not allowed; use a number from 0 (off) up to, not including, 1.");
        return this;
    }
}
