namespace CharRnn.Engine.Text;

/// <summary>
/// What is wrong with bytes that do not decode as UTF-8, for a corpus's refusal: a file that starts with a UTF-16
/// or UTF-32 byte-order mark (Notepad's "Unicode", PowerShell 5's &gt;) is named as such with the iconv that converts
/// it, where "first bad byte at offset 0" told its user nothing; one without its mark whose NULs fall where UTF-16's or UTF-32's
/// would (<see cref="NulInCorpus"/>'s guess: a UTF-16 file with an é, E9 00) also, and one whose bytes read as UTF-16 text
/// (<see cref="Utf16WithoutMark"/>'s guess: CJK, 中文 is 2D 4E 87 65); any other file, where its first bad byte is.
/// </summary>
public static class NotUtf8
{
    /// <summary>
    /// "is UTF-16 (…), not UTF-8; convert it (iconv -f UTF-16 -t UTF-8) or " or "is not valid UTF-8 (first bad byte
    /// at offset N); ": the caller ends it with its own "save it as UTF-8 text." or "send UTF-8 text.".
    /// </summary>
    /// <param name="start">The text's first bytes (<see cref="NulInCorpus.SampleLength"/> are enough; fewer where it has fewer).</param>
    /// <param name="badOffset">Where in the whole text the decoder found its first bad byte.</param>
    public static string Why(ReadOnlySpan<byte> start, long badOffset) => Encoding(start) switch
    {
        ({ } name, var mark) => $"is {name} (its first bytes, {mark}, are {name}'s byte-order mark), not UTF-8; convert it (iconv -f {name} -t UTF-8) or ",
        _ when NulInCorpus.LooksLike(start) is { } markless => $"is not valid UTF-8 (first bad byte at offset {badOffset}); {NulInCorpus.Markless(markless)} or ",
        _ when Utf16WithoutMark.InBytes(start) is { } utf16 => $"is not valid UTF-8 (first bad byte at offset {badOffset}); {NulInCorpus.Markless(utf16, Utf16WithoutMark.Clue(utf16))} or ",
        _ => $"is not valid UTF-8 (first bad byte at offset {badOffset}); ",
    };

    private static (string? Name, string Mark) Encoding(ReadOnlySpan<byte> start) => start switch
    {
        [0xFF, 0xFE, 0, 0, ..] or [0, 0, 0xFE, 0xFF, ..] => ("UTF-32", Hex(start[..4])),
        [0xFF, 0xFE, ..] or [0xFE, 0xFF, ..] => ("UTF-16", Hex(start[..2])),
        _ => (null, ""),
    };

    private static string Hex(ReadOnlySpan<byte> bytes) => string.Join(" ", bytes.ToArray().Select(b => b.ToString("X2")));
}
