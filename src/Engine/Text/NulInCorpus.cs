using System.Text;

namespace CharRnn.Engine.Text;

/// <summary>
/// A NUL (U+0000) anywhere in a corpus for a new model is refused: every vocabulary holds it as padding, not text, so
/// a UTF-16 file without its byte-order mark (ASCII with a NUL after every character, which is valid UTF-8) trained
/// silently on "t h e   q u i c". The one rule of charrnn train (<see cref="Training.Trainer.Create"/>,
/// <see cref="Training.Trainer.InitFrom"/>), the server's StartJob and its UploadCorpus, which feeds the text in pieces
/// as they arrive. A model already trained on such text still resumes on it: its checkpoint's fingerprint is of that
/// text, and its vocabulary reads each NUL as padding, as it did.
/// </summary>
public sealed class NulInCorpus
{
    /// <summary>How much of the text's start is kept to tell UTF-16 or UTF-32 read as UTF-8 by where its NULs are.</summary>
    public const int SampleLength = 64;

    private readonly StringBuilder _sample = new(SampleLength);
    private long _line = 1, _column = 1; // of the next character
    private (long Line, long Column)? _first;

    /// <summary>Null when <paramref name="text"/> holds no NUL; else <see cref="Why()"/>.</summary>
    public static string? Why(string text)
    {
        var scan = new NulInCorpus();
        scan.Add(text);
        return scan.Why();
    }

    /// <summary>A NUL was seen, and enough of the text to say what it looks like: refusing now says all there is to say.</summary>
    public bool Decided => _first != null && _sample.Length >= SampleLength;

    /// <summary>The next characters of the text (after any byte-order mark).</summary>
    public void Add(ReadOnlySpan<char> chars)
    {
        foreach (var c in chars)
        {
            if (_sample.Length < SampleLength) _sample.Append(c);
            if (_first != null)
            {
                if (Decided) return;
                continue;
            }
            if (c == '\0') _first = (_line, _column);
            else if (c == '\n') (_line, _column) = (_line + 1, 1);
            else if (!char.IsLowSurrogate(c)) _column++; // a column a code point, as an editor counts one
        }
    }

    /// <summary>
    /// Null without a NUL; else "has a NUL character (U+0000) at line L, column C, which …: " and what to do, the iconv
    /// that converts it where its NULs fall as UTF-16's or UTF-32's would, else how to remove them. The caller puts the
    /// corpus's name before it and ends the sentence.
    /// </summary>
    public string? Why()
    {
        if (_first is not var (line, column)) return null;
        var where = $"has a NUL character (U+0000) at line {line:N0}, column {column:N0}, which every model's vocabulary holds as padding, not as text; ";
        if (LooksLike(_sample.ToString()) is { } encoding) return where + Markless(encoding);
        // Cyrillic in UTF-16LE (привет is 3F 04 40 04 …) is valid UTF-8 too, its NULs only where a space or a line break is.
        if (Utf16WithoutMark.InText(_sample.ToString()) is { } utf16) return where + Markless(utf16, Utf16WithoutMark.Clue(utf16));
        return where + @"remove every NUL from it (tr -d '\000' < FILE > NEW)";
    }

    /// <summary>"its NULs fall where UTF-16LE's would: …; convert it (iconv -f UTF-16LE -t UTF-8)", for <see cref="LooksLike(ReadOnlySpan{byte})"/>'s answer.</summary>
    internal static string Markless(string encoding) => Markless(encoding, $"its NULs fall where {encoding}'s would");

    /// <summary>"<paramref name="clue"/>: it looks like UTF-16LE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-16LE -t UTF-8)".</summary>
    internal static string Markless(string encoding, string clue) =>
        $"{clue}: it looks like {encoding} without its byte-order mark, not UTF-8; convert it (iconv -f {encoding} -t UTF-8)";

    /// <summary>
    /// The encoding without its byte-order mark whose NULs fall where they do in the text's first bytes, <paramref name="start"/>
    /// (its first <see cref="SampleLength"/> read): for text that is not UTF-8 at all, a UTF-16 file with a letter beyond ASCII
    /// (é is E9 00), whose other bytes are not NULs.
    /// </summary>
    internal static string? LooksLike(ReadOnlySpan<byte> start) =>
        LooksLike(Encoding.Latin1.GetString(start[..Math.Min(start.Length, SampleLength)])); // a char a byte, NUL for NUL

    /// <summary>The encoding whose ASCII text, read as UTF-8, has NULs exactly where <paramref name="sample"/> has them.</summary>
    private static string? LooksLike(string sample)
    {
        foreach (var (name, stride, at) in (ReadOnlySpan<(string, int, int)>)[("UTF-32LE", 4, 0), ("UTF-32BE", 4, 3), ("UTF-16LE", 2, 0), ("UTF-16BE", 2, 1)])
        {
            if (sample.Length < 2 * stride) continue; // two characters at least
            var fits = true;
            for (var i = 0; i < sample.Length && fits; i++)
                fits = (sample[i] == '\0') != (i % stride == at);
            if (fits) return name;
        }
        return null;
    }
}
