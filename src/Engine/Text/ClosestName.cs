namespace CharRnn.Engine.Text;

/// <summary>
/// The known name a mistyped one most likely meant, for the "did you mean" of an error message:
/// "stateful-lsmt" → "stateful-lstm" (a slip of a letter or two, or two letters swapped),
/// "LSTM" → "lstm" (case), "lstm" → "stateful-lstm" (one part of a longer name).
/// None when nothing is that close, or two names are equally close: a wrong guess misleads more than none.
/// </summary>
public static class ClosestName
{
    public static string? To(string typed, IEnumerable<string> names)
    {
        var known = names.Where(n => !string.IsNullOrEmpty(n)).Distinct(StringComparer.Ordinal).ToList();
        if (typed.Length == 0 || known.Contains(typed, StringComparer.Ordinal)) return null;

        var sameLetters = known.Where(n => string.Equals(n, typed, StringComparison.OrdinalIgnoreCase)).ToList();
        if (sameLetters.Count > 0) return Only(sameLetters);
        if (typed.Length < 2) return null; // one letter is one edit from every other short name

        // A slip costs one edit per letter; short names allow one, longer ones a third of their letters,
        // so that "foo" is not taken for "for" in a list of commands and "gne" still finds "gen".
        var allowed = Math.Max(1, typed.Length / 3);
        var scored = known.Select(n => (Name: n, Distance: Distance(typed.ToLowerInvariant(), n.ToLowerInvariant())))
            .Where(s => s.Distance <= Math.Min(allowed, Math.Max(1, s.Name.Length / 3))).ToList();
        if (scored.Count > 0)
        {
            var best = scored.Min(s => s.Distance);
            return Only(scored.Where(s => s.Distance == best).Select(s => s.Name).ToList());
        }

        // A part of a longer name ("lstm" for "stateful-lstm"): the shortest such name, if only one is.
        var containing = known.Where(n => Parts(n).Contains(typed, StringComparer.OrdinalIgnoreCase)).ToList();
        if (containing.Count == 0 || typed.Length < 3) return null;
        var shortest = containing.Min(n => n.Length);
        return Only(containing.Where(n => n.Length == shortest).ToList());
    }

    /// <summary>" Did you mean 'x'?" to append to a message, or nothing.</summary>
    public static string Suggestion(string typed, IEnumerable<string> names) =>
        To(typed, names) is { } name ? $" Did you mean '{name}'?" : "";

    private static string? Only(List<string> names) => names.Count == 1 ? names[0] : null;

    private static string[] Parts(string name) => name.Split(['-', '_', '.', '/'], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Edits (insert, delete, replace, swap of two neighbours) from one string to the other (optimal string alignment).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
