namespace CharRnn.Tui.Tests;

public class BeatTheModelLayoutTests
{
    [Theory]
    [InlineData("ab\ncd\nef\ngh", 10, 2, 6)]        // short lines: the last two rows, newlines counted
    [InlineData("abcdefghij", 4, 2, 4)]             // wrapped: "abcd" "efgh" "ij?" → the last two
    [InlineData("abcdefgh", 4, 2, 4)]               // the '?' wraps onto its own row: "efgh" "?"
    [InlineData("ab", 10, 5, 0)]                    // all of it fits
    public void The_beat_tab_shows_as_many_rows_as_fit_up_to_the_position(string passage, int width, int rows, int start) =>
        Assert.Equal(start, CharRnn.Tui.Views.BeatTheModelView.FirstShown(passage, passage.Length, width, rows));
}
