namespace CharRnn.Engine.Batching;

/// <summary>
/// Training examples cut from encoded text as fixed windows, in the lesson's three ways:
/// non-overlapping triples (char3), overlapping n-char windows → next char, and
/// non-overlapping n-char windows → the same window shifted by one (multi-output).
/// Stored flat: example i's input is Inputs[i*InputLength ..], its target Targets[i*TargetLength ..].
/// </summary>
public sealed class WindowedExamples
{
    private WindowedExamples(long[] inputs, long[] targets, int inputLength, int targetLength)
    {
        Inputs = inputs;
        Targets = targets;
        InputLength = inputLength;
        TargetLength = targetLength;
    }

    public long[] Inputs { get; }
    public long[] Targets { get; }
    public int InputLength { get; }
    /// <summary>1 for next-char targets, InputLength for sequence targets.</summary>
    public int TargetLength { get; }
    public int Count => Inputs.Length / InputLength;

    /// <summary>Windows of n chars starting every <paramref name="stride"/> chars, each followed by its next char.
    /// char3 is (n: 3, stride: 3); the lesson's 8-char models are (n: 8, stride: 1).</summary>
    public static WindowedExamples NextChar(IReadOnlyList<int> ids, int n, int stride)
    {
        var starts = Starts(ids.Count - n, stride); // the lesson's range(0, len(idx) - cs, stride)
        var inputs = new long[(long)starts.Count * n];
        var targets = new long[starts.Count];
        for (int k = 0; k < starts.Count; k++)
        {
            for (int i = 0; i < n; i++) inputs[(long)k * n + i] = ids[starts[k] + i];
            targets[k] = ids[starts[k] + n];
        }
        return new WindowedExamples(inputs, targets, n, 1);
    }

    /// <summary>Non-overlapping windows of n chars; targets are the same windows one char later.</summary>
    public static WindowedExamples Sequences(IReadOnlyList<int> ids, int n)
    {
        var starts = Starts(ids.Count - n - 1, n); // the lesson's range(0, len(idx) - cs - 1, cs)
        var inputs = new long[(long)starts.Count * n];
        var targets = new long[(long)starts.Count * n];
        for (int k = 0; k < starts.Count; k++)
        {
            for (int i = 0; i < n; i++)
            {
                inputs[(long)k * n + i] = ids[starts[k] + i];
                targets[(long)k * n + i] = ids[starts[k] + i + 1];
            }
        }
        return new WindowedExamples(inputs, targets, n, n);
    }

    /// <summary>Random (seeded) validation examples, as the lesson's get_cv_idxs: a fraction of the windows, not the text's end.</summary>
    public (WindowedExamples Train, WindowedExamples Valid) Split(double validFraction, int seed)
    {
        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        var validCount = (int)Math.Round(Count * validFraction);
        var valid = order.Take(validCount).Order().ToArray();
        var train = order.Skip(validCount).Order().ToArray();
        return (Select(train), Select(valid));
    }

    private WindowedExamples Select(int[] indices)
    {
        var inputs = new long[indices.Length * InputLength];
        var targets = new long[indices.Length * TargetLength];
        for (int k = 0; k < indices.Length; k++)
        {
            Array.Copy(Inputs, (long)indices[k] * InputLength, inputs, (long)k * InputLength, InputLength);
            Array.Copy(Targets, (long)indices[k] * TargetLength, targets, (long)k * TargetLength, TargetLength);
        }
        return new WindowedExamples(inputs, targets, InputLength, TargetLength);
    }

    private static List<int> Starts(int end, int stride)
    {
        var starts = new List<int>();
        for (int i = 0; i < end; i += stride) starts.Add(i);
        return starts;
    }
}
