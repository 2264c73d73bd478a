namespace CharRnn.Engine.Sampling;

/// <summary>
/// How well a model predicted a text (fed to a session, or evaluated whole): the summed negative log-likelihood (nats) of the chars
/// it scored, how many, and how many were its most likely next char. Scores of pieces add up.
/// </summary>
public readonly record struct TextScore(double LossSum, long Characters, long Correct)
{
    /// <summary>Mean negative log-likelihood in nats per char; 0 when nothing was scored.</summary>
    public double Loss => Characters > 0 ? LossSum / Characters : 0;
    /// <summary>Share of the scored chars that were the model's most likely next char; 0 when nothing was scored.</summary>
    public double Accuracy => Characters > 0 ? (double)Correct / Characters : 0;

    public static TextScore operator +(TextScore a, TextScore b) => new(a.LossSum + b.LossSum, a.Characters + b.Characters, a.Correct + b.Correct);
}
