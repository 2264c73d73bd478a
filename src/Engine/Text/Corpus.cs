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
        return new Corpus(name, text, HexSha256(bytes));
    }

    public static string HexSha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}

/// <summary>A corpus could not be found, fetched or read; the message says what to do.</summary>
public sealed class CorpusException(string message) : Exception(message);
