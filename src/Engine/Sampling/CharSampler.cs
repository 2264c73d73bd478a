namespace CharRnn.Engine.Sampling;

/// <summary>One sampled character with the model's own (temperature 1) probability for it.</summary>
public readonly record struct SampledChar(int Id, float Probability);

/// <summary>
/// Draws the next character id from one row of logits, on the host, in double precision.
/// Working per row keeps a session's draws independent of which other sessions share its
/// batched model step: the same logits and seed give the same char, whatever the batch.
/// </summary>
public static class CharSampler
{
    public static SampledChar Sample(ReadOnlySpan<float> logits, SamplingSettings settings, ref SplitMix64 rng)
    {
        var raw = Softmax(logits, 1.0);
        int id;
        if (settings.IsGreedy)
        {
            id = ArgMax(logits);
        }
        else
        {
            var p = settings.Temperature == 1.0 ? (double[])raw.Clone() : Softmax(logits, settings.Temperature);
            Truncate(p, settings.TopK, settings.TopP);
            id = Draw(p, rng.NextDouble());
        }
        return new SampledChar(id, (float)raw[id]);
    }

    /// <summary>The <paramref name="count"/> most likely ids with their probabilities, most likely first.</summary>
    public static (int Id, float Probability)[] Top(ReadOnlySpan<float> logits, int count)
    {
        var p = Softmax(logits, 1.0);
        return Enumerable.Range(0, p.Length)
            .OrderByDescending(i => p[i]).ThenBy(i => i)
            .Take(count)
            .Select(i => (i, (float)p[i]))
            .ToArray();
    }

    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }

    public static double[] Softmax(ReadOnlySpan<float> logits, double temperature)
    {
        var p = new double[logits.Length];
        double max = double.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = float.IsNegativeInfinity(logits[i]) ? 0 : Math.Exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }

    /// <summary>Zeroes everything outside the top-k and the top-p nucleus (the most likely char always stays).</summary>
    private static void Truncate(double[] p, int topK, double topP)
    {
        if (topK <= 0 && topP >= 1) return;
        var order = Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).ThenBy(i => i).ToArray();
        int keep = topK > 0 ? Math.Min(topK, p.Length) : p.Length;
        if (topP < 1)
        {
            double cumulative = 0;
            int nucleus = 0;
            while (nucleus < keep)
            {
                cumulative += p[order[nucleus]];
                nucleus++;
                if (cumulative >= topP) break;
            }
            keep = nucleus;
        }
        for (int r = keep; r < order.Length; r++) p[order[r]] = 0;
    }

    private static int Draw(double[] p, double u)
    {
        double total = p.Sum();
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
