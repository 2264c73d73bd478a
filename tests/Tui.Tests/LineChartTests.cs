using System.Drawing;
using CharRnn.Tui.Views;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Tests;

public class LineChartTests
{
    [Fact]
    public void A_resized_chart_fits_its_data_to_the_new_size()
    {
        var chart = new LineChart("step", "loss", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 60, 20) };
        chart.Show([(0, 3.0), (100, 1.0)], [(100, 1.2)]);
        var narrow = chart.CellSize;
        chart.Frame = new Rectangle(0, 0, 120, 30); // the terminal grew; no new data comes (the job has ended)
        Assert.True(chart.CellSize.X < narrow.X * 0.6, $"{chart.CellSize} after {narrow}");
        Assert.True(chart.CellSize.Y < narrow.Y, $"{chart.CellSize} after {narrow}");
    }
}
