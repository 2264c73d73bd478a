using System.Text;

namespace CharRnn.Engine.Text;

/// <summary>Text contained characters the vocabulary does not know and it has no unknown symbol.</summary>
public sealed class UnknownCharactersException : ArgumentException
{
    public UnknownCharactersException(IReadOnlyList<Rune> characters)
        : base(Describe(characters))
    {
        Characters = characters.Distinct().ToList();
    }

    public IReadOnlyList<Rune> Characters { get; }

    private static string Describe(IReadOnlyList<Rune> characters)
    {
        var distinct = characters.Distinct().ToList();
        var shown = string.Join(", ", distinct.Take(10).Select(Vocabulary.Describe));
        var more = distinct.Count > 10 ? $" and {distinct.Count - 10} more" : "";
        return $"The text contains {distinct.Count} character(s) the model's vocabulary does not know: {shown}{more}. " +
               "Use only characters of the training corpus (see the model's vocabulary), or train with min_freq > 1 to map unknown characters to \uFFFD.";
    }
}
