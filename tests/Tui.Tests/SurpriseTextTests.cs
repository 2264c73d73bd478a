using CharRnn.Protos.V1;
using CharRnn.Tui.Client;

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
}
