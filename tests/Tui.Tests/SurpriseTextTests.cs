using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>feed show=surprise's lines: each ^ stands under its own char as a terminal draws the row.</summary>
public class SurpriseTextTests
{
    private static CharScore Score(string c, double p) => new() { Character = c, Loss = -Math.Log(p) };

    [Fact]
    public void A_mark_after_a_wide_char_stands_under_its_own_char_and_a_char_drawn_as_nothing_gets_a_column_of_its_own()
    {
        // 😀 and 中 take two columns on a terminal, a combining accent none: the marks row must count columns, not chars.
        var lines = SurpriseText.Lines([Score("a", 0.9), Score("😀", 0.9), Score("b", 0.01), Score("中", 0.9), Score("c", 0.01), Score("\u0301", 0.01), Score("d", 0.01)]);
        Assert.Equal("  a😀b中c·d", lines[1]);
        Assert.Equal("     ^  ^^^", lines[2]);
    }
    [Fact]
    public void Rows_are_cut_by_the_columns_they_take_so_a_row_of_wide_chars_is_no_wider_than_one_of_plain_chars()
    {
        // 40 CJK chars take 80 columns: cut at 60 chars, the row would wrap in the REPL view and its marks row below it differently.
        var lines = SurpriseText.Lines([.. Enumerable.Range(0, 40).Select(i => Score("中", i == 35 ? 0.01 : 0.9))]);
        Assert.Equal("  " + new string('中', SurpriseText.Width / 2), lines[1]);
        Assert.Equal("  " + new string('中', 40 - SurpriseText.Width / 2), lines[3]);
        Assert.Equal("  " + new string(' ', 2 * (35 - SurpriseText.Width / 2)) + "^", lines[4]);
        Assert.Equal("most surprising:", lines[5]);
        var plain = SurpriseText.Lines([.. Enumerable.Range(0, 61).Select(_ => Score("a", 0.9))]);
        Assert.Equal(("  " + new string('a', 60), "  a"), (plain[1], plain[3]));
    }
}
