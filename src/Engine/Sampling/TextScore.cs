namespace CharRnn.Engine.Sampling;

/// <summary>
/// How well a model predicted a text (fed to a session, or evaluated whole): the summed negative log-likelihood (nats) of the chars
/// it scored, how many, and how many were its most likely next char. Scores of pieces add up.
/// When asked for, <see cref="Chars"/> holds each scored char's own score, in text order, from the same
/// values the sum is of (null when not asked for).
/// </summary>
public readonly record struct TextScore(double LossSum, long Characters, long Correct, IReadOnlyList<CharScore>? Chars = null)
{
    /// <summary>Mean negative log-likelihood in nats per char; 0 when nothing was scored.</summary>
    public double Loss => Characters > 0 ? LossSum / Characters : 0;
    /// <summary>Share of the scored chars that were the model's most likely next char; 0 when nothing was scored.</summary>
    public double Accuracy => Characters > 0 ? (double)Correct / Characters : 0;

    /// <summary>
    /// The score of <paramref name="a"/>'s text followed by <paramref name="b"/>'s, each scored whole (Feed's pieces):
    /// b's per-char positions move on by the chars a scored. Per-char scores are kept only when both have them,
    /// or one side scored nothing.
    /// </summary>
    public static TextScore operator +(TextScore a, TextScore b) =>
        new(a.LossSum + b.LossSum, a.Characters + b.Characters, a.Correct + b.Correct, Joined(a, b));

    private static IReadOnlyList<CharScore>? Joined(TextScore a, TextScore b)
    {
        if (a.Characters == 0 && a.Chars == null) return b.Chars;
        if (b.Characters == 0 && b.Chars == null) return a.Chars;
        if (a.Chars == null || b.Chars == null) return null;
        return [.. a.Chars, .. b.Chars.Select(c => c with { Position = c.Position + a.Characters })];
    }
}
