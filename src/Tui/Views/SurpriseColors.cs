using Terminal.Gui.Drawing;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Views;

/// <summary>
/// The Type screen's colours for how surprised the model was by a typed char, by the probability it gave it
/// (p = e^-loss): green where it expected it, the screen's own colour in between, yellow, then red where it
/// hardly thought it possible.
/// </summary>
public static class SurpriseColors
{
    /// <summary>The screen's key to the colours: a heading, then each colour's words in that colour.</summary>
    public static IEnumerable<(string Text, Attribute Attribute)> Legend(Attribute normal)
    {
        yield return ("Typed chars by p:", normal);
        if (Monochrome.On)
        {
            yield return ("plain ≥ 10%", normal);
            yield return ("underlined 2–10%", ForLoss(-Math.Log(0.05), normal));
            yield return ("bold < 2%", ForLoss(-Math.Log(0.01), normal));
            yield break;
        }
        yield return ("green ≥ 50%", ForLoss(0, normal));
        yield return ("plain 10–50%", normal);
        yield return ("yellow 2–10%", ForLoss(-Math.Log(0.05), normal));
        yield return ("red < 2%", ForLoss(-Math.Log(0.01), normal));
    }

    /// <summary>
    /// The key in rows of at most <paramref name="width"/> columns, each piece whole on a row (one row from 71 columns;
    /// below, a row cut it at "· yel"): a piece and the separator before it (" " after the heading, " · " between colours).
    /// </summary>
    public static List<List<(string Text, Attribute Attribute)>> LegendRows(Attribute normal, int width)
    {
        var rows = new List<List<(string, Attribute)>> { new() };
        var used = 0;
        foreach (var (text, attribute) in Legend(normal))
        {
            var separator = used == 0 ? "" : rows[^1].Count == 1 && rows.Count == 1 ? " " : " · ";
            if (used > 0 && used + separator.Length + text.Length > width) (separator, used) = ("", 0);
            if (used == 0 && rows[^1].Count > 0) rows.Add([]);
            if (separator.Length > 0) rows[^1].Add((separator, normal));
            rows[^1].Add((text, attribute));
            used += separator.Length + text.Length;
        }
        return rows;
    }

    /// <summary>The attribute for a char the model gave e^-<paramref name="loss"/>; <paramref name="normal"/> between 10% and 50%.</summary>
    public static Attribute ForLoss(double loss, Attribute normal)
    {
        var p = Math.Exp(-loss);
        // Without colour (NO_COLOR): plain from 10%, underlined under it, bold and underlined under 2%.
        if (Monochrome.On) return Monochrome.Plain(p >= 0.1 ? TextStyle.None : p >= 0.02 ? TextStyle.Underline : TextStyle.Bold | TextStyle.Underline);
        return p >= 0.5 ? new Attribute(Color.BrightGreen, normal.Background)
            : p >= 0.1 ? normal
            : p >= 0.02 ? new Attribute(Color.BrightYellow, normal.Background)
            : new Attribute(Color.BrightRed, normal.Background);
    }
}
