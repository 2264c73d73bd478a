using CharRnn.Tui.Cli;

namespace CharRnn.Tui.Repl;

/// <summary>Tab completion: the token under the cursor completed against commands, names, option keys, the values of keys whose values are known, and the files a command takes.</summary>
public static class Completer
{
    /// <summary>The candidates for the token ending at <paramref name="cursor"/> and where that token starts.</summary>
    public static (int Start, IReadOnlyList<string> Candidates) Complete(string line, int cursor, CompletionSource.Snapshot names)
    {
        var before = line[..Math.Min(cursor, line.Length)];
        var commandStart = CommandParser.LastCommandStart(before);
        var segment = before[commandStart..];
        List<CommandParser.Token> tokens;
        try { tokens = CommandParser.Tokenize(segment); }
        catch (CommandException) { return (cursor, []); } // inside an open quote: nothing to complete

        bool atNewToken = segment.Length == 0 || char.IsWhiteSpace(segment[^1]);
        var prefix = atNewToken || tokens.Count == 0 ? "" : tokens[^1].Text;
        var start = cursor - prefix.Length;
        var index = atNewToken ? tokens.Count : tokens.Count - 1;

        IEnumerable<string> candidates;
        if (index == 0)
        {
            candidates = CommandCatalog.All.Select(c => c.Verb);
        }
        else
        {
            var spec = CommandCatalog.Find(tokens[0].Text.ToLowerInvariant());
            if (spec == null) return (start, []);
            var keys = Keys(spec, tokens, names).ToList();
            var equals = prefix.IndexOf('=');
            var values = equals > 0 ? Values(spec, prefix[..equals], keys, names) : [];
            candidates = values.Length > 0
                ? values.Select(v => prefix[..(equals + 1)] + v) // the key as typed (an alias too), then each value
                : index == spec.FileWord && equals < 0
                    ? LocalFiles.Matching(prefix).Concat(keys.Select(k => k + "="))
                    : index == 1 && equals < 0
                        ? ArgumentNames(spec.FirstArgument, names).Concat(keys.Select(k => k + "="))
                        : keys.Select(k => k + "=");
        }
        return (start, candidates.Where(c => c.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).Distinct().Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>The longest common prefix of the candidates (what Tab inserts when there are several).</summary>
    public static string CommonPrefix(IReadOnlyList<string> candidates)
    {
        if (candidates.Count == 0) return "";
        var prefix = candidates[0];
        foreach (var c in candidates.Skip(1))
        {
            int n = 0;
            while (n < prefix.Length && n < c.Length && char.ToLowerInvariant(prefix[n]) == char.ToLowerInvariant(c[n])) n++;
            prefix = prefix[..n];
        }
        return prefix;
    }

    private static IEnumerable<string> ArgumentNames(ArgumentKind kind, CompletionSource.Snapshot names) => kind switch
    {
        ArgumentKind.Command => CommandCatalog.All.Select(c => c.Verb),
        ArgumentKind.Architecture => names.Architectures,
        ArgumentKind.Model => names.Models,
        ArgumentKind.Job => names.Jobs, // ids and the models of jobs: not every model has one
        ArgumentKind.Corpus => names.Corpora,
        _ => [],
    };

    /// <summary>The values of a key this command takes, where they are known: names from the server or the catalog's fixed words; else none.</summary>
    private static string[] Values(CommandSpec spec, string typedKey, List<string> keys, CompletionSource.Snapshot names)
    {
        var key = typedKey.ToLowerInvariant();
        if (CommandCatalog.TrainingAliases.TryGetValue(key, out var real) && keys.Contains(real)) key = real;
        if (!keys.Contains(key)) return [];
        return key switch
        {
            "corpus" => names.Corpora,
            "init_from" => names.Models,
            "optimizer" => names.Optimizers,
            _ when names.YesNoKeys.Contains(key) => CommandCatalog.YesNo,
            _ => CommandCatalog.KnownValues(spec.Verb, key),
        };
    }

    private static IEnumerable<string> Keys(CommandSpec spec, List<CommandParser.Token> tokens, CompletionSource.Snapshot names)
    {
        var keys = spec.Keys ?? [];
        if (spec.Verb == "train" && TrainedArchitecture(tokens) is { } arch && names.HyperParameters.TryGetValue(arch, out var hyper))
            keys = [.. hyper, .. keys];
        return keys;
    }

    /// <summary>A train's architecture: the word after train, else that of the recipe= it names (train recipe=lesson n_hidden=…).</summary>
    private static string? TrainedArchitecture(List<CommandParser.Token> tokens)
    {
        if (tokens.Count > 1 && !tokens[1].Text.Contains('=')) return tokens[1].Value;
        var recipe = tokens.Skip(1).Select(t => t.Text.Split('=', 2)).FirstOrDefault(kv => kv.Length == 2 && kv[0].Equals("recipe", StringComparison.OrdinalIgnoreCase));
        return TrainingRecipe.Named(recipe?[1])?.Architecture;
    }
}
