using System.Text;

namespace CharRnn.Tui.Views;

/// <summary>Word-wraps a line of plain text for views that draw their own text (hints, messages).</summary>
internal static class WordWrap
{
    /// <summary>
    /// <paramref name="text"/> in lines of at most <paramref name="width"/> characters, broken at
    /// spaces (a word longer than a line is cut), and at most <paramref name="maxLines"/> of them:
    /// the last one shown ends in "…" when text is left over.
    /// </summary>
    public static List<string> Lines(string text, int width, int maxLines)
    {
        var lines = new List<string>();
        if (width <= 0 || maxLines <= 0) return lines;
        var line = new StringBuilder();
        foreach (var word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word.Length > width ? word[..width] : word);
        }
        if (line.Length > 0) lines.Add(line.ToString());
        if (lines.Count <= maxLines) return lines;
        lines.RemoveRange(maxLines, lines.Count - maxLines);
        var last = lines[^1];
        lines[^1] = (last.Length >= width ? last[..(width - 1)] : last) + "…";
        return lines;
    }
}
