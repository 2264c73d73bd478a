namespace CharRnn.Engine.Sampling;

/// <summary>A generated character: its text, id, the model's probability for it and, if asked, the top alternatives.</summary>
public sealed class GeneratedChar(string text, int id, float[] logits, IReadOnlyList<(string Text, float Probability)>? alternatives)
{
    private float _probability = float.NaN;

    public string Text { get; } = text;
    public int Id { get; } = id;
    public IReadOnlyList<(string Text, float Probability)>? Alternatives { get; } = alternatives;

    /// <summary>
    /// The model's probability for this char (temperature 1), computed when first read: most
    /// streams never ask, and a reader off the device thread pays for it there. The logits
    /// array is the step's own copy, never written again.
    /// </summary>
    public float Probability
    {
        get
        {
            var p = _probability;
            if (float.IsNaN(p)) _probability = p = CharSampler.Probability(logits, Id);
            return p;
        }
    }

    /// <summary>The same char with other alternatives (a call that asked for fewer than its batch computed).</summary>
    public GeneratedChar WithAlternatives(IReadOnlyList<(string Text, float Probability)>? others) =>
        new(Text, Id, logits, others) { _probability = _probability };
}
