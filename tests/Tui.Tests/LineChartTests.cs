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

    [Fact]
    public void Axis_labels_fall_on_round_values_and_an_empty_chart_has_none()
    {
        var chart = new LineChart("step", "loss", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 80, 12) };
        Assert.Empty(chart.XTicks); // not a label a column ("012345678111…")
        chart.Show([(7, 3.3), (1500, 1.66)], [(750, 2.0)]);
        float x = chart.AxisX.Increment, y = chart.AxisY.Increment;
        Assert.Contains(0.0, chart.XTicks); // the view starts a cell before step 7: its first label is 0, not -7
        Assert.All(chart.XTicks, t => Assert.Equal(0, Math.IEEERemainder(t, x), 9));
        Assert.True(chart.XTicks.Count() >= 2, string.Join(" ", chart.XTicks));
        Assert.NotEmpty(chart.YTicks);
        Assert.All(chart.YTicks, t => Assert.Equal(0, Math.IEEERemainder(t, y), 6));
        chart.Show([], []);
        Assert.Empty(chart.XTicks);
    }

    [Fact]
    public void A_chart_emptied_after_a_flat_series_keeps_no_label_of_it()
    {
        // Played: a queued job's empty learning-rate chart still read "1.0e-2", the last job's constant rate.
        var chart = new LineChart("step", "lr", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 36, 10) };
        chart.Show([(0, 0.01), (800, 0.01)], []);
        Assert.Contains(0.01, chart.YTicks);
        chart.Show([], []);
        Assert.Empty(chart.YTicks);
    }

    /// <summary>The labels the chart draws at its y ticks.</summary>
    private static List<string> YLabels(LineChart chart) =>
        chart.YTicks.Select(v => chart.AxisY.LabelGetter(new Terminal.Gui.Views.AxisIncrementToRender(Terminal.Gui.ViewBase.Orientation.Vertical, 0, (float)v))).ToList();

    [Fact]
    public void A_constant_learning_rates_axis_labels_each_step_with_its_own_value()
    {
        // A tall pane (200×50): steps of 0.005 up to 0.02, where 0.015 was labelled "0.02", twice "0.02" on one axis.
        var chart = new LineChart("step", "lr", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 66, 16) };
        chart.Show([(0, 0.01), (800, 0.01)], []);
        var labels = YLabels(chart);
        Assert.Contains("1.5e-2", labels);
        Assert.Equal(labels.Count, labels.Distinct().Count());
        Assert.All(labels, l => Assert.InRange(l.Length, 1, 6)); // a label ends at the axis and leaves column 0 to its title
        Assert.Equal("1.25e-3", LineChart.YLabel(0.00125, 5e-5)); // a value finer than its power of ten gets its second digit
        Assert.Equal("2.00", LineChart.YLabel(2, 0.5)); // losses as they were
        Assert.Equal("5.0e-3", LineChart.YLabel(0.005, 0.005));
    }

    [Fact]
    public void A_learning_rate_axis_in_steps_of_a_hundredth_labels_every_tick_alike()
    {
        // The Train screen at 80×24, a constant rate of 0.01: its axis read "0.02", "1.0e-2", "0.00", since the step,
        // a float, is 0.0099999998 and fell short of the hundredth that keeps decimals.
        var chart = new LineChart("step", "lr", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 25, 5) };
        chart.Show([(0, 0.01), (89, 0.01)], []);
        var labels = YLabels(chart);
        Assert.Contains("0.01", labels);
        Assert.All(labels, l => Assert.DoesNotContain("e", l));
        Assert.Equal("0.01", LineChart.YLabel(0.01f, 0.01f));
    }

    [Fact]
    public void A_loss_that_moves_little_labels_each_step_with_its_own_value_in_decimals()
    {
        // A resumed run whose loss hovers between 1.40 and 1.43: its steps are finer than a hundredth, where the labels
        // went to powers of ten with two digits at most ("1.40e0", and 1.995 and 2.000 both "2.00e0").
        var chart = new LineChart("step", "loss", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 66, 20) };
        chart.Show([(0, 1.43), (400, 1.41), (800, 1.40)], []);
        var labels = YLabels(chart);
        Assert.True(chart.AxisY.Increment < 0.01, $"step {chart.AxisY.Increment}");
        Assert.True(labels.Count >= 2, string.Join(" ", labels));
        Assert.Equal(labels.Count, labels.Distinct().Count());
        Assert.All(labels, l => Assert.DoesNotContain("e", l));
        Assert.All(labels, l => Assert.InRange(l.Length, 1, 6));
        Assert.Equal("1.995", LineChart.YLabel(1.995, 0.005));
        Assert.Equal("2.000", LineChart.YLabel(2, 0.005));
        Assert.Equal("1.4002", LineChart.YLabel(1.4002, 0.0001));
    }

    [Fact]
    public void An_axis_that_starts_just_below_zero_labels_its_first_tick_0_not_minus_0()
    {
        var first = LineChart.Ticks(-7, 1500, 500).First();
        Assert.Equal("0", first.ToString("0", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Non_finite_values_are_not_plotted_and_do_not_move_the_axes()
    {
        var chart = new LineChart("step", "loss", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 60, 20) };
        chart.Show([(0, 3.0), (50, double.NaN), (60, double.PositiveInfinity), (100, 1.0)], [(100, double.NegativeInfinity)]);
        Assert.Equal([new PointF(0, 3), new PointF(100, 1)], chart.LinePoints);
        Assert.InRange(chart.ScrollOffset.Y, 0, 1); // fitted to 1..3
    }

    [Fact]
    public void A_series_flat_to_float_precision_gets_the_flat_range()
    {
        var chart = new LineChart("step", "learning rate", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 60, 20) };
        chart.Show([(0, 0.01), (100, 0.01 * (1 + 1e-7))], []);
        Assert.InRange(chart.CellSize.Y, 0.01 * 2 / 20, 0.01 * 3 / 16); // zero to about twice the value, not 1e-9 wide
    }

    [Fact]
    public void A_line_of_one_point_shows_it_as_a_dot_and_its_step_axis_counts_whole_steps()
    {
        var chart = new LineChart("step", "loss", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 60, 20) };
        chart.Show([(60, 3.1)], [(60, 3.0)]); // a job that ended before its second progress report
        Assert.Equal([new PointF(60, 3.1f)], chart.LonePoint);
        Assert.True(chart.AxisX.Increment >= 1, $"x labels every {chart.AxisX.Increment} steps");
        chart.Show([(0, 3.0), (100, 1.0)], []);
        Assert.Empty(chart.LonePoint);
    }

    [Fact]
    public void A_narrow_chart_labels_more_of_its_x_axis_than_its_start()
    {
        // The learning rate's pane at 80×24: 16 columns of data, where a step of 500 left only "0" for 300 steps.
        var chart = new LineChart("step", "lr", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 25, 5) };
        chart.Show([(0, 1e-3), (150, 1e-3), (300, 1e-3)], []);
        Assert.True(chart.XTicks.Count() >= 2, $"x labels: {string.Join(" ", chart.XTicks)}");
        Assert.True(chart.XTicks.Max() >= 100, $"x labels: {string.Join(" ", chart.XTicks)}");
    }

    [Fact]
    public void On_a_chart_of_three_rows_the_marks_stay_above_the_x_axis_and_the_lowest_and_highest_values_are_labelled()
    {
        // The loss pane at 80×24: five rows, the x axis's labels on the last, the axis above them, three rows of data.
        var chart = new LineChart("step", "loss", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 47, 5) };
        chart.Show([(0, 4.2), (100, 3.0), (200, 2.0), (300, 1.3)], [(150, 2.6), (300, 1.35)]);
        var axisRow = chart.Viewport.Height - 1 - (int)chart.MarginBottom;
        foreach (var p in new[] { new PointF(150, 2.6f), new PointF(300, 1.35f), new PointF(300, 1.3f), new PointF(0, 4.2f) })
            Assert.InRange(chart.GraphSpaceToViewport(p).Y, 0, axisRow - 1);
        var ticks = chart.YTicks.ToList();
        Assert.True(ticks.Count >= 2, $"y labels: {string.Join(" ", ticks)}");
        Assert.True(ticks.Min() <= 1.3 && ticks.Max() >= 2.75, $"y labels: {string.Join(" ", ticks)}");
        Assert.All(ticks, t => Assert.True(t >= 0, $"a loss axis labelled {t}"));
        chart.Show([(0, 3.85), (300, 2.0)], []); // a step of 5 for a range of 2: no label at all
        ticks = chart.YTicks.ToList();
        Assert.True(ticks.Count >= 2 && ticks.Min() <= 2.0 && ticks.Max() >= 2.9, $"y labels: {string.Join(" ", ticks)}");
    }

    [Fact]
    public void On_a_chart_of_two_rows_the_x_axis_labels_give_their_row_to_the_data()
    {
        // The loss pane at the Train screen's least size (44×22): two rows, the axis on the first and its labels on the
        // second, and every point drawn on the axis: no row of data.
        var chart = new LineChart("step", "loss", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 24, 2) };
        chart.Show([(0, 4.2), (100, 3.0), (200, 2.0), (300, 1.3)], [(150, 2.6), (300, 1.35)]);
        var axisRow = chart.Viewport.Height - 1 - (int)chart.MarginBottom;
        Assert.Equal(1, axisRow); // the bottom row: no row of x labels under it
        Assert.Empty(chart.XTicks);
        foreach (var p in new[] { new PointF(150, 2.6f), new PointF(300, 1.35f), new PointF(300, 1.3f), new PointF(0, 4.2f) })
            Assert.Equal(0, chart.GraphSpaceToViewport(p).Y);
        Assert.NotEmpty(chart.YTicks);
        // A constant learning rate: its range reaches zero, where GraphView draws the axis; that was the data's one row.
        var rate = new LineChart("step", "lr", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 13, 2) };
        rate.Show([(0, 1e-3), (300, 1e-3)], []);
        Assert.Equal(0, rate.GraphSpaceToViewport(new PointF(300, 1e-3f)).Y);
        Assert.True(rate.GraphSpaceToViewport(new PointF(0, 0)).Y >= 1, "zero, and the axis, in the data's row");
        chart.Frame = new Rectangle(0, 0, 24, 5); // a taller pane has its x labels back
        Assert.Equal(3, chart.Viewport.Height - 1 - (int)chart.MarginBottom);
        Assert.NotEmpty(chart.XTicks);
    }

    [Fact]
    public void On_a_chart_of_four_rows_a_constant_learning_rate_is_drawn_above_the_x_axis()
    {
        // The learning rate's pane at 80×24 when how a job ended wraps onto three rows: four rows, two of data. The range
        // reached zero inside the lower data row, GraphView drew the axis there over the line, and the pane showed no rate.
        var rate = new LineChart("step", "lr", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 25, 4) };
        rate.Show([(0, 1e-3), (400, 1e-3), (887, 1e-3)], []);
        var axisRow = rate.Viewport.Height - 1 - (int)rate.MarginBottom;
        Assert.Equal(2, axisRow);
        Assert.True(rate.GraphSpaceToViewport(new PointF(0, 0)).Y >= axisRow, "zero, and so the axis, in the data's rows");
        foreach (var x in new[] { 0f, 400f, 887f })
            Assert.InRange(rate.GraphSpaceToViewport(new PointF(x, 1e-3f)).Y, 0, axisRow - 1);
        Assert.Contains(0.0, rate.YTicks); // the axis still reads 0
        // The rate's row was labelled "2.0e-3" (a tick of 0.002 fell in the row the line of 0.001 is drawn on): a row that
        // holds a flat series is labelled with its value.
        var lineRow = rate.GraphSpaceToViewport(new PointF(0, 1e-3f)).Y;
        var rowLabels = rate.YTicks.Where(v => rate.GraphSpaceToViewport(new PointF(0, (float)v)).Y == lineRow)
            .Select(v => rate.AxisY.LabelGetter(new Terminal.Gui.Views.AxisIncrementToRender(Terminal.Gui.ViewBase.Orientation.Vertical, 0, (float)v))).ToList();
        Assert.Equal(["1.0e-3"], rowLabels);
        // A loss that reaches near zero on the same four rows: its lowest points above the axis too.
        var loss = new LineChart("step", "loss", Color.White, Color.Red) { Frame = new Rectangle(0, 0, 47, 4) };
        loss.Show([(0, 4.0), (100, 0.5), (200, 0.05)], []);
        Assert.InRange(loss.GraphSpaceToViewport(new PointF(200, 0.05f)).Y, 0, axisRow - 1);
        Assert.InRange(loss.GraphSpaceToViewport(new PointF(0, 4.0f)).Y, 0, axisRow - 1);
    }
}
