using System.Text;
using CharRnn.Engine.Text;

namespace CharRnn.Engine.Sampling;

/// <summary>
/// A stop string: a generation ends as soon as the text it generated ends with it, the match
/// included. Only generated text counts, not a prime. One per generation: it keeps the tail of
/// what was generated. The server's Generate and `charrnn generate --stop` both use it, and refuse
/// the same strings with the same words.
/// </summary>
public sealed class StopString(string stop)
{
    /// <summary>UTF-16 code units at most: every generated char is checked against a tail twice its length.</summary>
    public const int MaxLength = 1000;

    private string _tail = "";

    /// <summary>Takes one generated char's text; true once the text generated so far ends with the stop string (never for an empty one).</summary>
    public bool Reached(string generated)
    {
        if (stop.Length == 0) return false;
        _tail += generated;
        if (_tail.Length > stop.Length * 2) _tail = _tail[^stop.Length..];
        return _tail.EndsWith(stop, StringComparison.Ordinal);
    }

    /// <summary>Why <paramref name="stop"/> is too long ("has 1,200 UTF-16 code units; …"), for the caller to put its own name before; null when it is not.</summary>
    public static string? TooLong(string stop) =>
        stop.Length > MaxLength ? $"has {stop.Length} UTF-16 code units; use at most {MaxLength}." : null;

    /// <summary>
    /// The characters of <paramref name="stop"/> the model never generates, as words for the caller to put its own
    /// name before and its own hint after; null when there are none. Such a string could never match: the
    /// generation would run to its length instead.
    /// </summary>
    public static string? NeverGenerated(string stop, Vocabulary vocabulary)
    {
        // NUL is in every vocabulary as padding, and never generated; nor is the unknown symbol of a
        // min_freq above 1 (GenerationSession masks both).
        var never = stop.EnumerateRunes().Where(r => r.Value == 0 || !vocabulary.Contains(r) || (vocabulary.HasUnknown && r.ToString() == Vocabulary.Unknown))
            .Distinct().ToList();
        if (never.Count == 0) return null;
        var shown = string.Join(", ", never.Take(10).Select(Vocabulary.Describe));
        var lowercase = vocabulary.Lowercase && never.Any(Rune.IsUpper) ? " (it was trained on lowercased text)" : "";
        return $"has {never.Count} character(s) this model never generates{lowercase}: {shown}; it could never match.";
    }
}
