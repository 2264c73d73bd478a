using System.Security.Cryptography;
using System.Text;

namespace CharRnn.Engine.Text;

/// <summary>
/// What a corpus file would load as (its length in UTF-16 units as <see cref="Corpus.Length"/>, in code points as
/// <see cref="Corpus.CodePoints"/>, and its SHA-256), measured by streaming the file rather than holding its text: a
/// server lists corpora it has not loaded.
/// </summary>
public sealed record CorpusFingerprint(long Characters, string Sha256, long CodePoints)
{
    /// <summary>Reads <paramref name="path"/> once; the same errors as <see cref="Corpus.FromFile"/> for empty or invalid UTF-8.</summary>
    public static CorpusFingerprint Measure(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var decoder = new UTF8Encoding(false, throwOnInvalidBytes: true).GetDecoder();
        var bytes = new byte[1 << 16];
        byte[] start = [];
        var chars = new char[(1 << 16) + 2];
        long length = 0, offset = 0, lowSurrogates = 0;
        bool first = true, afterCr = false;
        int read;
        do
        {
            read = stream.Read(bytes);
            if (offset == 0) start = bytes[..Math.Min(read, NulInCorpus.SampleLength)]; // where a byte-order mark would be, and NULs fall
            sha.AppendData(bytes, 0, read);
            int count;
            try { count = decoder.GetChars(bytes, 0, read, chars, 0, flush: read == 0); }
            catch (DecoderFallbackException e)
            {
                throw new CorpusException($"Corpus '{path}' {NotUtf8.Why(start, offset + Math.Max(e.Index, 0))}save it as UTF-8 text.");
            }
            foreach (var c in chars.AsSpan(0, count))
                if (char.IsLowSurrogate(c)) lowSurrogates++; // a pair's second half: no character of its own
            for (var i = 0; i < count; i++) // "\r\n" loads as "\n" (see Corpus.WithUnixLineEndings), a pair split across reads too
            {
                if (afterCr && chars[i] == '\n') length--;
                afterCr = chars[i] == '\r';
            }
            if (first && count > 0)
            {
                if (chars[0] == '\uFEFF') count--; // Corpus drops a leading BOM
                first = false;
            }
            length += count;
            offset += read;
        } while (read > 0);
        if (length == 0) throw new CorpusException($"Corpus '{path}' is empty; a corpus needs some text to learn from.");
        return new CorpusFingerprint(length, Convert.ToHexStringLower(sha.GetHashAndReset()), length - lowSurrogates);
    }
}
