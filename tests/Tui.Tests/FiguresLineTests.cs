using CharRnn.Tui.Views;

namespace CharRnn.Tui.Tests;

public sealed class FiguresLineTests
{
    private static readonly (string, int)[] Figures = [("loss 2.250", 0), ("val 2.394", 1), ("lr 1.0e-3", 3), ("112,465 chars/s", 2)];

    [Fact]
    public void Figures_are_left_out_whole_least_important_first_keeping_their_order()
    {
        Assert.Equal("loss 2.250 · val 2.394 · lr 1.0e-3 · 112,465 chars/s", FiguresLine.Fit(Figures, 52));
        Assert.Equal("loss 2.250 · val 2.394 · 112,465 chars/s", FiguresLine.Fit(Figures, 51));
        Assert.Equal("loss 2.250 · val 2.394", FiguresLine.Fit(Figures, 39));
        Assert.Equal("loss 2.250", FiguresLine.Fit(Figures, 5)); // the most important stays: the label cuts it, not this
    }
}
