namespace CharRnn.Engine.Sampling;

/// <summary>
/// Draws the next character id from one row of logits, on the host, in double precision.
/// Working per row keeps a session's draws independent of which other sessions share its
/// batched model step: the same logits and seed give the same char, whatever the batch (the
/// logits themselves can differ in their last bits with the batch's width).
/// </summary>
public static class CharSampler
{
    /// <summary>
    /// The drawn id alone: it needs no temperature-1 pass when the temperature is another, which
    /// halves the work per session per char; <see cref="Probability"/> gives that char's
    /// probability when someone asks for it. Every seeded draw is that of Softmax and a cumulative draw.
    /// </summary>
    public static int SampleId(ReadOnlySpan<float> logits, SamplingSettings settings, ref SplitMix64 rng)
    {
        if (settings.IsGreedy) return ArgMax(logits);
        // Runs per session per char (64 rows a step when batched): no heap allocation on the usual path.
        Span<double> p = logits.Length <= 1024 ? stackalloc double[logits.Length] : new double[logits.Length];
        var sum = Exponentials(logits, Max(logits), settings.Temperature, p);
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        if (settings.TopK > 0 || settings.TopP < 1 || settings.MinP > 0) Truncate(p, settings.TopK, settings.TopP, settings.MinP);
        return Draw(p, rng.NextDouble());
    }

    /// <summary>The model's own (temperature 1) probability for <paramref name="id"/>: softmax's value, bit for bit.</summary>
    public static float Probability(ReadOnlySpan<float> logits, int id)
    {
        if (float.IsNegativeInfinity(logits[id])) return 0;
        Span<double> p = logits.Length <= 1024 ? stackalloc double[logits.Length] : new double[logits.Length];
        var sum = Exponentials(logits, Max(logits), 1.0, p);
        return (float)(p[id] / sum);
    }

    /// <summary>The <paramref name="count"/> most likely ids with their probabilities, most likely first.</summary>
    public static (int Id, float Probability)[] Top(ReadOnlySpan<float> logits, int count)
    {
        var p = Softmax(logits, 1.0);
        return Enumerable.Range(0, p.Length)
            .Where(i => p[i] > 0)
            .OrderByDescending(i => p[i]).ThenBy(i => i)
            .Take(count)
            .Select(i => (i, (float)p[i]))
            .ToArray();
    }

    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = -1;
        for (int i = 0; i < logits.Length; i++)
            if (!float.IsNaN(logits[i]) && !float.IsNegativeInfinity(logits[i]) && (best < 0 || logits[i] > logits[best])) best = i;
        return best >= 0 ? best : throw NotNumbers();
    }

    private static ModelDivergedException NotNumbers() => new();

    public static double[] Softmax(ReadOnlySpan<float> logits, double temperature)
    {
        var p = new double[logits.Length];
        var sum = Exponentials(logits, Max(logits), temperature, p);
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }

    /// <summary>The largest logit, NaN ignored (a NaN score is no chance at all, not a poisoned row).</summary>
    private static double Max(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (var l in logits)
            if (l > max) max = l;
        return max;
    }

    /// <summary>
    /// Fills <paramref name="p"/> with exp((logit − max) / temperature) (0 for −∞ and NaN; with a +∞
    /// logit, 1 for the +∞ ones and 0 for the rest) and returns their sum, added in order.
    /// </summary>
    private static double Exponentials(ReadOnlySpan<float> logits, double max, double temperature, Span<double> p)
    {
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            var l = logits[i];
            p[i] = float.IsNaN(l) || float.IsNegativeInfinity(l) ? 0
                : double.IsPositiveInfinity(max) ? (float.IsPositiveInfinity(l) ? 1 : 0)
                : Math.Exp((l - max) / temperature);
            sum += p[i];
        }
        return sum > 0 ? sum : throw NotNumbers();
    }

    /// <summary>
    /// Zeroes everything outside the top-k, the top-p nucleus and the min-p floor (the most likely
    /// char always stays). Chars as likely as the last one kept stay too: which of equals to drop
    /// would otherwise fall to their ids.
    /// </summary>
    private static void Truncate(Span<double> p, int topK, double topP, double minP)
    {
        var values = p.ToArray();
        var order = Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).ThenBy(i => i).ToArray();
        int keep = topK > 0 ? KeepEquals(values, order, Math.Min(topK, p.Length)) : p.Length;
        if (topP < 1)
        {
            // As HF's warpers run: top-p takes the softmax of what top-k left, so its nucleus is
            // measured against the kept mass, not the whole distribution's.
            double kept = 0;
            if (keep < order.Length)
                for (int r = 0; r < keep; r++) kept += values[order[r]];
            var target = keep < order.Length ? topP * kept : topP;
            double cumulative = 0;
            int nucleus = 0;
            while (nucleus < keep)
            {
                cumulative += values[order[nucleus]];
                nucleus++;
                if (cumulative >= target) break;
            }
            keep = KeepEquals(values, order, nucleus);
        }
        // The floor is relative to the most likely char, so it cuts the same wherever it comes among
        // the three; top-p's nucleus is measured before it, as HF's warpers run. Equals fall together.
        var floor = minP * values[order[0]];
        while (keep > 1 && values[order[keep - 1]] < floor) keep--;
        for (int r = keep; r < order.Length; r++) p[order[r]] = 0;
    }

    /// <summary><paramref name="keep"/> widened over the chars as likely as the last one kept (HF's top-k keeps ties too).</summary>
    private static int KeepEquals(double[] values, int[] order, int keep)
    {
        while (keep < order.Length && values[order[keep]] > 0 && values[order[keep]] == values[order[keep - 1]]) keep++;
        return keep;
    }

    private static int Draw(ReadOnlySpan<double> p, double u)
    {
        double total = 0;
        foreach (var v in p) total += v; // in order, as Enumerable.Sum adds doubles
        double target = u * total, cumulative = 0;
        int last = 0;
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] <= 0) continue;
            last = i;
            cumulative += p[i];
            if (target < cumulative) return i;
        }
        return last; // rounding: u * total landed on the very top
    }
}
