using CharRnn.Tui.Views;

namespace CharRnn.Tui.Tests;

public class WordWrapTests
{
    [Fact]
    public void Text_breaks_at_spaces_within_the_width() =>
        Assert.Equal(["Press Enter to", "start: text is", "revealed"], WordWrap.Lines("Press Enter to start: text is revealed", 14, 3));

    [Fact]
    public void Text_beyond_the_lines_allowed_ends_the_last_line_in_an_ellipsis() =>
        Assert.Equal(["you and the", "model each…"], WordWrap.Lines("you and the model each guess the next one", 11, 2));

    [Fact]
    public void A_word_longer_than_a_line_is_cut_and_nothing_is_drawn_in_no_room()
    {
        Assert.Equal(["abcd", "ef"], WordWrap.Lines("abcdefgh ef", 4, 3));
        Assert.Empty(WordWrap.Lines("anything", 0, 2));
    }
}
