using System.Text;

namespace CharRnn.Tui.Repl;

/// <summary>
/// What a paste puts into the one-line command line. A line break cannot stand in a command line (Enter runs it),
/// and Terminal.Gui's field kept only a paste's first line, so a prime copied with its line breaks lost all but its
/// first. Nothing a paste brings runs by itself: Enter runs the line, as after typing it.
/// <list type="bullet">
/// <item>Pasted inside an open double quote (after <c>gen 200 "</c>), the whole paste is the quoted text: its line
/// breaks go in as \n, tabs as \t, its own " and \ as \" and \\, so the prime gets it as copied.</item>
/// <item>Otherwise the paste is command text: a line break inside a double quote it opens goes in as \n, one
/// outside quotes ends a command (a "; " between two, blank lines and a last line break dropped), one inside
/// 'single quotes', which take no escapes, as a space; a tab outside double quotes as a space.</item>
/// </list>
/// </summary>
public static class PastedText
{
    /// <summary>The text to insert at the cursor, after <paramref name="before"/>, for the pasted <paramref name="pasted"/>.</summary>
    public static string IntoCommandLine(string before, string pasted)
    {
        // One scan of the line as it will read, with the parser's quote rules (an apostrophe in a word is a letter).
        var line = before + pasted.ReplaceLineEndings("\n");
        var inserted = new StringBuilder(pasted.Length);
        char quote = '\0';
        var commandHasText = false; // since the last ';' outside quotes
        var lineBreak = false;      // a line break outside quotes, waiting for the next command's text
        for (int i = 0; i < line.Length; i++)
        {
            var c = line[i];
            var pasting = i >= before.Length;
            if (i == before.Length && quote == '"') return Escaped(line[i..]);
            if (quote != '\0')
            {
                if (c == '\\' && quote == '"' && i + 1 < line.Length)
                {
                    // An escape pair goes in as it is; a backslash before a line break or tab (which go in as escapes) is one itself.
                    if (line[i + 1] is '\n' or '\t') { if (pasting) inserted.Append("\\\\"); continue; }
                    if (pasting) inserted.Append(c);
                    if (i + 1 >= before.Length) inserted.Append(line[i + 1]); // a pair the paste ends
                    i++;
                    continue;
                }
                if (CommandParser.ClosesQuote(line, i, quote)) quote = '\0';
                if (pasting) inserted.Append(c switch { '\n' => quote == '"' ? "\\n" : " ", '\t' => quote == '"' ? "\\t" : " ", _ => c.ToString() });
                continue;
            }
            if (!pasting)
            {
                if (CommandParser.OpensQuote(line, i)) quote = c;
                if (c == ';') commandHasText = false;
                else if (!char.IsWhiteSpace(c)) commandHasText = true;
                continue;
            }
            if (c == '\n') { lineBreak = true; continue; }
            if (lineBreak && char.IsWhiteSpace(c)) continue; // a line's indent
            if (lineBreak && c != ';' && commandHasText) inserted.Append("; ");
            lineBreak = false;
            if (CommandParser.OpensQuote(line, i)) quote = c;
            if (c == ';') commandHasText = false;
            else if (!char.IsWhiteSpace(c)) commandHasText = true;
            inserted.Append(c == '\t' ? ' ' : c);
        }
        return inserted.ToString();
    }

    /// <summary>Text as the inside of a double-quoted value reads it back whole.</summary>
    private static string Escaped(string text) => CommandParser.Quote(text)[1..^1].Replace("\t", "\\t", StringComparison.Ordinal);
}
