using System.Text;

namespace CharRnn.Engine.Text;

/// <summary>A character left out of a text because the vocabulary does not know it, and how often it occurred.</summary>
public readonly record struct SkippedCharacter(Rune Character, int Count);

/// <summary>
/// A text with the characters its vocabulary does not know left out (`charrnn eval --skip-unknown`: a held-out file
/// with a stray emoji is scored on the rest; generate's --skip-unknown and the server's UNKNOWN_CHARS_SKIP, a prime),
/// and what was left out, each character once, in the order first met.
/// </summary>
public sealed record KnownText(string Text, IReadOnlyList<SkippedCharacter> Skipped)
{
    /// <summary>Characters left out in all.</summary>
    public int SkippedCount => Skipped.Sum(s => s.Count);

    /// <summary>
    /// <paramref name="text"/> without the characters <paramref name="vocabulary"/> cannot encode: one whose form as the
    /// model reads it (lowercased, for a lowercase model) has a character outside it. A vocabulary with an unknown symbol
    /// encodes every character, so only padding is left out: NUL is in every vocabulary, but as padding, not as text a
    /// model reads (<see cref="PaddingInText"/>).
    /// </summary>
    public static KnownText Of(Vocabulary vocabulary, string text)
    {
        if (vocabulary.HasUnknown && !PaddingInText.In(text)) return new(text, []);
        var kept = new StringBuilder(text.Length);
        var known = new Dictionary<Rune, bool>(); // each distinct character decided once: a corpus-sized text has few
        var skipped = new List<SkippedCharacter>();
        Span<char> units = stackalloc char[2];
        foreach (var rune in text.EnumerateRunes())
        {
            if (!known.TryGetValue(rune, out var isKnown))
                known[rune] = isKnown = rune.Value != PaddingInText.Padding
                    && (vocabulary.HasUnknown || vocabulary.Normalize(rune.ToString()).EnumerateRunes().All(vocabulary.Contains));
            if (isKnown)
            {
                kept.Append(units[..rune.EncodeToUtf16(units)]);
                continue;
            }
            var at = skipped.FindIndex(s => s.Character == rune);
            if (at < 0) skipped.Add(new(rune, 1));
            else skipped[at] = skipped[at] with { Count = skipped[at].Count + 1 };
        }
        return new(kept.ToString(), skipped);
    }
}
