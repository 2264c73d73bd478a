using System.Text;
using CharRnn.Engine.Text;

namespace CharRnn.Engine.Tests;

/// <summary>KnownText: a text without the characters its vocabulary cannot encode, nor padding (eval and generate --skip-unknown, the server's UNKNOWN_CHARS_SKIP).</summary>
public class KnownTextTests
{
    [Fact]
    public void Unknown_chars_are_left_out_and_counted_in_the_order_first_met_and_the_rest_encodes()
    {
        var v = Vocabulary.Build("abc \n");
        var known = KnownText.Of(v, "ab\U0001F600c x\nxa\U0001F600\0");
        Assert.Equal("abc \na", known.Text); // NUL is in the vocabulary as padding, not as text a model reads: left out too
        Assert.Equal([new SkippedCharacter(new Rune(0x1F600), 2), new SkippedCharacter(new Rune('x'), 2), new SkippedCharacter(new Rune(0), 1)], known.Skipped);
        Assert.Equal(5, known.SkippedCount);
        Assert.Equal(6, v.Encode(known.Text).Length);
    }

    [Fact]
    public void A_lowercase_vocabulary_keeps_what_it_reads_lowercased_and_one_with_an_unknown_symbol_keeps_everything()
    {
        var lower = KnownText.Of(Vocabulary.Build("abc", lowercase: true), "AbC\u03A9");
        Assert.Equal(("AbC", 1), (lower.Text, lower.SkippedCount)); // the text as written: the model lowercases it when scoring
        Assert.Equal(new Rune(0x03A9), lower.Skipped.Single().Character); // named as sent, not as 'ω'

        var withUnknown = Vocabulary.Build("aaabbbc", minFrequency: 2);
        Assert.True(withUnknown.HasUnknown);
        var all = KnownText.Of(withUnknown, "abcz"); // c (rare) and z (never seen) encode as the unknown symbol
        Assert.Equal(("abcz", 0), (all.Text, all.SkippedCount));
        var padded = KnownText.Of(withUnknown, "a\0b\0"); // padding is not mapped to the unknown symbol: it is left out
        Assert.Equal(("ab", 2), (padded.Text, padded.SkippedCount));
        Assert.Equal(new Rune(0), padded.Skipped.Single().Character);
    }
}
