namespace CharRnn.Tui.Tests;

public class BeatTheModelLayoutTests
{
    [Theory]
    [InlineData("ab\ncd\nef\ngh", 10, 2, 6)]        // short lines: the last two rows, newlines counted
    [InlineData("abcdefghij", 4, 2, 4)]             // wrapped: "abcd" "efgh" "ij?" → the last two
    [InlineData("abcdefgh", 4, 2, 4)]               // the '?' wraps onto its own row: "efgh" "?"
    [InlineData("ab", 10, 5, 0)]                    // all of it fits
    [InlineData("日本語です", 4, 2, 2)]              // wide chars take two columns: "日本" "語で" "す?" → the last two
    [InlineData("a🐱b🐱c", 3, 2, 2)]                // an emoji is one char of two columns: "a🐱" "b🐱" "c?" (a surrogate pair counted once)
    public void The_beat_tab_shows_as_many_rows_as_fit_up_to_the_position(string passage, int width, int rows, int start)
    {
        var runes = passage.EnumerateRunes().ToArray();
        Assert.Equal(start, CharRnn.Tui.Views.BeatTheModelView.FirstShown(runes, runes.Length, width, rows));
    }
}
