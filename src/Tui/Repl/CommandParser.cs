using System.Text;

namespace CharRnn.Tui.Repl;

/// <summary>
/// Reads REPL input: words separated by spaces, "double" or 'single' quotes around text with
/// spaces (\" \\ \n escapes inside double quotes; an apostrophe inside a word is a letter),
/// key=value options, and ';' between commands.
/// </summary>
public static class CommandParser
{
    /// <summary>A value as a command line reads it back whole: in double quotes, with backslashes, quotes and line feeds escaped.</summary>
    public static string Quote(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// A value as one word of a command line: as it is where it reads back whole (constant, 1e-3), else in single quotes, which
    /// take everything but a single quote as it is ('constant,epochs=2; sgdr'), else <see cref="Quote"/>d.
    /// </summary>
    public static string Word(string text) =>
        text.Length > 0 && !text.Any(c => char.IsWhiteSpace(c) || c is ';' or '"' or '\'' or '\\') ? text
        : !text.Contains('\'') ? $"'{text}'" : Quote(text);

    public static IReadOnlyList<Command> ParseMany(string line)
    {
        var commands = new List<Command>();
        foreach (var part in SplitCommands(line))
            if (Parse(part) is { } command) commands.Add(command);
        return commands;
    }

    /// <summary>Null for an empty line.</summary>
    public static Command? Parse(string text)
    {
        var tokens = Tokenize(text);
        if (tokens.Count == 0) return null;
        var verb = tokens[0].Text.ToLowerInvariant();
        var positional = new List<string>();
        var quoted = new List<bool>();
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var token in tokens.Skip(1))
        {
            var eq = token.Text.IndexOf('=');
            if (!token.Quoted && eq > 0 && token.Text[..eq].All(c => char.IsLetterOrDigit(c) || c is '_' or '-'))
            {
                var key = token.Text[..eq].Replace('-', '_');
                // t=0.5 t=9 would quietly take the last: which one was meant is not for the parser to guess.
                if (!options.TryAdd(key, token.Value[(token.Value.IndexOf('=') + 1)..]))
                    throw new CommandException($"{key} is given twice in: {text.Trim()}; give it once.");
            }
            else
            {
                positional.Add(token.Value);
                quoted.Add(token.Quoted);
            }
        }
        return new Command(verb, positional, options, text.Trim()) { Quoted = quoted };
    }

    /// <summary>A token: its raw text (for completion), its value with quotes removed, and whether it began quoted.</summary>
    public sealed record Token(string Text, string Value, bool Quoted, int Start, int End);

    public static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i >= text.Length) break;
            int start = i;
            var value = new StringBuilder();
            bool quoted = text[i] is '"' or '\'';
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
            {
                if (OpensQuote(text, i))
                {
                    var quote = text[i++];
                    while (i < text.Length && !ClosesQuote(text, i, quote))
                    {
                        if (quote == '"' && text[i] == '\\' && i + 1 < text.Length)
                        {
                            i++;
                            value.Append(BackslashEscapes.Meaning(text[i]));
                        }
                        else value.Append(text[i]);
                        i++;
                    }
                    // At the prompt most often a prime pasted where the terminal does not mark pastes (no bracketed paste), cut at its line break.
                    if (i >= text.Length)
                        throw new CommandException($"Unclosed {quote} quote in: {text.Trim()}",
                            "A line break ends a command here (a terminal that does not mark a paste as one sends each of its lines as a command of its own): write one in a prime as \\n inside double quotes, gen \"first line\\nsecond\".");
                    i++; // closing quote
                }
                else value.Append(text[i++]);
            }
            tokens.Add(new Token(text[start..i], value.ToString(), quoted, start, i));
        }
        return tokens;
    }

    /// <summary>A double quote, or a single one that does not follow a letter or digit: one's and don't are words.</summary>
    internal static bool OpensQuote(string text, int i) =>
        text[i] == '"' || (text[i] == '\'' && (i == 0 || !char.IsLetterOrDigit(text[i - 1])));

    /// <summary>The quote's closing mark: inside single quotes an apostrophe between letters stays text ('don't stop').</summary>
    internal static bool ClosesQuote(string text, int i, char quote) =>
        text[i] == quote && !(quote == '\'' && i > 0 && i + 1 < text.Length && char.IsLetterOrDigit(text[i - 1]) && char.IsLetterOrDigit(text[i + 1]));

    /// <summary>Where the last command of <paramref name="line"/> starts: after its last ';' outside quotes.</summary>
    public static int LastCommandStart(string line)
    {
        var start = 0;
        var index = 0;
        foreach (var part in SplitCommands(line))
        {
            index += part.Length;
            if (index < line.Length) start = ++index; // past the ';' that ended this part
        }
        return start;
    }

    /// <summary>Splits on ';' outside quotes.</summary>
    private static IEnumerable<string> SplitCommands(string line)
    {
        var current = new StringBuilder();
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                if (c == '\\' && quote == '"' && i + 1 < line.Length) { current.Append(c).Append(line[++i]); continue; }
                if (ClosesQuote(line, i, quote)) quote = '\0';
            }
            else if (OpensQuote(line, i)) quote = c;
            else if (c == ';') { yield return current.ToString(); current.Clear(); continue; }
            current.Append(c);
        }
        yield return current.ToString();
    }
}
