using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace CharRnn.Tui.Views;

/// <summary>
/// Labelled fields (or controls without a label, as buttons) laid out left to right in a view's rows, a pair that
/// would pass the right edge moved whole to the next row: a narrow terminal gets another row, not a field cut off
/// at the edge. The last pair may fill the rest of its row (at least a least width).
/// </summary>
internal sealed class FlowRows
{
    private readonly View _host;
    private readonly View _above;
    private readonly int _rowStep;
    private readonly List<(int Label, int Field, bool WithPrevious, int Gap)> _pairs = [];
    private int _fillLeast = -1; // the filling last field's least width; -1: none fills

    /// <summary>Columns between one pair and the next on a row.</summary>
    private const int Gap = 2;

    /// <summary>A label's columns where a control has none (a button says what it is).</summary>
    private const int NoLabel = -1;

    /// <summary>
    /// Rows in <paramref name="host"/> from the one under <paramref name="above"/> (a label whose text may wrap), a row's
    /// start <paramref name="rowStep"/> rows under the one before (2 for buttons: their shadow's row, which another
    /// row of buttons drew over in part).
    /// </summary>
    public FlowRows(View host, View above, int rowStep = 1) => (_host, _above, _rowStep) = (host, above, rowStep);

    private int FirstRow => _above.Frame.Bottom;

    /// <summary>A label and its field of a fixed width, after the pairs added before (on their row with the one before when <paramref name="withPrevious"/>).</summary>
    public void Add(string label, View field, int width, bool withPrevious = false) => Add(label, field, width, withPrevious, fills: false);

    /// <summary>The last pair: its field fills the rest of its row, which leaves it at least <paramref name="leastWidth"/>.</summary>
    public void AddFilling(string label, View field, int leastWidth, bool withPrevious = false) => Add(label, field, leastWidth, withPrevious, fills: true);

    /// <summary>
    /// A control with no label (a button, a checkbox) at its natural width, <paramref name="gap"/> columns after the one
    /// before on its row (buttons carry their own shadow column, so 0 sets them side by side as a row of buttons).
    /// </summary>
    public void Add(View control, int gap)
    {
        if (_fillLeast >= 0) throw new InvalidOperationException("The filling field is the last one.");
        control.SetRelativeLayout(new System.Drawing.Size(1000, 10)); // its natural (auto) width, laid out alone
        var index = _pairs.Count;
        _pairs.Add((NoLabel, control.Frame.Width, false, gap));
        control.X = Pos.Func(_ => Place(index).X);
        control.Y = Pos.Func(_ => FirstRow + Place(index).Row * _rowStep, _above);
        _host.Add(control);
    }

    private void Add(string label, View field, int width, bool withPrevious, bool fills)
    {
        if (_fillLeast >= 0) throw new InvalidOperationException("The filling field is the last one.");
        var index = _pairs.Count;
        _pairs.Add((label.Length, width, withPrevious && index > 0, Gap));
        if (fills) _fillLeast = width;
        var l = new Label { Text = label, X = Pos.Func(_ => Place(index).X), Y = Pos.Func(_ => FirstRow + Place(index).Row * _rowStep, _above) };
        field.X = Pos.Func(_ => Place(index).X + label.Length + 1);
        field.Y = Pos.Func(_ => FirstRow + Place(index).Row * _rowStep, _above);
        field.Width = fills ? Dim.Fill() : width;
        _host.Add(l, field);
    }

    /// <summary>The rows the pairs take at the host's present width.</summary>
    public int Rows => _pairs.Count == 0 ? 0 : Place(_pairs.Count - 1).Row + 1;

    /// <summary>The row under the last pair.</summary>
    public int Bottom => Rows == 0 ? FirstRow : FirstRow + (Rows - 1) * _rowStep + 1;

    /// <summary>Where pair <paramref name="index"/> starts: its column and its row (from 0).</summary>
    private (int X, int Row) Place(int index) => Place(index, _host.Viewport.Width);

    internal (int X, int Row) Place(int index, int width)
    {
        var (x, row) = (0, 0);
        for (var i = 0; ; i++)
        {
            // Pairs kept together that do not fit after others start the next row (alone on a row, they are cut only where nothing would fit them).
            if (x > 0) x += _pairs[i].Gap;
            if (!_pairs[i].WithPrevious && x > 0 && x + GroupRoom(i) > width) (x, row) = (0, row + 1);
            if (i == index) return (x, row);
            x += Room(i);
        }
    }

    private int Room(int i) => (_pairs[i].Label == NoLabel ? 0 : _pairs[i].Label + 1) + _pairs[i].Field;

    /// <summary>The columns pair <paramref name="first"/> and those kept with it take.</summary>
    private int GroupRoom(int first)
    {
        var room = Room(first);
        for (var i = first + 1; i < _pairs.Count && _pairs[i].WithPrevious; i++) room += _pairs[i].Gap + Room(i);
        return room;
    }
}
