using System.Globalization;
using System.Text;

namespace CharRnn.Engine.Text;

/// <summary>
/// The characters a model knows. Index 0 is the padding symbol "\0", as in the lesson; with
/// min_freq &gt; 1, index 1 is the unknown symbol that rare characters map to. A "character" is a
/// Unicode scalar value (a Rune), so text outside the Basic Multilingual Plane works too.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>
    /// A character as an error message names it: 'a' (U+0061), or for one that would move the
    /// terminal's cursor or vanish, its name alone: carriage return (U+000D).
    /// </summary>
    public static string Describe(Rune r) => r.Value switch
    {
        '\r' => "carriage return (U+000D)",
        '\n' => "line feed (U+000A)",
        '\t' => "tab (U+0009)",
        _ when Rune.IsControl(r) || Rune.GetUnicodeCategory(r) is UnicodeCategory.Format => $"control character (U+{r.Value:X4})",
        _ => $"'{r}' (U+{r.Value:X4})",
    };

    public const string Padding = "\0";
    public const string Unknown = "\uFFFD";

    private readonly string[] _symbols;
    private readonly Dictionary<int, int> _indexOfRune;

    public Vocabulary(IReadOnlyList<string> symbols, bool lowercase, bool hasUnknown, IReadOnlyList<long>? counts = null)
    {
        if (symbols.Count == 0 || symbols[0] != Padding)
            throw new ArgumentException("A vocabulary's first symbol must be the padding symbol \"\\0\".", nameof(symbols));
        if (hasUnknown && (symbols.Count < 2 || symbols[1] != Unknown))
            throw new ArgumentException("A vocabulary with an unknown symbol keeps it at index 1.", nameof(symbols));
        _symbols = symbols.ToArray();
        Lowercase = lowercase;
        HasUnknown = hasUnknown;
        Counts = counts?.ToArray() ?? new long[_symbols.Length];
        if (Counts.Count != _symbols.Length)
            throw new ArgumentException($"counts has {Counts.Count} entries for {_symbols.Length} symbols.", nameof(counts));
        _indexOfRune = new Dictionary<int, int>(_symbols.Length);
        for (int i = 0; i < _symbols.Length; i++)
        {
            if (!Rune.TryGetRuneAt(_symbols[i], 0, out var rune) || rune.Utf16SequenceLength != _symbols[i].Length)
                throw new ArgumentException($"Vocabulary symbol {i} (\"{_symbols[i]}\") is not exactly one character.", nameof(symbols));
            if (!_indexOfRune.TryAdd(rune.Value, i)) // in words: a raw tab or line feed would show as blank space
                throw new ArgumentException($"symbols {_indexOfRune[rune.Value]} and {i} are both {Describe(rune)}; each character may appear once.", nameof(symbols));
        }
    }

    /// <summary>Builds the vocabulary of a text: padding, optional unknown, then characters in ordinal order.</summary>
    public static Vocabulary Build(string text, bool lowercase = false, int minFrequency = 1)
    {
        if (minFrequency < 1) throw new ArgumentOutOfRangeException(nameof(minFrequency), minFrequency, "min_freq must be at least 1.");
        var normalized = lowercase ? text.ToLowerInvariant() : text;
        var counts = new Dictionary<int, long>();
        foreach (var rune in normalized.EnumerateRunes())
            counts[rune.Value] = counts.GetValueOrDefault(rune.Value) + 1;
        counts.Remove(0); // "\0" in the text is padding, not a character of its own
        var kept = counts.Where(kv => kv.Value >= minFrequency).OrderBy(kv => kv.Key).ToList();
        var hasUnknown = minFrequency > 1;
        // Every corpus char that encodes as the unknown symbol: the rare ones, and the corpus's own U+FFFD however common.
        var rare = counts.Where(kv => kv.Value < minFrequency || (hasUnknown && kv.Key == Unknown[0])).Sum(kv => kv.Value);
        if (hasUnknown && kept.Count(kv => kv.Key != Unknown[0]) < 2) throw TooRare(counts, minFrequency);
        var symbols = new List<string> { Padding };
        var symbolCounts = new List<long> { 0 };
        if (hasUnknown)
        {
            kept.RemoveAll(kv => kv.Key == Unknown[0]);
            symbols.Add(Unknown);
            symbolCounts.Add(rare);
        }
        foreach (var (rune, count) in kept)
        {
            symbols.Add(char.ConvertFromUtf32(rune));
            symbolCounts.Add(count);
        }
        return new Vocabulary(symbols, lowercase, hasUnknown, symbolCounts);
    }

    /// <summary>
    /// A min_freq that leaves fewer than 2 characters known trains a model that can only say "unknown", and
    /// scores 100% accuracy doing it: refused, with the largest min_freq that keeps 2 (the second commonest's count).
    /// </summary>
    private static MinFrequencyException TooRare(Dictionary<int, long> counts, int minFrequency)
    {
        var byCount = counts.Where(kv => kv.Key != Unknown[0]).Select(kv => kv.Value).OrderDescending().ToList();
        var known = byCount.Count(c => c >= minFrequency);
        var fix = byCount.Count < 2 ? "use min_freq 1 (the corpus has too few characters for an unknown symbol)"
            : byCount[1] > 1 ? $"use min_freq {byCount[1]} or less, which keeps at least 2"
            : "use min_freq 1, which keeps every character"; // not "1 or less": below 1 is refused
        return new MinFrequencyException($"min_freq = {minFrequency} leaves {known} of the corpus's {byCount.Count} distinct character(s) known, " +
                                         $"fewer than the 2 a model needs: every other character becomes the unknown symbol, and there is nothing to learn; {fix}.");
    }

    public int Size => _symbols.Length;

    /// <summary>The loss, in nats per char, of guessing every symbol equally likely: what a model that learned nothing scores.</summary>
    public double UniformLoss => Math.Log(Size);
    public IReadOnlyList<string> Symbols => _symbols;
    public bool Lowercase { get; }
    public bool HasUnknown { get; }
    /// <summary>How often each symbol occurs in the corpus the vocabulary was built from.</summary>
    public IReadOnlyList<long> Counts { get; }

    public string Normalize(string text) => Lowercase ? text.ToLowerInvariant() : text;

    public bool Contains(Rune rune) => _indexOfRune.ContainsKey(rune.Value);

    /// <summary>
    /// Encodes text. Characters outside the vocabulary map to the unknown symbol when there is
    /// one; otherwise encoding fails with an error that names them (the documented policy).
    /// </summary>
    public int[] Encode(string text)
    {
        var normalized = Normalize(text);
        var ids = new List<int>(normalized.Length);
        List<Rune>? missing = null;
        foreach (var rune in normalized.EnumerateRunes())
        {
            if (_indexOfRune.TryGetValue(rune.Value, out var id)) ids.Add(id);
            else if (HasUnknown) ids.Add(1);
            else (missing ??= new List<Rune>()).Add(rune);
        }
        if (missing != null) throw new UnknownCharactersException(AsSent(text, missing));
        return ids.ToArray();
    }

    /// <summary>
    /// The characters of <paramref name="text"/> that became the <paramref name="missing"/> ones once
    /// lowercased: an error names what the caller sent ('Ω'), not a character it never sent ('ω').
    /// Worked out only on failure, so encoding a corpus pays nothing for it.
    /// </summary>
    private List<Rune> AsSent(string text, List<Rune> missing)
    {
        if (!Lowercase) return missing;
        var unknown = missing.ToHashSet();
        return text.EnumerateRunes().Where(r => Normalize(r.ToString()).EnumerateRunes().Any(unknown.Contains)).ToList();
    }

    public string Decode(IEnumerable<int> ids)
    {
        var sb = new StringBuilder();
        foreach (var id in ids) sb.Append(this[id]);
        return sb.ToString();
    }

    public string this[int id] => (uint)id < (uint)_symbols.Length
        ? _symbols[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Symbol index must be in [0, {_symbols.Length - 1}].");
}
