using CharRnn.Protos.V1;

namespace CharRnn.Tui.Views;

/// <summary>
/// The Models form's corpus choices: the line under its field that names the server's corpora (uploads
/// included), so that a user at the form sees what there is to train on, and Tab's completion of a name typed
/// in part, as the command line completes one.
/// </summary>
public static class CorpusChoices
{
    /// <summary>
    /// What the line under the field says, cut to <paramref name="width"/>: the corpora there are to train on, after
    /// what is wrong with <paramref name="typed"/> when it is not one of them (the server still has the last word:
    /// it refuses Train with its reason).
    /// </summary>
    public static string Line(string typed, IReadOnlyList<CorpusInfo>? corpora, int width)
    {
        if (width <= 0) return "";
        if (corpora == null) return Cut("corpora: not listed yet", width);
        var named = corpora.FirstOrDefault(c => c.Name == typed);
        var lead = named switch
        {
            null when Usable(corpora).Any(n => n.StartsWith(typed, StringComparison.Ordinal)) => "", // typed in part: Tab completes it
            null => $"'{typed}' is not listed; ",
            { Available: true } => "",
            _ when named.Sha256.Length > 0 => $"{typed}: fetched on first use; ",
            _ => $"{typed} is not available ({named.Description}); ",
        };
        // Those that start with what is typed first: the names Tab would complete it to.
        var names = Usable(corpora).OrderBy(n => n.StartsWith(typed, StringComparison.Ordinal) ? 0 : 1).ToList();
        if (names.Count == 0) return Cut(lead + "no corpora listed", width);
        // As many names as fit, then how many more: the field's Tab completes any of them.
        for (var shown = names.Count; shown > 0; shown--)
        {
            var line = lead + "corpora: " + string.Join(", ", names.Take(shown)) + (shown < names.Count ? $" +{names.Count - shown} more" : "");
            if (line.Length <= width) return line;
        }
        return Cut(lead.Length > 0 ? lead.TrimEnd(' ', ';') : $"{names.Count} corpora", width); // what is wrong matters more than the names
    }

    /// <summary>
    /// <paramref name="typed"/> completed as far as the corpora starting with it agree (the whole name when one
    /// does), or null when that adds nothing: Tab then moves on, as it does from every other field.
    /// </summary>
    public static string? Complete(string typed, IReadOnlyList<CorpusInfo>? corpora)
    {
        var matches = Usable(corpora ?? []).Where(n => n.StartsWith(typed, StringComparison.Ordinal)).ToList();
        if (matches.Count == 0) return null;
        var common = matches.Aggregate((a, b) => a[..a.Zip(b).TakeWhile(p => p.First == p.Second).Count()]);
        return common.Length > typed.Length ? common : null;
    }

    /// <summary>
    /// Tab again on a whole name (Shift+Tab: back), as shells cycle: the next name that starts with <paramref name="stem"/>
    /// (what was typed before Tab completed it), in the order the command line lists its choices, round to the first; on
    /// a part of several names (nothing more to complete), Tab gives the first of them. Null when there is no other name:
    /// Tab then moves on, as it does from every other field, and Shift+Tab back from a part.
    /// </summary>
    public static string? Cycle(string stem, string current, IReadOnlyList<CorpusInfo>? corpora, bool back)
    {
        var names = Usable(corpora ?? []).Distinct().Order(StringComparer.Ordinal).ToList();
        var cycle = names.Where(n => n.StartsWith(stem, StringComparison.Ordinal)).ToList();
        var at = cycle.IndexOf(current);
        if (at < 0)
        {
            var completing = names.Where(n => n.StartsWith(current, StringComparison.Ordinal)).ToList();
            return !back && completing.Count > 1 ? completing[0] : null;
        }
        return cycle.Count > 1 ? cycle[(at + (back ? cycle.Count - 1 : 1)) % cycle.Count] : null;
    }

    /// <summary>The names a job can train on: the text is here, or (a known corpus) fetched on first use.</summary>
    private static IEnumerable<string> Usable(IEnumerable<CorpusInfo> corpora) =>
        corpora.Where(c => c.Available || c.Sha256.Length > 0).Select(c => c.Name);

    private static string Cut(string text, int width) => text.Length <= width ? text : text[..Math.Max(0, width - 1)] + "…";
}
