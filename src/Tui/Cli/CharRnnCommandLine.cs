using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Parsing;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;

namespace CharRnn.Tui.Cli;

/// <summary>
/// The charrnn command tree and its error handling: a user mistake prints one clear line and exits 2;
/// anything else that fails a run prints one line too (the stack trace only with CHARRNN_DEBUG=1) and exits 1.
/// </summary>
public static class CharRnnCommandLine
{
    public static RootCommand Build(Action<RootCommand>? configureRoot = null)
    {
        var root = new RootCommand("charrnn: train, serve and play with character-level RNN language models (the fast.ai Nietzsche lesson).")
        {
            TrainCommand.CreateTrain(),
            ResumeCommand.CreateResume(),
            LrFindCommand.Create(),
            GenerateCommand.Create(),
            EvalCommand.Create(),
            NeuronsCommand.Create(),
            ExportCommand.Create(),
            ImportCommand.Create(),
            RenameCommand.Create(),
            ModelsCommand.Create(),
            ArchsCommand.Create(),
            DemoCommand.Create(),
            ServeCommand.Create(),
            KeysCommand.Create(),
        };
        configureRoot?.Invoke(root);
        NumberOptions.ApplyTo(root);
        return root;
    }

    public static int Run(string[] args, Action<RootCommand>? configureRoot = null)
    {
        var root = Build(configureRoot);
        var normalized = YesNoOptions.Normalize(args, root);
        var parse = root.Parse(normalized);
        if (RepeatedOption(parse) is { } repeated)
        {
            Console.Error.WriteLine($"charrnn: {repeated} is given more than once; give it once. (see {CommandPath(parse)} --help)");
            return 2;
        }
        if (parse.Errors.Count > 0)
        {
            // One line, as for every other user mistake; the full help is a --help away. A mistyped flag
            // first: the words after it are refused only because it was not known (`--threds 1`: '1');
            // then a word it could not place (`keys lsit`), over "Required command was not provided".
            var error = parse.Errors.FirstOrDefault(e => QuotedWord(e.Message) is ['-', ..])
                        ?? parse.Errors.FirstOrDefault(e => QuotedWord(e.Message) != null) ?? parse.Errors[0];
            var lines = error.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var message = lines.Length == 1 ? lines[0] : $"{lines[0]} {string.Join(", ", lines.Skip(1))}";
            // A word meant as a yes/no flag's value (--lower maybe) is refused as that, not as a stray argument.
            if (YesNoOptions.Refusal(normalized, parse.CommandResult.Command, parse.Errors.Select(e => QuotedWord(e.Message)).OfType<string>()) is { } refusal) message = refusal;
            else if (error.Message.StartsWith("Required argument missing", StringComparison.Ordinal) && MissingArguments(parse) is { } missing) message = missing;
            else if (Suggestion(error, parse) is { Length: > 0 } suggestion) message = message.TrimEnd('.') + "." + suggestion;
            // A verb that is only its subcommands (keys), given none or a word none of them is: which there are.
            if (parse.CommandResult.Command is { Action: null, Subcommands.Count: > 0 } group && parse.CommandResult.Parent != null
                && !message.Contains("Did you mean", StringComparison.Ordinal))
                message = (error.Message.StartsWith("Required command", StringComparison.Ordinal) ? $"{CommandPath(parse)} needs a subcommand" : message.TrimEnd('.') + $". {CommandPath(parse)} takes a subcommand")
                          + $": {Listed(group.Subcommands.Select(c => c.Name).ToList())}.";
            Console.Error.WriteLine($"charrnn: {message} (see {CommandPath(parse)} --help)");
            return 2;
        }
        // A word after a yes/no flag that the parser took for the model (eval --json maybe) and that names none: the flag's word, mistyped.
        if (YesNoOptions.ModelRefusal(normalized, parse) is { } notAModel)
        {
            Console.Error.WriteLine($"charrnn: {notAModel} (see {CommandPath(parse)} --help)");
            return 2;
        }
        if (MisplacedOption(parse) is { } misplaced)
        {
            Console.Error.WriteLine($"charrnn: {misplaced}");
            return 2;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"charrnn: {InFlagTerms(e.Message, parse.CommandResult.Command)}");
            return 2;
        }
        catch (Exception e) when (IsMachineError(e))
        {
            // The machine's refusal (a full disk, a file it may not write): one line, no trace, and a failed run's exit code.
            try { Console.Out.Flush(); }
            catch (IOException) { } // the disk that is full may be stdout's
            Console.Error.WriteLine($"charrnn: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            // Not the user's input: a model that diverged, a library that cannot load, a bug. Still one line,
            // and the exit code README gives a failed run; the trace is there for a bug report.
            Console.Out.Flush();
            Console.Error.WriteLine(Environment.GetEnvironmentVariable("CHARRNN_DEBUG") == "1"
                ? $"charrnn: {e}"
                : $"charrnn: {e.Message} ({e.GetType().Name}; set CHARRNN_DEBUG=1 for the stack trace)");
            return 1;
        }
    }

    /// <summary>
    /// The engine names a setting by its key (`val_fraction = 0.7 is not allowed`, `lr × wd = 5 × 0.5 is not allowed
    /// with adamw`); on the command line it was a flag, so the message says `--val-fraction 0.7`, as it was typed, and
    /// names the same setting later in the message as its flag too (`use --min-freq 258 or less`, `a smaller --lr or --wd`).
    /// A key in a formula (`1 − lr·wd`) stays.
    /// </summary>
    private static string InFlagTerms(string message, Command verb)
    {
        var subject = System.Text.RegularExpressions.Regex.Match(message, "^([a-z][a-z_ ]*(?: × [a-z][a-z_]*)*) = ");
        if (!subject.Success) return message;
        string Flag(string key) => "--" + key.Replace('_', '-').Replace(' ', '-');
        var keys = subject.Groups[1].Value.Split(" × ");
        if (!keys.All(k => verb.Options.Any(o => o.Name == Flag(k) || o.Aliases.Contains(Flag(k))))) return message;
        var rest = message[subject.Length..];
        foreach (var key in keys)
            rest = System.Text.RegularExpressions.Regex.Replace(rest, $@"(?<=^|[\s(]){System.Text.RegularExpressions.Regex.Escape(key)}(?=[\s.,;)])", Flag(key));
        return keys.Length == 1 ? $"{Flag(keys[0])} {rest}" : $"{string.Join(" × ", keys.Select(Flag))} = {rest}";
    }

    /// <summary>" Did you mean 'train'?" for a mistyped verb, flag or argument value, which System.CommandLine only refuses.</summary>
    private static string Suggestion(ParseError error, ParseResult parse)
    {
        if (QuotedWord(error.Message) is not { } typed) return "";
        if (error.Message.StartsWith("Unrecognized command or argument", StringComparison.Ordinal))
        {
            var verb = parse.CommandResult.Command;
            // The lesson's cs, a letter off --bs: say what it is here rather than guess the batch size.
            var lessons = verb.Options.Any(o => o.Name == "--context") ? LessonNames.HyperParameterNote(typed, name => "--" + name) : "";
            // `--server HOST` or `--server=HOST` (one token, as the parser leaves a flag it does not know).
            var server = typed == "--server" ? ValueAfter(typed, parse) : typed.StartsWith("--server=", StringComparison.Ordinal) ? typed["--server=".Length..] : null;
            if ((typed == "--server" || server != null) && OnTheServer(verb, server) is { } instead) return " " + instead;
            if (ListenInstead(typed, verb, parse) is { } listen) return " " + listen;
            var closest = lessons.Length > 0 ? lessons
                : ClosestName.Suggestion(typed, verb.Subcommands.Select(s => s.Name).Concat(verb.Options.SelectMany(o => o.Aliases.Prepend(o.Name))));
            return closest.Length > 0 ? closest : OtherVerbsOption(typed, verb, parse);
        }
        return error.SymbolResult is OptionResult option && error.Message.StartsWith("Argument '", StringComparison.Ordinal) // a value not among the allowed ones
            ? option.Option.Name == "--arch"
                ? LessonNames.ArchitectureHint(typed, option.Option.GetCompletions(CompletionContext.Empty).Select(c => c.Label))
                : ClosestName.Suggestion(typed, option.Option.GetCompletions(CompletionContext.Empty).Select(c => c.Label))
            : "";
    }

    /// <summary>
    /// " --patience is an option of charrnn train and resume, not of lr-find." for a flag of a sibling verb
    /// (lr-find takes much of train's, not all): the flag was not mistyped, it belongs elsewhere.
    /// </summary>
    private static string OtherVerbsOption(string typed, Command verb, ParseResult parse)
    {
        if (!typed.StartsWith("--", StringComparison.Ordinal) || parse.CommandResult.Parent is not CommandResult parent) return "";
        var owners = parent.Command.Subcommands.Where(s => s != verb && s.Options.Any(o => o.Name == typed || o.Aliases.Contains(typed))).Select(s => s.Name).ToList();
        return owners.Count == 0 ? ""
            : $" {typed} is an option of charrnn {ProseList.Of(owners, "and")}, not of {verb.Name}.";
    }

    /// <summary>
    /// "serve takes its address as one flag, --listen HOST:PORT: --listen 127.0.0.1:8080." for the --port or --host (--bind,
    /// --address) other servers take, with the value typed put into --listen's default.
    /// </summary>
    private static string? ListenInstead(string typed, Command verb, ParseResult parse)
    {
        var flag = typed.Split('=', 2)[0];
        if (flag is not ("--port" or "--host" or "--bind" or "--address") || verb.Options.FirstOrDefault(o => o.Name == "--listen") is not Option<string> listen)
            return null;
        var value = typed.Length > flag.Length ? typed[(flag.Length + 1)..] : ValueAfter(typed, parse);
        var address = listen.GetDefaultValue() as string ?? "127.0.0.1:50051";
        var colon = address.LastIndexOf(':');
        var example = value is not { Length: > 0 } ? "HOST:PORT"
            : flag == "--port" ? $"{address[..colon]}:{value}"
            : value.Contains(':') ? value : $"{value}:{address[(colon + 1)..]}";
        return $"charrnn {verb.Name} takes its address as one flag, --listen HOST:PORT (default {address}): --listen {example}.";
    }

    /// <summary>
    /// "keys add needs its &lt;name&gt;: who the key is for, e.g. alice or ci. Usage: charrnn keys add &lt;name&gt; [options].",
    /// where System.CommandLine says only "Required argument missing for command: 'add'".
    /// </summary>
    private static string? MissingArguments(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var missing = command.Arguments.Where(a => a.Arity.MinimumNumberOfValues > 0 && (parse.GetResult(a) is not ArgumentResult given || given.Tokens.Count == 0)).ToList();
        if (missing.Count == 0) return null;
        string Shown(Argument a) => $"<{a.HelpName ?? a.Name}>";
        var usage = string.Join(' ', command.Arguments.Where(a => !a.Hidden).Select(a => a.Arity.MinimumNumberOfValues > 0 ? Shown(a) : $"[{Shown(a)}]").Prepend(CommandPath(parse)))
                    + (command.Options.Any(o => !o.Hidden) ? " [options]" : "");
        var what = missing is [{ Description: [var first, .. var rest] } one]
            ? $"its {Shown(one)}: {char.ToLowerInvariant(first)}{rest.TrimEnd('.')}"
            : string.Join(" and ", missing.Select(Shown));
        return $"{CommandPath(parse)["charrnn ".Length..]} needs {what}. Usage: {usage}.";
    }

    // The word typed after a flag the verb does not know (its value, unparsed), unless it is another flag.
    private static string? ValueAfter(string flag, ParseResult parse)
    {
        var at = parse.Tokens.ToList().FindIndex(t => t.Value == flag);
        return at >= 0 && at + 1 < parse.Tokens.Count && !parse.Tokens[at + 1].Value.StartsWith('-') ? parse.Tokens[at + 1].Value : null;
    }

    private static string? QuotedWord(string message) =>
        System.Text.RegularExpressions.Regex.Match(message, "'([^']*)'") is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>"add, list or remove".</summary>
    private static string Listed(IReadOnlyList<string> names) =>
        names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} or {names[^1]}";

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r.Parent is CommandResult parent; r = parent) names.Insert(0, r.Command.Name);
        return string.Join(' ', names.Prepend("charrnn"));
    }

    /// <summary>
    /// An option of one value typed twice: refused, not the last one quietly taken (System.CommandLine takes
    /// `--lower --lower false` as false, and words `-n 5 -n 6` as one flag given two values).
    /// </summary>
    private static string? RepeatedOption(ParseResult parse)
    {
        for (var r = parse.CommandResult; r != null; r = r.Parent as CommandResult)
            foreach (var option in r.Children.OfType<OptionResult>())
                if (option.IdentifierTokenCount > 1 && !option.Option.AllowMultipleArgumentsPerToken && option.Option.Arity.MaximumNumberOfValues <= 1)
                    return option.IdentifierToken!.Value;
        return null;
    }

    /// <summary>
    /// The client's own options given before a verb (`charrnn --models DIR models`) would otherwise
    /// be parsed, then ignored by the verb: the verb would run on its defaults.
    /// </summary>
    private static string? MisplacedOption(ParseResult parse)
    {
        if (parse.CommandResult.Command is RootCommand) return null;
        var verb = parse.CommandResult.Command;
        var given = parse.RootCommandResult.Children.OfType<OptionResult>().FirstOrDefault(o => !o.Implicit && o.IdentifierToken != null);
        if (given == null) return null;
        var name = given.IdentifierToken!.Value;
        if (verb.Options.Any(o => o.Name == given.Option.Name || o.Aliases.Contains(name)))
            return $"{name} goes after the verb: charrnn {verb.Name} {name} ... (before it, it is an option of the interactive client).";
        return name == "--server" && OnTheServer(verb, given.Tokens.FirstOrDefault()?.Value) is { } instead
            ? $"--server is an option of the interactive client, not of charrnn {verb.Name}: {instead}"
            : $"{name} is an option of the interactive client, not of charrnn {verb.Name} (see charrnn {verb.Name} --help).";
    }

    /// <summary>
    /// What `charrnn --server HOST models` (or `models --server HOST`) meant: the verbs work on local folders, a server's
    /// models are reached through the REPL's commands with --exec. Null for a verb the REPL has none for (lr-find, keys, serve...).
    /// </summary>
    private static string? OnTheServer(Command verb, string? server)
    {
        var command = verb.Name switch
        {
            "generate" => "use MODEL; gen N",
            "eval" => "use MODEL; feed \"TEXT\"",
            _ => Repl.CommandCatalog.Find(verb.Name) is { } spec ? spec.Usage == spec.Verb ? spec.Verb : spec.Verb + " ..." : null,
        };
        return command == null ? null
            : $"charrnn {verb.Name} works on a local folder; on the server, run the REPL's command: charrnn --server {server ?? "HOST:PORT"} --exec \"{command}\".";
    }

    /// <summary>Errors about the input (exit 2): what was typed, or a file it named that is not what it should be. No stack trace.</summary>
    public static bool IsUserError(Exception e) =>
        e is ArgumentException or InvalidDataException or Repl.CommandException or CorpusException or CheckpointException { Damaged: false } or UnknownCharactersException
            or HyperParameterException;

    /// <summary>
    /// Errors of the machine or its data (exit 1, as README gives a failed run): a full disk, a folder it may not write, a
    /// checkpoint whose bytes are damaged (the right file was named; usage was fine). No stack trace either: no bug.
    /// </summary>
    public static bool IsMachineError(Exception e) => e is IOException or UnauthorizedAccessException or CheckpointException { Damaged: true };
}
