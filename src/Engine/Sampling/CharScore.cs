namespace CharRnn.Engine.Sampling;

/// <summary>
/// How surprised a model was by one char of a scored text: where it is (0-based, in Unicode scalars of the text as
/// the model read it: lowercased for a lowercase model, without chars left out as unknown), the char, its negative
/// log-likelihood in nats, and whether it was the model's most likely next char. Karpathy's char-rnn colours text by this.
/// </summary>
public readonly record struct CharScore(long Position, string Char, double Loss, bool Top1)
{
    /// <summary>The probability the model gave the char: e^-loss.</summary>
    public double Probability => Math.Exp(-Loss);
}
