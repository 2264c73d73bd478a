using CharRnn.Engine.Text;

namespace CharRnn.Engine.Tests;

public class VocabularyTests
{
    [Fact]
    public void Padding_is_index_zero_and_characters_follow_in_ordinal_order()
    {
        var v = Vocabulary.Build("cab\0ba");
        Assert.Equal(["\0", "a", "b", "c"], v.Symbols);
        Assert.Equal(new long[] { 0, 2, 2, 1 }, v.Counts);
        Assert.Equal([3, 1, 2], v.Encode("cab"));
        Assert.Equal("cab", v.Decode([3, 1, 2]));
    }

    [Fact]
    public void Lowercasing_applies_to_building_and_encoding()
    {
        var v = Vocabulary.Build("AbC", lowercase: true);
        Assert.Equal(["\0", "a", "b", "c"], v.Symbols);
        Assert.Equal(v.Encode("abc"), v.Encode("ABC"));
    }

    [Fact]
    public void A_lowercasing_vocabularys_error_names_the_characters_as_sent()
    {
        var v = Vocabulary.Build("abc xyz", lowercase: true);
        var e = Assert.Throws<UnknownCharactersException>(() => v.Encode("\u03A9xyz"));
        Assert.Contains("'\u03A9' (U+03A9)", e.Message);
        Assert.DoesNotContain("U+03C9", e.Message); // 'ω', which the caller never sent
    }

    [Fact]
    public void Rare_characters_map_to_the_unknown_symbol_with_min_freq()
    {
        var v = Vocabulary.Build("aaabbbz", minFrequency: 2);
        Assert.Equal(["\0", Vocabulary.Unknown, "a", "b"], v.Symbols);
        Assert.Equal([2, 3, 1, 1], v.Encode("abzq"));
    }

    [Fact]
    public void The_unknown_symbols_count_includes_the_corpus_own_U_FFFD_chars_common_or_rare()
    {
        // U+FFFD twice (as common as min_freq) and z once: all three are encoded as the unknown symbol, so all three are its count.
        var common = Vocabulary.Build("aaabbb\uFFFD\uFFFDz", minFrequency: 2);
        Assert.Equal(["\0", Vocabulary.Unknown, "a", "b"], common.Symbols);
        Assert.Equal(new long[] { 0, 3, 3, 3 }, common.Counts);
        Assert.Equal(3, common.Encode("aaabbb\uFFFD\uFFFDz").Count(id => id == 1));
        // Rarer than min_freq, it was counted already; the counts still add up to the corpus's chars.
        var rare = Vocabulary.Build("aaabbb\uFFFDz", minFrequency: 2);
        Assert.Equal(new long[] { 0, 2, 3, 3 }, rare.Counts);
    }

    [Fact]
    public void A_min_freq_that_keeps_fewer_than_2_characters_is_refused_naming_the_largest_that_keeps_2()
    {
        // a 4 times, b 3, c once: 4 keeps a alone; 3, the second commonest's count, keeps a and b.
        var e = Assert.Throws<MinFrequencyException>(() => Vocabulary.Build("aaaabbbc", minFrequency: 4));
        Assert.Contains("leaves 1 of the corpus's 3 distinct character(s) known", e.Message);
        Assert.EndsWith("use min_freq 3 or less, which keeps at least 2.", e.Message);
        Assert.Equal(["\0", Vocabulary.Unknown, "a", "b"], Vocabulary.Build("aaaabbbc", minFrequency: 3).Symbols);
    }

    [Fact]
    public void A_refused_min_freq_whose_fix_is_1_says_1_not_1_or_less()
    {
        var e = Assert.Throws<MinFrequencyException>(() => Vocabulary.Build("aaab", minFrequency: 2));
        Assert.EndsWith("use min_freq 1, which keeps every character.", e.Message); // below 1 is not allowed
    }

    [Fact]
    public void Unknown_characters_without_an_unknown_symbol_are_named_in_the_error()
    {
        var v = Vocabulary.Build("abc");
        var e = Assert.Throws<UnknownCharactersException>(() => v.Encode("abxyx"));
        Assert.Contains("'x' (U+0078)", e.Message);
        Assert.Contains("'y' (U+0079)", e.Message);
        Assert.Equal(2, e.Characters.Count);
        // One that would move the terminal's cursor is named, not printed.
        var crlf = Assert.Throws<UnknownCharactersException>(() => v.Encode("ab\r\n\u0007"));
        Assert.Contains("carriage return (U+000D), line feed (U+000A), control character (U+0007)", crlf.Message);
        Assert.DoesNotContain('\r', crlf.Message);
    }

    [Fact]
    public void Characters_outside_the_basic_plane_are_single_symbols()
    {
        var v = Vocabulary.Build("a😀b😀");
        Assert.Equal(4, v.Size);
        Assert.Equal("😀", v.Decode(v.Encode("😀")));
        Assert.Single(v.Encode("😀"));
    }
}
