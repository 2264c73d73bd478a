using System.Text;

namespace CharRnn.Engine.Inspection;

/// <summary>
/// A simple property of a text at each char, computed from the text alone, that a hidden cell may track
/// (Karpathy's quote, line-position and bracket cells). Each is the value once that char has been read, as
/// the hidden state it is compared with is: the opening quote is inside quotes, the closing one is not.
/// </summary>
public sealed record TextFeature(string Name, Func<IReadOnlyList<string>, double[]> Compute)
{
    /// <summary>The features `charrnn neurons` ranks cells by (docs/cli.md lists them).</summary>
    public static IReadOnlyList<TextFeature> All { get; } =
    [
        new("inside \"quotes\"", chars => Toggled(chars, "\"")),
        new("inside (parentheses)", Nesting),
        new("position in the line", chars => Counted(chars, c => c != "\n")),
        new("position in the word", chars => Counted(chars, IsLetter)),
        new("is a letter", chars => Each(chars, IsLetter)),
        new("is uppercase", chars => Each(chars, c => Rune.IsUpper(Rune.GetRuneAt(c, 0)))),
        new("is a space or newline", chars => Each(chars, c => c is " " or "\n" or "\t" or "\r")),
        new("is punctuation", chars => Each(chars, c => Rune.IsPunctuation(Rune.GetRuneAt(c, 0)))),
    ];

    private static bool IsLetter(string c) => Rune.IsLetter(Rune.GetRuneAt(c, 0));

    private static double[] Each(IReadOnlyList<string> chars, Func<string, bool> test) => chars.Select(c => test(c) ? 1.0 : 0.0).ToArray();

    /// <summary>1 between an odd and an even occurrence of <paramref name="mark"/>, the odd one included.</summary>
    private static double[] Toggled(IReadOnlyList<string> chars, string mark)
    {
        var values = new double[chars.Count];
        var inside = false;
        for (int i = 0; i < chars.Count; i++)
        {
            if (chars[i] == mark) inside = !inside;
            values[i] = inside ? 1 : 0;
        }
        return values;
    }

    /// <summary>1 from an opening parenthesis up to its closing one, which is outside again (nesting counted; a stray ')' does not go below 0).</summary>
    private static double[] Nesting(IReadOnlyList<string> chars)
    {
        var values = new double[chars.Count];
        var depth = 0;
        for (int i = 0; i < chars.Count; i++)
        {
            if (chars[i] == "(") depth++;
            else if (chars[i] == ")" && depth > 0) depth--;
            values[i] = depth > 0 ? 1 : 0;
        }
        return values;
    }

    /// <summary>How many chars in a row have passed <paramref name="continues"/> up to this one: 0 at one that does not.</summary>
    private static double[] Counted(IReadOnlyList<string> chars, Func<string, bool> continues)
    {
        var values = new double[chars.Count];
        var run = 0;
        for (int i = 0; i < chars.Count; i++)
        {
            run = continues(chars[i]) ? run + 1 : 0;
            values[i] = run;
        }
        return values;
    }
}
