using System.Security.Cryptography;
using System.Text;

namespace CharRnn.Engine.Text;

/// <summary>A training text: any valid, non-empty UTF-8 file.</summary>
public sealed class Corpus
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public Corpus(string name, string text, string sha256)
    {
        Name = name;
        Text = text;
        Sha256 = sha256;
    }

    /// <summary>
    /// Where the file's "\r\n" were made "\n": the positions in <see cref="Text"/> of those "\n" (null when there were
    /// none). A model trained on the file before line endings were normalised resumes on the text it learned from
    /// (its positions and split count those '\r'), made again from these: a second copy of the text would double a
    /// large corpus's memory for as long as it is cached, for a rare resume.
    /// </summary>
    private int[]? _newlinesAfterCarriageReturn;

    public string Name { get; }
    public string Text { get; }
    /// <summary>SHA-256 of the file's bytes, lower-case hex: the corpus fingerprint stored in checkpoints.</summary>
    public string Sha256 { get; }
    /// <summary>The text's length in UTF-16 units, what its positions (and GetPassage's offsets) count.</summary>
    public int Length => Text.Length;
    private int? _codePoints;
    /// <summary>The text's length in characters, Unicode code points (what Python's len() counts): what a user reads as "chars".</summary>
    public int CodePoints => _codePoints ??= Text.Length - Text.Count(char.IsLowSurrogate);
    /// <summary>The length of the text as read, before "\r\n" became "\n".</summary>
    public int LengthAsRead => Text.Length + (_newlinesAfterCarriageReturn?.Length ?? 0);

    /// <summary>
    /// The most bytes a text file may have to be read whole (a corpus, eval's and neurons' --text): its text is held as
    /// one string, and .NET's longest string has this many UTF-16 units, which no UTF-8 file of this many bytes can
    /// pass. A larger file (a 1 GiB one) ran out of memory after reading it all, saying nothing of what was wrong.
    /// </summary>
    public const long MaxFileBytes = 0x3FFFFFDF;

    /// <summary>Refuses a file <see cref="MaxFileBytes"/> could not hold, before any of it is read; null when it fits.</summary>
    public static string? TooLarge(string path)
    {
        var bytes = new FileInfo(path).Length;
        return bytes <= MaxFileBytes ? null
            : $"has {bytes:N0} bytes, more than the {MaxFileBytes:N0} (just under 1 GiB) a text read whole may have (it is held in memory as one string); give a part of it";
    }

    public static Corpus FromFile(string path, string? name = null)
    {
        if (!File.Exists(path))
            throw new CorpusException($"Corpus file '{path}' does not exist.");
        if (TooLarge(path) is { } why)
            throw new CorpusException($"Corpus '{path}' {why}.");
        return FromBytes(File.ReadAllBytes(path), name ?? Path.GetFileNameWithoutExtension(path), path);
    }

    /// <summary>Decodes strictly: invalid UTF-8 and empty input are errors, a leading BOM is dropped.</summary>
    public static Corpus FromBytes(byte[] bytes, string name, string source)
    {
        if (bytes.Length == 0)
            throw new CorpusException($"Corpus '{source}' is empty; a corpus needs some text to learn from.");
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new CorpusException($"Corpus '{source}' {NotUtf8.Why(bytes, e.Index)}save it as UTF-8 text.");
        }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        if (text.Length == 0)
            throw new CorpusException($"Corpus '{source}' is empty; a corpus needs some text to learn from.");
        // The fingerprint stays the file's bytes: a model trained on them before this normalising still matches its corpus.
        var positions = NewlinesAfterCarriageReturn(text);
        return new Corpus(name, positions == null ? text : WithUnixLineEndings(text), HexSha256(bytes)) { _newlinesAfterCarriageReturn = positions };
    }

    /// <summary>The positions, in the text with "\r\n" made "\n", of the "\n" that had a '\r' before them; null for none.</summary>
    private static int[]? NewlinesAfterCarriageReturn(string text)
    {
        var at = text.IndexOf("\r\n", StringComparison.Ordinal);
        if (at < 0) return null;
        var positions = new List<int>();
        for (; at >= 0; at = text.IndexOf("\r\n", at + 2, StringComparison.Ordinal))
            positions.Add(at - positions.Count); // each '\r' before it is gone
        return positions.ToArray();
    }

    /// <summary>
    /// <paramref name="text"/> (one to score or trace) with its line endings as <paramref name="vocabulary"/>'s model read its
    /// corpus: "\r\n" as "\n", so a file from the corpus's own source reads as the model learned it, not refused for a '\r'
    /// it never saw (or, with an unknown symbol, each '\r' read as that). Left as it is where the vocabulary has '\r': a
    /// model trained before line endings were made "\n" learned them.
    /// </summary>
    public static string WithLineEndingsAsLearned(Vocabulary vocabulary, string text) =>
        vocabulary.Contains(new Rune('\r')) ? text : WithUnixLineEndings(text);

    /// <summary>
    /// "\r\n" as "\n": a file saved on Windows would otherwise teach a model a '\r' before every newline, a
    /// vocabulary character that means nothing. A lone '\r' is kept (it is text, if odd).
    /// </summary>
    public static string WithUnixLineEndings(string text) => text.Contains("\r\n", StringComparison.Ordinal) ? text.Replace("\r\n", "\n", StringComparison.Ordinal) : text;

    /// <summary>This corpus as it was read, line endings and all (itself when nothing was normalised).</summary>
    public Corpus AsRead()
    {
        if (_newlinesAfterCarriageReturn is not { } positions) return this;
        var raw = new StringBuilder(LengthAsRead);
        var from = 0;
        foreach (var at in positions)
        {
            raw.Append(Text, from, at - from).Append('\r');
            from = at;
        }
        return new Corpus(Name, raw.Append(Text, from, Text.Length - from).ToString(), Sha256);
    }

    public static string HexSha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
