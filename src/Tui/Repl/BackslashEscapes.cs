namespace CharRnn.Tui.Repl;

/// <summary>
/// The backslash escapes of typed text, the REPL's inside double quotes and `charrnn generate --stop`'s:
/// \n a line feed, \t a tab, and a backslash before any other char that char (\\ a backslash, \" a
/// quote). A backslash that ends the text stays one. A line feed cannot easily be typed on a command line.
/// </summary>
public static class BackslashEscapes
{
    /// <summary>What the char after a backslash stands for.</summary>
    public static char Meaning(char escaped) => escaped switch { 'n' => '\n', 't' => '\t', var c => c };

    /// <summary>
    /// The text as one line that <see cref="Unescape"/> reads back: a backslash as \\, a line feed as \n, a tab as \t. What a
    /// one-line field shows of a text with line breaks (the Generate screen's prime), which kept only its first line.
    /// </summary>
    public static string Escape(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);

    public static string Unescape(string text)
    {
        if (!text.Contains('\\')) return text;
        var result = new System.Text.StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
            result.Append(text[i] == '\\' && i + 1 < text.Length ? Meaning(text[++i]) : text[i]);
        return result.ToString();
    }
}
