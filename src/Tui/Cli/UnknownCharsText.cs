using CharRnn.Engine.Text;

namespace CharRnn.Tui.Cli;

/// <summary>
/// How the verbs that read a text through a model (eval's --text, generate's prime) word the characters the model
/// cannot read: left out under --skip-unknown, or, without it, refused naming them. One wording for both verbs.
/// </summary>
public static class UnknownCharsText
{
    /// <summary>"3 unknown char(s) skipped ('é' (U+00E9) ×2, '☃' (U+2603))", the first ten named; empty when none was.</summary>
    public static string Skipped(KnownText known) => known.Skipped.Count == 0 ? "" :
        $"{known.SkippedCount:N0} unknown char(s) skipped ({string.Join(", ", known.Skipped.Take(10).Select(s => Vocabulary.Describe(s.Character) + (s.Count > 1 ? $" ×{s.Count:N0}" : "")))}" +
        $"{(known.Skipped.Count > 10 ? $" and {known.Skipped.Count - 10} more" : "")})";

    /// <summary>
    /// "has 3 character(s) the model's vocabulary does not know, 5 time(s) in all: 'Z' (U+005A), …." — the characters
    /// (the first ten) as <paramref name="text"/> has them, and how often they occur; the caller names the text before it.
    /// </summary>
    public static string Refused(string text, UnknownCharactersException e)
    {
        var unknown = e.Characters.ToHashSet();
        var occurrences = text.EnumerateRunes().Count(unknown.Contains);
        var shown = string.Join(", ", e.Characters.Take(10).Select(Vocabulary.Describe)) + (e.Characters.Count > 10 ? $" and {e.Characters.Count - 10} more" : "");
        return $"has {e.Characters.Count} character(s) the model's vocabulary does not know, {occurrences:N0} time(s) in all: {shown}.";
    }
}
