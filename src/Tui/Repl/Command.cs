namespace CharRnn.Tui.Repl;

/// <summary>One parsed REPL command: `gen 400 "for thos" t=0.7` → verb gen, positional [400, for thos], options {t: 0.7}.</summary>
public sealed record Command(string Verb, IReadOnlyList<string> Positional, IReadOnlyDictionary<string, string> Options, string Text)
{
    /// <summary>Which positional words were typed in quotes (a quoted "1984" is text, not a count).</summary>
    public IReadOnlyList<bool> Quoted { get; init; } = [];

    public bool IsQuoted(int index) => index < Quoted.Count && Quoted[index];

    public string? Arg(int index) => index < Positional.Count ? Positional[index] : null;

    public string? Option(params string[] names) => NamedOption(names)?.Value;

    /// <summary>The first of <paramref name="names"/> given, with the name it was given by (for messages).</summary>
    public (string Name, string Value)? NamedOption(params string[] names)
    {
        foreach (var n in names)
            if (Options.TryGetValue(n, out var v)) return (n, v);
        return null;
    }
}

/// <summary>
/// A command line the user typed wrong; the message says what and how to fix it. <paramref name="atPrompt"/> adds what holds
/// only at the prompt, where a line break ends a command (--exec reads a whole text, line breaks and all).
/// </summary>
public sealed class CommandException(string message, string? atPrompt = null) : Exception(message)
{
    public string? AtPrompt { get; } = atPrompt;
}
