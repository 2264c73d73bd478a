using System.Globalization;
using System.Text;
using CharRnn.Protos.V1;
using Terminal.Gui.Text; // Rune.GetColumns: the width the REPL view draws a char with, as terminals do

namespace CharRnn.Tui.Client;

/// <summary>
/// Where a model was surprised by a fed text (`feed "TEXT" show=surprise`), as plain lines that read the same in the
/// TUI's REPL view and headless: the text cut into rows of <see cref="Width"/> chars, under each a row with ^ under
/// every char the model gave less than <see cref="MarkBelow"/>; then the most surprising chars, a line each, with where they are.
/// </summary>
public static class SurpriseText
{
    /// <summary>Chars per row: short enough for the REPL view beside the TUI's panels.</summary>
    public const int Width = 60;
    /// <summary>A char the model gave less than this probability is marked.</summary>
    public const double MarkBelow = 0.05;
    /// <summary>How many of the most surprising chars are listed.</summary>
    public const int Listed = 5;

    /// <summary>The lines for <paramref name="chars"/> (Feed's per-char scores, in text order); none when none was scored.</summary>
    public static IReadOnlyList<string> Lines(IReadOnlyList<CharScore> chars)
    {
        if (chars.Count == 0) return [];
        var lines = new List<string> { string.Create(CultureInfo.InvariantCulture, $"surprise (^ under each char the model gave under {MarkBelow * 100:0}%; positions count from 0):") };
        for (var start = 0; start < chars.Count; start += Width)
        {
            var row = chars.Skip(start).Take(Width).ToList();
            var text = new StringBuilder("  ");
            var marks = new StringBuilder("  ");
            foreach (var c in row)
            {
                var shown = Shown(c.Character);
                text.Append(shown);
                // Under the char's first column; a wide one (an emoji, CJK) takes two on a terminal.
                marks.Append(Math.Exp(-c.Loss) < MarkBelow ? '^' : ' ').Append(' ', Math.Max(1, shown.EnumerateRunes().Sum(r => r.GetColumns())) - 1);
            }
            lines.Add(text.ToString().TrimEnd());
            lines.Add(marks.ToString().TrimEnd());
        }
        var worst = chars.Select((c, i) => (c, i)).OrderByDescending(e => e.c.Loss).ThenBy(e => e.i).Take(Listed);
        lines.Add("most surprising:"); // a line each: five on one line wrap mid-entry in the REPL view
        lines.AddRange(worst.Select(e =>
            string.Create(CultureInfo.InvariantCulture, $"  '{VisibleText.Character(e.c.Character)}' at {e.i}: {e.c.Loss:0.00} nats (p={Math.Exp(-e.c.Loss):0.###})")));
        return lines;
    }

    /// <summary>
    /// A column or more per char: a line break or tab drawn as a symbol (it would break or widen the row), other control
    /// chars and those a terminal draws as nothing (a combining accent, a joiner) as ·, so each has a column for its mark.
    /// </summary>
    private static string Shown(string character) => character switch
    {
        "\n" => "⏎",
        "\t" => "⇥",
        _ when character.Length == 1 && char.IsControl(character[0]) => "·",
        _ when character.EnumerateRunes().Sum(r => r.GetColumns()) <= 0 => "·",
        _ => character,
    };
}
