using System.Globalization;
using CharRnn.Engine.Text;

namespace CharRnn.Tui.Client;

/// <summary>
/// Characters the REPL and the TUI show where a blank or a line break would pass unseen (a wrapped
/// line drops a trailing space, and a line break would split the message it stands in).
/// </summary>
public static class VisibleText
{
    /// <summary>One character or predicted piece, as the games and `feed` show it: a line break as ⏎, a space as ␠, a tab as ⇥, anything else as it is.</summary>
    public static string Character(string text) => text switch { "\n" => "⏎", " " => "␠", "\t" => "⇥", _ => text };

    /// <summary>
    /// A model's symbols after the padding one, each visible: a space as ␠, control characters written out as Echo writes
    /// them (\n, \t, \u0007), and so are those a terminal draws as nothing or joins to their neighbour (a combining accent,
    /// a joiner, a variation selector, a regional indicator, a skin-tone modifier: \u0301, \u200d, \u1f1e9), which in a
    /// run of symbols read as part of another ('e' and U+0301 as 'é', two regional indicators as a flag).
    /// </summary>
    public static string Vocabulary(string vocabulary)
    {
        var text = new System.Text.StringBuilder();
        foreach (var rune in vocabulary.EnumerateRunes().Skip(1)) // index 0 is padding
            text.Append(rune.Value == ' ' ? "␠" : JoinsItsNeighbour(rune) ? $"\\u{rune.Value:x4}" : Echo.Visible(rune));
        return text.ToString();
    }

    private static bool JoinsItsNeighbour(System.Text.Rune rune) =>
        System.Text.Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
        || rune.Value is >= 0x1F1E6 and <= 0x1F1FF // regional indicators: two side by side are a flag
        || rune.Value is >= 0x1F3FB and <= 0x1F3FF; // skin-tone modifiers: one after a hand or a face is that face's tone
}
