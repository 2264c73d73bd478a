using CharRnn.Tui.Client;

namespace CharRnn.Tui.Tests;

/// <summary>A model's vocabulary as info and charrnn models NAME list it: one visible mark per symbol.</summary>
public class VisibleTextTests
{
    [Theory]
    // A combining accent drew on the char before it: 'e' and U+0301 read as one symbol, 'é', of a list that counts two.
    [InlineData("\0ae\u0301", @"ae\u0301")]
    // A joiner and a variation selector are drawn as nothing.
    [InlineData("\0z\u200d\ufe0f", @"z\u200d\ufe0f")]
    // Regional indicators side by side drew a flag: 🇩🇪 for two symbols.
    [InlineData("\0a🇩🇪", @"a\u1f1e9\u1f1ea")]
    // A skin-tone modifier after a hand drew one hand: 👍🏽.
    [InlineData("\0👍🏽", @"👍\u1f3fd")]
    // Symbols that stand alone are themselves, wide ones too.
    [InlineData("\0é中🍕", "é中🍕")]
    public void A_symbol_a_terminal_joins_to_its_neighbour_or_draws_as_nothing_is_written_out(string vocabulary, string shown) =>
        Assert.Equal(shown, VisibleText.Vocabulary(vocabulary));
}
