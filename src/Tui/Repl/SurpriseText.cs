using System.Globalization;
using System.Text;
using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using Terminal.Gui.Text; // Rune.GetColumns: the width the REPL view draws a char with, as terminals do

namespace CharRnn.Tui.Repl;

/// <summary>
/// Where a model was surprised by a fed text (`feed "TEXT" show=surprise`), as plain lines that read the same in the
/// TUI's REPL view and headless: the text cut into rows of <see cref="Width"/> columns, under each a row with ^ under
/// every char the model gave less than <see cref="MarkBelow"/>; then the most surprising chars, a line each, with where they are.
/// </summary>
public static class SurpriseText
{
    /// <summary>Columns per row (chars, a wide one counting two): short enough for the REPL view beside the TUI's panels.</summary>
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
        var (text, marks, used) = (new StringBuilder("  "), new StringBuilder("  "), 0);
        foreach (var c in chars)
        {
            var shown = Shown(c.Character);
            var columns = Math.Max(1, shown.EnumerateRunes().Sum(r => r.GetColumns())); // a wide char (an emoji, CJK) takes two on a terminal
            if (used + columns > Width) EndRow();
            text.Append(shown);
            marks.Append(Math.Exp(-c.Loss) < MarkBelow ? '^' : ' ').Append(' ', columns - 1); // under the char's first column
            used += columns;
        }
        EndRow();
        var worst = chars.Select((c, i) => (c, i)).OrderByDescending(e => e.c.Loss).ThenBy(e => e.i).Take(Listed);
        lines.Add("most surprising:"); // a line each: five on one line wrap mid-entry in the REPL view
        lines.AddRange(worst.Select(e =>
            string.Create(CultureInfo.InvariantCulture, $"  '{VisibleText.Character(e.c.Character)}' at {e.i}: {e.c.Loss:0.00} nats (p={Math.Exp(-e.c.Loss):0.###})")));
        return lines;

        void EndRow()
        {
            lines.Add(text.ToString().TrimEnd());
            lines.Add(marks.ToString().TrimEnd());
            (text, marks, used) = (new StringBuilder("  "), new StringBuilder("  "), 0);
        }
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
