using System.CommandLine;
using CharRnn.Engine.Models;

namespace CharRnn.Tui.Cli;

/// <summary>
/// Yes/no options (--lower, --admin) take the words the hyperparameter flags and the REPL take:
/// on its own the flag means yes, and a following true/false, yes/no, on/off or 1/0 says which.
/// System.CommandLine's bool options take only true and false after them (any other word is left
/// for the verb's arguments, and it has no hook to change that), so "--lower yes" was an unknown
/// argument while "--identity-init yes" worked: the other words are spelled as true or false
/// before parsing. The hyperparameter flags take a value optionally, and would take any word after
/// them ("--identity-init seq-rnn" made seq-rnn its value, not the architecture): one followed by
/// an architecture's name is given "true", and the name is left for the architecture.
/// </summary>
public static class YesNoOptions
{
    public static string[] Normalize(string[] args, Command root)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var optionalValue = new HashSet<string>(StringComparer.Ordinal);
        Collect(root, names, optionalValue);
        var result = args.ToList();
        for (var i = 0; i < result.Count; i++)
        {
            if (result[i] == "--") break; // what follows is text, not options
            var equals = result[i].IndexOfAny(['=', ':']);
            if (equals > 0 && names.Contains(result[i][..equals]) && HyperParameterSpec.YesNo(result[i][(equals + 1)..]) is { } inline)
                result[i] = $"{result[i][..equals]}{result[i][equals]}{(inline ? "true" : "false")}";
            else if (names.Contains(result[i]) && i + 1 < result.Count && HyperParameterSpec.YesNo(result[i + 1]) is { } next)
                result[++i] = next ? "true" : "false";
            else if (optionalValue.Contains(result[i]) && i + 1 < result.Count && Architectures.All.Any(a => a.Name == result[i + 1]))
                result.Insert(++i, "true");
        }
        return [.. result];
    }

    /// <summary>
    /// The refusal for a word the parser could not place (one of <paramref name="unplaced"/>, quoted in its errors) that
    /// stands right after one of <paramref name="verb"/>'s yes/no flags: "--lower maybe" was meant as the flag's value, and
    /// is better refused as that, naming the words it takes, than as a stray argument (or, taken for the architecture,
    /// with the next word refused as the stray one). Null when no such word follows such a flag.
    /// </summary>
    /// <param name="nor">What else the word could have been and is not ("a model …"); by default an architecture where the verb takes one.</param>
    public static string? Refusal(string[] args, Command verb, IEnumerable<string> unplaced, string? nor = null)
    {
        var flags = verb.Options.Where(o => o is Option<bool> or Option<bool?>).SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet(StringComparer.Ordinal);
        var words = unplaced.ToHashSet(StringComparer.Ordinal);
        nor ??= verb.Arguments.Any(a => a.Name == "arch") ? "an architecture" : null;
        for (var i = 1; i < args.Length && args[i - 1] != "--"; i++)
            // A flag after the yes/no one ("archs --json --bogus") is no value meant for it: the parser's own refusal names it.
            if (words.Contains(args[i]) && flags.Contains(args[i - 1]) && !IsFlag(args[i]))
                return $"{args[i - 1]} takes yes or no (true/false, yes/no, on/off, 1/0), or nothing for yes; '{args[i]}' is not one of them" +
                       (nor != null ? $", nor {nor}." : ".");
        return null;
    }

    private static bool IsFlag(string word) => word.Length > 1 && word[0] == '-';

    /// <summary>
    /// The same refusal for a word the parser did place, as the verb's model ("eval --json maybe": maybe taken for the
    /// model's name), when it stands right after a yes/no flag and names no model: no folder or file of that name, nor a
    /// model in --models. A word that names one ("eval --json lstm") is the model, as parsed. Null otherwise. A word close to a
    /// model's name ("eval --json lstn") gets the model's suggestion, as the model's own error gives it.
    /// </summary>
    public static string? ModelRefusal(string[] args, ParseResult parse)
    {
        var verb = parse.CommandResult.Command;
        if (verb.Arguments.FirstOrDefault(a => a.Name == "model") is not { } model || parse.GetResult(model) is not { Tokens: [var token] }) return null;
        var folder = verb.Options.OfType<Option<string>>().FirstOrDefault(o => o.Name == "--models") is { } models ? parse.GetValue(models) : null;
        if (folder == null || ModelArgument.Names(token.Value, folder)) return null;
        return Refusal(args, verb, [token.Value], $"a model (a model folder or .ckpt file, or a model in --models '{folder}')") is { } refusal
            ? refusal + ModelArgument.Suggestion(token.Value, folder)
            : null;
    }

    private static void Collect(Command command, HashSet<string> names, HashSet<string> optionalValue)
    {
        foreach (var option in command.Options.Where(o => o is Option<bool> or Option<bool?>))
        {
            names.Add(option.Name);
            foreach (var alias in option.Aliases) names.Add(alias);
        }
        foreach (var option in command.Options.Where(o => o is Option<string?> && o.Arity.MinimumNumberOfValues == 0 && o.Arity.MaximumNumberOfValues == 1))
            optionalValue.Add(option.Name);
        foreach (var verb in command.Subcommands) Collect(verb, names, optionalValue);
    }
}
