using System.Text;
using CharRnn.Engine.Text;

namespace CharRnn.Engine.Tests;

public class NulInCorpusTests
{
    private const string Padding = "has a NUL character (U+0000) at line {0}, column {1}, which every model's vocabulary holds as padding, not as text; ";
    private const string Lines = "the quick brown fox\njumps over the lazy dog\n";
    private const string Cyrillic = "привет мир\nкак дела\n";

    public static TheoryData<string, string> Texts => new()
    {
        // A file saved as UTF-16 or UTF-32 without its byte-order mark: its ASCII is valid UTF-8 with NULs between.
        { Read(Encoding.Unicode, Lines), string.Format(Padding, 1, 2) + "its NULs fall where UTF-16LE's would: it looks like UTF-16LE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-16LE -t UTF-8)" },
        { Read(Encoding.BigEndianUnicode, Lines), string.Format(Padding, 1, 1) + "its NULs fall where UTF-16BE's would: it looks like UTF-16BE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-16BE -t UTF-8)" },
        { Read(new UTF32Encoding(bigEndian: false, byteOrderMark: false), Lines), string.Format(Padding, 1, 2) + "its NULs fall where UTF-32LE's would: it looks like UTF-32LE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-32LE -t UTF-8)" },
        { Read(new UTF32Encoding(bigEndian: true, byteOrderMark: false), Lines), string.Format(Padding, 1, 1) + "its NULs fall where UTF-32BE's would: it looks like UTF-32BE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-32BE -t UTF-8)" },
        // Cyrillic in UTF-16 without its mark is valid UTF-8 too (привет is 3F 04 40 04 …), its NULs only at its spaces and line
        // breaks' high bytes: every other byte keeps to the Cyrillic block. It said to remove the NULs, as from a stray one.
        { Read(Encoding.Unicode, Cyrillic), string.Format(Padding, 1, 14) + "its bytes read as text in UTF-16LE, two to a character: it looks like UTF-16LE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-16LE -t UTF-8)" },
        { Read(Encoding.BigEndianUnicode, Cyrillic), string.Format(Padding, 1, 13) + "its bytes read as text in UTF-16BE, two to a character: it looks like UTF-16BE without its byte-order mark, not UTF-8; convert it (iconv -f UTF-16BE -t UTF-8)" },
        // A stray NUL in UTF-8 text, Cyrillic or ASCII whose line breaks pair with letters as UTF-16 would read them: no guess.
        { Cyrillic.Replace(' ', '\0'), string.Format(Padding, 1, 7) + @"remove every NUL from it (tr -d '\000' < FILE > NEW)" },
        { "the cat\nsat on\0 the mat\nand the dog sat\non the log\n", string.Format(Padding, 2, 7) + @"remove every NUL from it (tr -d '\000' < FILE > NEW)" },
        // One stray NUL: its line and column (a code point a column, an emoji beyond U+FFFF one), and how to remove it.
        { "abc\ndé😀f\0gh", string.Format(Padding, 2, 5) + @"remove every NUL from it (tr -d '\000' < FILE > NEW)" },
        { new string('\0', 100), string.Format(Padding, 1, 1) + @"remove every NUL from it (tr -d '\000' < FILE > NEW)" },
    };

    private static string Read(Encoding encoding, string text) => Encoding.UTF8.GetString(encoding.GetBytes(text));

    [Theory]
    [MemberData(nameof(Texts))]
    public void A_nul_is_refused_naming_where_the_first_is_and_the_iconv_for_text_that_looks_like_utf16_or_utf32(string text, string why)
    {
        Assert.Equal(why, NulInCorpus.Why(text));
        // In pieces, as an upload arrives: the same answer, decided once the NUL and the sample's characters are in.
        var scan = new NulInCorpus();
        foreach (var piece in text.Chunk(3)) scan.Add(piece);
        Assert.Equal(why, scan.Why());
        Assert.Equal(text.Length >= NulInCorpus.SampleLength, scan.Decided);
    }

    [Fact]
    public void Text_without_a_nul_passes()
    {
        Assert.Null(NulInCorpus.Why(Lines + "😀"));
    }
}
