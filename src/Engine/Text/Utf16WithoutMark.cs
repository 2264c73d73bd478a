using System.Globalization;

namespace CharRnn.Engine.Text;

/// <summary>
/// A guess that a text's first bytes are UTF-16 without its byte-order mark where its NULs alone do not say so
/// (<see cref="NulInCorpus"/>'s guess fits ASCII): Cyrillic or Greek, whose every other byte is its block's (привет is
/// 3F 04 40 04 …, valid UTF-8 with a U+0004 after each letter), or CJK (中文 is 2D 4E 87 65, not UTF-8, refused by the
/// offset of its first bad byte alone). The bytes read as UTF-16 in that order are text: letters, marks, punctuation,
/// spaces, no control char but tab and line breaks, no unpaired surrogate, nothing unassigned or private; read in the
/// other order they are not, or their high bytes spread where this order's keep to one or two blocks.
/// </summary>
internal static class Utf16WithoutMark
{
    /// <summary>
    /// For bytes that are not UTF-8: "UTF-16LE" or "UTF-16BE" where they read as text in that order only, or in both
    /// and every other byte keeps to a block in that one; null otherwise. A text in a one-byte encoding (Latin-1,
    /// Windows-1252) has no control byte but tab and line breaks, so is never taken for UTF-16.
    /// </summary>
    internal static string? InBytes(ReadOnlySpan<byte> start) => Guess(start, byTextAlone: true);

    /// <summary>
    /// For valid UTF-8 with a NUL in it (<paramref name="sample"/>: its first chars): the UTF-16 whose every other
    /// byte keeps to a block, where the chars, each a byte, read as text in it. Readable text in one order only is
    /// not enough here: ASCII with a stray NUL reads as CJK in either.
    /// </summary>
    internal static string? InText(string sample)
    {
        if (sample.Any(c => c > 0xFF)) return null; // a char beyond a byte: UTF-8 that UTF-16 is not
        return Guess(sample.Select(c => (byte)c).ToArray(), byTextAlone: false);
    }

    /// <summary>What the refusal says it saw: "its bytes read as text in UTF-16LE, two to a character".</summary>
    internal static string Clue(string encoding) => $"its bytes read as text in {encoding}, two to a character";

    private static string? Guess(ReadOnlySpan<byte> start, bool byTextAlone)
    {
        var pairs = Math.Min(start.Length, NulInCorpus.SampleLength) / 2;
        if (pairs < 4) return null;
        var sample = start[..(2 * pairs)];
        if (!HasControlByte(sample)) return null;
        var (little, big) = (Order.Of(sample, bigEndian: false), Order.Of(sample, bigEndian: true));
        if (Fits(little, big, byTextAlone)) return "UTF-16LE";
        if (Fits(big, little, byTextAlone)) return "UTF-16BE";
        return null;
    }

    private static bool Fits(Order order, Order other, bool byTextAlone) =>
        order.ReadsAsText && (byTextAlone && !other.ReadsAsText || order.KeepsToABlock && !(other.ReadsAsText && other.KeepsToABlock));

    private static bool HasControlByte(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r')) return true;
        return false;
    }

    /// <summary>The sample read as UTF-16 in one byte order.</summary>
    private readonly record struct Order(bool ReadsAsText, bool KeepsToABlock)
    {
        public static Order Of(ReadOnlySpan<byte> sample, bool bigEndian)
        {
            var units = new char[sample.Length / 2];
            for (var i = 0; i < units.Length; i++)
                units[i] = (char)(bigEndian ? sample[2 * i] << 8 | sample[2 * i + 1] : sample[2 * i + 1] << 8 | sample[2 * i]);
            var blocks = units.Select(u => u >> 8).Where(b => b != 0).Distinct().Count(); // 0: ASCII, spaces and line breaks between
            var lows = units.Select(u => u & 0xFF).Distinct().Count();
            return new Order(AreText(units), blocks is 1 or 2 && lows >= 2 * blocks);
        }

        private static bool AreText(char[] units)
        {
            for (var i = 0; i < units.Length; i++)
            {
                var u = units[i];
                if (char.IsHighSurrogate(u))
                {
                    if (i == units.Length - 1) continue; // the sample ends inside a pair
                    if (!char.IsLowSurrogate(units[++i])) return false;
                    continue;
                }
                var category = CharUnicodeInfo.GetUnicodeCategory(u);
                if (category is UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse) return false;
                if (category == UnicodeCategory.Control && u is not ('\t' or '\n' or '\r')) return false;
            }
            return true;
        }
    }
}
