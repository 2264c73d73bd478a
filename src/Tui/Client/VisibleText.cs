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

    /// <summary>A model's symbols after the padding one, each visible: a space as ␠, control characters written out as Echo writes them (\n, \t, \u0007).</summary>
    public static string Vocabulary(string vocabulary)
    {
        var text = new System.Text.StringBuilder();
        foreach (var rune in vocabulary.EnumerateRunes().Skip(1)) // index 0 is padding
            text.Append(rune.Value == ' ' ? "␠" : Echo.Visible(rune));
        return text.ToString();
    }
}
