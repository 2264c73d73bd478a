using System.Drawing;
using System.Globalization;
using System.Text;
using Terminal.Gui.Drawing;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Views;

/// <summary>A GraphView showing one line and optional marked points, rescaled to fit whatever it is given.</summary>
public sealed class LineChart : GraphView
{
    private readonly PathAnnotation _line = new() { BeforeSeries = true };
    private readonly ScatterSeries _marks = new();
    private readonly ScatterSeries _lonePoint = new(); // a line of one point draws nothing: that point is shown as a dot

    /// <summary>The points drawn as the line, for tests.</summary>
    internal IReadOnlyList<PointF> LinePoints => _line.Points;
    /// <summary>The line's one point, drawn as a dot, when it has only one (tests).</summary>
    internal IReadOnlyList<PointF> LonePoint => _lonePoint.Points;

    private readonly string _xLabel;

    public LineChart(string xLabel, string yLabel, Color lineColor, Color markColor)
    {
        _xLabel = xLabel;
        AxisX = new RoundTicksX();
        AxisY = new RoundTicksY();
        MarginLeft = 8; // a label of 6 ("1.0e-3") ends at the axis and leaves column 0 to the axis's title
        MarginBottom = 2;
        AxisX.Text = xLabel;
        AxisY.Text = yLabel;
        AxisX.Increment = 0; // no data, no ticks (the default of 1 a cell ran the labels together)
        AxisY.Increment = 0;
        AxisY.LabelGetter = v => YLabel(v.Value, AxisY.Increment);
        AxisX.LabelGetter = v => Label(v.Value);
        _line.LineColor = Monochrome.Or(new Attribute(lineColor, Color.Black));
        _marks.Fill = new GraphCellToRender(new Rune('●'), Monochrome.Or(new Attribute(markColor, Color.Black)));
        _lonePoint.Fill = new GraphCellToRender(new Rune('•'), Monochrome.Or(new Attribute(lineColor, Color.Black)));
        Annotations.Add(_line);
        Series.Add(_lonePoint);
        Series.Add(_marks);
        CanFocus = false;
    }

    private IReadOnlyList<(double X, double Y)> _lineData = [], _markData = [];
    private Size _fittedSize;

    /// <summary>A resized chart fits its data to the new size (the data may not change again: a job that ended).</summary>
    protected override void OnViewportChanged(DrawEventArgs e)
    {
        base.OnViewportChanged(e);
        // A short chart (an 80×24 terminal) gives the x axis's title row to the data; one of two rows (the Train screen's
        // least size) its labels' row too: the axis was on the first row, its labels on the second, and no row was left for data.
        var compact = Viewport.Height < 8;
        MarginBottom = Viewport.Height < 3 ? 0u : compact ? 1u : 2u;
        AxisX.Text = compact ? "" : _xLabel;
        if (Viewport.Size != _fittedSize && _lineData.Count + _markData.Count > 0) Show(_lineData, _markData);
    }

    private static bool Finite((double X, double Y) p) => double.IsFinite(p.X) && double.IsFinite(p.Y);

    /// <summary>Replaces the data and fits both axes to it.</summary>
    public void Show(IReadOnlyList<(double X, double Y)> line, IReadOnlyList<(double X, double Y)> marks)
    {
        (_lineData, _markData, _fittedSize) = (line, marks, Viewport.Size);
        _line.Points.Clear();
        _marks.Points.Clear();
        // A NaN loss (an epoch that counted nothing) would be drawn at the floor, an infinite one across
        // ~2³¹ cells: neither is plotted.
        foreach (var (x, y) in line.Where(Finite)) _line.Points.Add(new PointF((float)x, (float)y));
        foreach (var (x, y) in marks.Where(Finite)) _marks.Points.Add(new PointF((float)x, (float)y));
        _lonePoint.Points.Clear();
        if (_line.Points.Count == 1) _lonePoint.Points.Add(_line.Points[0]); // a job that ended before its second progress report
        var all = line.Concat(marks).Where(Finite).ToList();
        _flatValue = null; // an emptied chart (the next job's, queued) kept the last one's flat rate as its label
        if (all.Count == 0)
        {
            AxisX.Increment = AxisY.Increment = 0;
            SetNeedsDraw();
            return;
        }
        double minX = all.Min(p => p.X), maxX = Math.Max(all.Max(p => p.X), minX + 1);
        double minY = all.Min(p => p.Y), maxY = all.Max(p => p.Y);
        // A flat series (a constant learning rate) gets a range from zero to twice its value, not
        // one a fixed amount wide that would dwarf a small value and reach below zero. Nearly flat
        // counts too: an axis step below float precision at that value never advances its labels.
        if (maxY - minY <= 1e-4 * Math.Max(Math.Abs(minY), Math.Abs(maxY)))
        {
            _flatValue = maxY;
            if (maxY > 0) (minY, maxY) = (0, 2 * maxY);
            else if (minY < 0) (minY, maxY) = (2 * minY, 0);
            else (minY, maxY) = (-1, 1);
        }
        var pad = (maxY - minY) * 0.05;
        var nonNegative = minY >= 0;
        minY -= pad; maxY += pad;
        int width = Math.Max(1, Viewport.Width - (int)MarginLeft - 1), height = Math.Max(1, Viewport.Height - (int)MarginBottom - 1);
        var lowest = all.Min(p => p.Y);
        // GraphView draws the x axis where y is 0: on one row of data a range reaching zero (a flat learning rate's, 0 to
        // twice it) drew the axis over that row. A positive series keeps its one row above zero, zero in the axis's row.
        // So on more rows, where the lowest point is too close to zero for zero to be the floor (below): with two rows of
        // data (80×24, how a job ended wrapped onto three rows) a flat rate's zero fell in its row and the axis hid the line.
        if (nonNegative && lowest > 0 && (height == 1 || lowest < maxY / height)) minY = Math.Max(minY, lowest / 2);
        // The axes are drawn over the bottom row and the left column: keep the data a cell clear
        // of both, or the lowest losses vanish under the x axis (a positive series keeps zero as
        // its floor).
        // Zero is kept only where the lowest point still clears the axis by a row: on a chart of three rows (80×24) the
        // floor of zero put a loss of 1.3 under the axis, and the validation marks on it.
        // A row of data a cell tall holds the whole range: the lowest point a row above the axis, the highest under the top.
        var cellY = (maxY - minY) / Math.Max(1, height - 1);
        var floor = minY - cellY;
        var zeroFloor = nonNegative && floor < 0 && lowest >= maxY / height;
        minY = zeroFloor ? 0 : floor;
        _leastLabel = nonNegative ? 0 : double.NegativeInfinity; // a floor just below zero labels no "-0.50"
        minX -= (maxX - minX) / Math.Max(1, width - 1);
        // (maxY - floor) / height is that cell where height > 1; on one row of data it was two cells: the points fell on the axis.
        CellSize = new PointF((float)((maxX - minX) / width), (float)(zeroFloor ? maxY / height : cellY));
        ScrollOffset = new PointF((float)minX, (float)minY);
        AxisX.Increment = Math.Max(1, Nice((maxX - minX) / Math.Max(1, width / 12.0))); // steps are whole: a finer label would repeat one ("60 60 61")
        // A narrow chart (the learning rate's at 80 columns) got a step wider than its data: its only label was "0".
        var labelColumns = Label(maxX).Length + 1;
        while (AxisX.Increment > 1 && XTicks.Count() < 2 && Finer(AxisX.Increment) / CellSize.X >= labelColumns) AxisX.Increment = Finer(AxisX.Increment);
        AxisY.Increment = Nice((maxY - minY) / Math.Max(1, height / 2.0));
        // A short chart (three rows) got a step as tall as its range: one label, the lowest missing. A label a row at most.
        while (YTicks.Count() < 2 && Finer(AxisY.Increment) >= CellSize.Y) AxisY.Increment = Finer(AxisY.Increment);
        SetNeedsDraw();
    }

    private double _leastLabel = double.NegativeInfinity;
    private double? _flatValue; // a flat series' value: the row it is drawn on is labelled with it

    /// <summary>
    /// The y labels that are true for their rows: a flat series' row is labelled with its value, not with a tick that falls
    /// in the same row (two rows of data at 80×24 put 0.002 in the row of a constant rate of 0.001, labelled "2.0e-3").
    /// </summary>
    private IEnumerable<double> TrueYTicks(IEnumerable<double> ticks)
    {
        var ours = ticks.Where(v => v >= _leastLabel);
        if (_flatValue is not { } flat) return ours;
        var row = GraphSpaceToViewport(new PointF(0, (float)flat)).Y;
        return ours.Where(v => GraphSpaceToViewport(new PointF(0, (float)v)).Y != row).Append(flat).Order();
    }

    private static string Label(double x) => x.ToString("0", CultureInfo.InvariantCulture);

    /// <summary>The next step below <paramref name="step"/> of the 1, 2, 5 series.</summary>
    private static float Finer(float step)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(step) + 1e-6));
        var mantissa = Math.Round(step / power);
        return (float)(mantissa >= 5 ? 2 * power : mantissa >= 2 ? power : power / 2);
    }

    /// <summary>The values an axis from <paramref name="from"/> to <paramref name="to"/> labels: the multiples of its increment (0, 500, 1000), not from + k × increment.</summary>
    internal static IEnumerable<double> Ticks(double from, double to, double increment)
    {
        if (increment <= 0 || !double.IsFinite(from) || !double.IsFinite(to)) yield break;
        // + 0.0: the first step of an axis that starts just below zero is -0 (Ceiling(-0.3)), labelled "-0".
        for (var k = Math.Ceiling(from / increment); k * increment < to; k++) yield return k * increment + 0.0;
    }

    /// <summary>The x values labelled as the chart stands: those whose label is whole inside the view.</summary>
    internal IEnumerable<double> XTicks => MarginBottom == 0 ? [] : Ticks(ScrollOffset.X, ScrollOffset.X + CellSize.X * (Viewport.Width - (int)MarginLeft), AxisX.Increment)
        .Where(v => XLabelFits(this, GraphSpaceToViewport(new PointF((float)v, 0)).X, Label(v)));

    /// <summary>The y values labelled as the chart stands.</summary>
    internal IEnumerable<double> YTicks => TrueYTicks(Ticks(ScrollOffset.Y, ScrollOffset.Y + CellSize.Y * (Viewport.Height - (int)MarginBottom), AxisY.Increment));

    /// <summary>Whether a label centred on column <paramref name="x"/> ends inside the view: cut at the edge, "150" would read "15".</summary>
    private static bool XLabelFits(GraphView graph, int x, string label) => x - label.Length / 2 + label.Length <= graph.Viewport.Width;

    // GraphView's own axes label from + k × increment: the view's left edge sits a cell before the first
    // step (so the axis does not hide it), which made labels like "-7 493 993". These label round values.
    private sealed class RoundTicksX : HorizontalAxis
    {
        public override void DrawAxisLabels(GraphView graph)
        {
            if (!Visible || graph.MarginBottom == 0) return; // no row under the axis: its labels gave it to the data
            var y = GetAxisYPosition(graph);
            var from = graph.ViewportToGraphSpace((int)graph.MarginLeft, y).X;
            var to = graph.ViewportToGraphSpace(graph.Viewport.Width, y).X;
            foreach (var value in Ticks(from, to, Increment))
            {
                var x = graph.GraphSpaceToViewport(new PointF((float)value, 0)).X;
                var label = LabelGetter(new AxisIncrementToRender(Orientation, x, (float)value));
                if (!XLabelFits(graph, x, label)) continue;
                DrawAxisLabel(graph, x, label);
            }
            if (string.IsNullOrWhiteSpace(Text)) return;
            var title = Text.Length > graph.Viewport.Width ? Text[..graph.Viewport.Width] : Text;
            graph.Move(graph.Viewport.Width / 2 - title.Length / 2, graph.Viewport.Height - 1);
            graph.AddStr(title);
        }
    }

    private sealed class RoundTicksY : VerticalAxis
    {
        public override void DrawAxisLabels(GraphView graph)
        {
            if (!Visible) return;
            var x = GetAxisXPosition(graph);
            var from = graph.ViewportToGraphSpace(x, graph.Viewport.Height - (1 + (int)graph.MarginBottom)).Y;
            var to = graph.ViewportToGraphSpace(x, 0).Y;
            foreach (var value in ((LineChart)graph).TrueYTicks(Ticks(from, to + graph.CellSize.Y, Increment)))
            {
                var y = graph.GraphSpaceToViewport(new PointF(0, (float)value)).Y;
                DrawAxisLabel(graph, y, LabelGetter(new AxisIncrementToRender(Orientation, y, (float)value)));
            }
            if (string.IsNullOrWhiteSpace(Text)) return;
            var title = Text.Length > graph.Viewport.Height ? Text[..graph.Viewport.Height] : Text;
            var top = graph.Viewport.Height / 2 - title.Length / 2;
            for (var i = 0; i < title.Length; i++)
            {
                graph.Move(0, top + i);
                graph.AddRune(new Rune(title[i]));
            }
        }
    }

    /// <summary>
    /// A y label with the digits its step needs: "0.00" while the step is a hundredth or more, else in powers of ten with a
    /// digit more where the step is finer than the value's (0.015 in steps of 0.005 is "1.5e-2"; as "0.00" it read "0.02",
    /// the same as the label above it). A value of a tenth or more in a step finer than a hundredth (a loss that moves little)
    /// gets the step's decimals, up to 4 (1.995 in steps of 0.005 is "1.995": in powers of ten it and 2 were both "2.00e0").
    /// </summary>
    internal static string YLabel(double value, double increment)
    {
        // The axis's step and ticks are floats: a step of 0.01 is 0.0099999998, and its 0.01 read "1.0e-2" between "0.02" and "0.00".
        const double Hundredth = 0.01 * (1 - 1e-6);
        if (value == 0 || (increment >= Hundredth && Math.Abs(value) >= Hundredth)) return value.ToString("0.00", CultureInfo.InvariantCulture);
        if (increment > 0 && Math.Abs(value) >= 0.1)
            return value.ToString("0." + new string('0', Math.Clamp(-(int)Math.Floor(Math.Log10(increment) + 1e-9), 2, 4)), CultureInfo.InvariantCulture);
        var digits = increment > 0 ? Math.Clamp((int)Math.Floor(Math.Log10(Math.Abs(value))) - (int)Math.Floor(Math.Log10(increment) + 1e-9), 1, 2) : 1;
        return value.ToString(digits == 1 ? "0.0e0" : "0.00e0", CultureInfo.InvariantCulture);
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="raw"/>.</summary>
    private static float Nice(double raw)
    {
        if (raw <= 0 || !double.IsFinite(raw)) return 1;
        var power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = raw / power <= 1 ? 1 : raw / power <= 2 ? 2 : raw / power <= 5 ? 5 : 10;
        return (float)(step * power);
    }
}
