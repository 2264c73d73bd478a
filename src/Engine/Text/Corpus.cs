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
    /// The text as read, kept only where its "\r\n" were made "\n" (else null): a model trained on it before line
    /// endings were normalised resumes on the text it learned from (its positions and split count those chars).
    /// </summary>
    public string? TextBeforeLineEndings { get; private init; }

    public string Name { get; }
    public string Text { get; }
    /// <summary>SHA-256 of the file's bytes, lower-case hex: the corpus fingerprint stored in checkpoints.</summary>
    public string Sha256 { get; }
    public int Length => Text.Length;

    public static Corpus FromFile(string path, string? name = null)
    {
        if (!File.Exists(path))
            throw new CorpusException($"Corpus file '{path}' does not exist.");
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
            throw new CorpusException($"Corpus '{source}' is not valid UTF-8 (first bad byte at offset {e.Index}); save it as UTF-8 text.");
        }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        if (text.Length == 0)
            throw new CorpusException($"Corpus '{source}' is empty; a corpus needs some text to learn from.");
        // The fingerprint stays the file's bytes: a model trained on them before this normalising still matches its corpus.
        var normalised = WithUnixLineEndings(text);
        return new Corpus(name, normalised, HexSha256(bytes)) { TextBeforeLineEndings = ReferenceEquals(normalised, text) ? null : text };
    }

    /// <summary>
    /// "\r\n" as "\n": a file saved on Windows would otherwise teach a model a '\r' before every newline, a
    /// vocabulary character that means nothing. A lone '\r' is kept (it is text, if odd).
    /// </summary>
    public static string WithUnixLineEndings(string text) => text.Contains("\r\n", StringComparison.Ordinal) ? text.Replace("\r\n", "\n", StringComparison.Ordinal) : text;

    /// <summary>This corpus as it was read, line endings and all (itself when nothing was normalised).</summary>
    public Corpus AsRead() => TextBeforeLineEndings is { } raw ? new Corpus(Name, raw, Sha256) : this;

    public static string HexSha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}

/// <summary>A corpus could not be found, fetched or read; the message says what to do.</summary>
public sealed class CorpusException(string message) : Exception(message);
