using System.Text;
using Terminal.Gui.Drawing;
using Terminal.Gui.Text;
using Terminal.Gui.ViewBase;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Views;

/// <summary>
/// Read-only text that grows as characters stream in, word-wrapped, showing its newest lines
/// unless scrolled back (<see cref="ScrollBy"/>: PgUp/PgDn where it is used, and the mouse wheel);
/// scrolled back, it stays on the text shown while more arrives below. Append is thread-safe
/// (background streams call it); the render timer redraws when <see cref="Version"/> moved
/// (<see cref="RedrawIfChanged"/>). With <see cref="ColorByProbability"/> each char is coloured
/// by how sure the model was of it.
/// </summary>
public sealed class StreamTextView : View
{
    private readonly object _gate = new();
    private readonly List<List<(Rune Rune, float Probability, Attribute? Style)>> _lines = [[]];
    private int _version;
    private int _drawnVersion = -1;
    private long _dropped; // lines removed from the front past MaxLines: _lines[i] is line _dropped + i of all ever added
    private (long Line, int Row)? _top; // scrolled back: the wrapped row shown at the top, kept there as text arrives

    public StreamTextView()
    {
        CanFocus = false;
    }

    public int MaxLines { get; set; } = 2000;

    /// <summary>What the marker on the last row says is below while scrolled back: a log's newer output, by default.</summary>
    public string MoreBelow { get; init; } = "newer below";

    /// <summary>
    /// A wrapped line's later rows start under its first word, not at column 0 (the help box: a
    /// command's indented summary read as a new entry where it wrapped). Off for streamed text,
    /// whose leading spaces are the model's.
    /// </summary>
    public bool HangingIndent { get; init; }

    /// <summary>
    /// A wrapped line's later rows start under its second word (after the first word and its spaces): the command log's
    /// lines lead with a label (`help`'s command, "error:", "warning:", the "&gt;" of an echoed line) and read as new
    /// entries where they wrap at column 0, or as nested ones under a fixed column.
    /// </summary>
    public bool IndentUnderSecondWord { get; init; }

    /// <summary>
    /// Following the tail, a newest line taller than the view shows from its start, not its end: the Train
    /// screen's one-row samples pane showed the middle of a sample, without its "epoch N (val …)".
    /// </summary>
    public bool NewestLineFromStart { get; init; }

    /// <summary>
    /// Whether an empty newest line (after a line that ended with its line break, as every line of the command log does)
    /// takes no row: at 80×24 the log's two rows showed one line and a blank, often the end of a wrapped line alone.
    /// </summary>
    public bool HidesEmptyNewestLine { get; init; }

    /// <summary>How many of <see cref="_lines"/> take rows (under the gate).</summary>
    private int ShownLines => HidesEmptyNewestLine && _lines.Count > 1 && _lines[^1].Count == 0 ? _lines.Count - 1 : _lines.Count;

    /// <summary>Rows scrolled back from the newest (0: following the tail, as text streams in).</summary>
    public int ScrollBack { get; private set; }

    /// <summary>Scrolls towards older text (positive) or back towards the tail (negative).</summary>
    public void ScrollBy(int rows)
    {
        lock (_gate)
        {
            ScrollBack = Math.Max(0, ScrollBack + rows); // clamped to the text when drawn
            _top = null; // the top row is where the scroll lands, found at the next layout
        }
        SetNeedsDraw();
    }

    /// <summary>A page towards older text (<paramref name="older"/>) or back towards the tail, a row of the last page kept in view.</summary>
    public void ScrollPage(bool older) => ScrollBy((older ? 1 : -1) * Math.Max(1, Viewport.Height - 1));

    public void ScrollToEnd()
    {
        lock (_gate)
        {
            ScrollBack = 0;
            _top = null;
        }
        SetNeedsDraw();
    }

    /// <summary>Render timer: asks for a redraw only when text was added or cleared since the last one.</summary>
    public void RedrawIfChanged()
    {
        var version = Version;
        if (version == _drawnVersion) return;
        _drawnVersion = version;
        SetNeedsDraw();
    }
    public bool ColorByProbability { get; set; }
    public int Version => Volatile.Read(ref _version);

    /// <summary>Adds text; <paramref name="probability"/> &lt; 0 means "not model output" (drawn plain or in <paramref name="style"/>).</summary>
    public void Append(string text, float probability = -1, Attribute? style = null)
    {
        lock (_gate)
        {
            foreach (var rune in text.EnumerateRunes())
            {
                if (rune.Value == '\n')
                {
                    _lines.Add([]);
                    if (_lines.Count > MaxLines)
                    {
                        _lines.RemoveAt(0);
                        _dropped++;
                    }
                    continue;
                }
                if (rune.Value == '\r') continue;
                _lines[^1].Add((rune.Value == '\t' ? new Rune(' ') : rune, probability, style));
            }
        }
        Interlocked.Increment(ref _version);
    }

    public void AppendLine(string text, Attribute? style = null) => Append(text + "\n", -1, style);

    public bool IsEmpty { get { lock (_gate) return _lines.Count == 1 && _lines[0].Count == 0; } }

    public void Clear()
    {
        lock (_gate)
        {
            _dropped += _lines.Count;
            _lines.Clear();
            _lines.Add([]);
            ScrollBack = 0;
            _top = null;
        }
        Interlocked.Increment(ref _version);
    }

    /// <summary>All text, for tests and copying.</summary>
    public string Content
    {
        get
        {
            lock (_gate) return string.Join("\n", _lines.Select(l => string.Concat(l.Select(c => c.Rune.ToString()))));
        }
    }

    protected override bool OnDrawingContent(DrawContext? context)
    {
        var normal = GetAttributeForRole(VisualRole.Normal);
        int width = Viewport.Width, height = Viewport.Height;
        if (width <= 0 || height <= 0) return true;
        foreach (var (row, cells) in VisibleRows(width, height).Select((cells, row) => (row, cells)))
        {
            if (ScrollBack > 0 && row == height - 1 && height > 1) break; // the marker's row: drawn over a row's end, it hid words and read as text
            Move(0, row);
            foreach (var (rune, probability, style) in cells)
            {
                SetAttribute(style ?? (ColorByProbability && probability >= 0 ? ForProbability(probability, normal) : normal));
                AddRune(rune);
            }
        }
        if (ScrollBack > 0)
        {
            var more = $" ↓ {MoreBelow}: PgDn ";
            Move(0, height - 1);
            SetAttribute(normal);
            AddStr(new string(' ', Math.Max(0, width - more.Length)));
            SetAttribute(Monochrome.Or(new Attribute(Color.Black, Color.BrightYellow), TextStyle.Reverse));
            AddStr(more.Length <= width ? more : more[..width]);
        }
        return true;
    }

    /// <summary>
    /// The wrapped rows a <paramref name="width"/> × <paramref name="height"/> view shows: the newest,
    /// or, scrolled back, the same text as at the last layout (ScrollBack grows by the rows added
    /// below it), or the rows ScrollBy moved to.
    /// </summary>
    internal List<List<(Rune Rune, float Probability, Attribute? Style)>> VisibleRows(int width, int height)
    {
        lock (_gate)
        {
            if (ScrollBack > 0 && _top is { } top && top.Line >= _dropped)
            {
                long below = -top.Row; // rows from the top one to the end
                for (var i = (int)(top.Line - _dropped); i < ShownLines; i++) below += Wrap(_lines[i], width).Count;
                ScrollBack = (int)Math.Clamp(below - height, 0, int.MaxValue);
            }
            // Only the tail (or as far back as scrolled) can be visible: wrap just enough lines from the end.
            var visual = new List<(int Line, int Row, int Start, int Count, int Indent)>();
            for (int i = ShownLines - 1; i >= 0 && visual.Count < height + ScrollBack; i--)
                visual.InsertRange(0, Wrap(_lines[i], width).Select((piece, row) => (i, row, piece.Start, piece.Count, piece.Indent)));
            ScrollBack = Math.Min(ScrollBack, Math.Max(0, visual.Count - height));
            int first = Math.Max(0, visual.Count - height - ScrollBack);
            if (NewestLineFromStart && ScrollBack == 0) first = Math.Min(first, visual.FindIndex(v => v.Line == _lines.Count - 1));
            _top = ScrollBack > 0 ? (_dropped + visual[first].Line, visual[first].Row) : null;
            return visual.Skip(first).Take(height)
                .Select(v => Enumerable.Repeat((new Rune(' '), -1f, (Attribute?)null), v.Indent).Concat(_lines[v.Line].GetRange(v.Start, v.Count)).ToList())
                .ToList();
        }
    }

    /// <summary>
    /// A line cut into rows of at most <paramref name="width"/> terminal columns, between words where it
    /// can: a row ends after its last space, and the word that did not fit starts the next (a space
    /// that falls at the break is not drawn). A word longer than a row is cut. A wide char (CJK, most
    /// emoji) takes two columns, so it moves whole to the next row rather than run past the edge.
    /// With <see cref="HangingIndent"/>, rows after the first are indented (Indent) as far as the
    /// line's leading spaces, or with <see cref="IndentUnderSecondWord"/> as far as its second word, unless that leaves less than half the width.
    /// </summary>
    /// <summary>
    /// The column a line's second word starts at (its leading spaces, first word and the spaces after it); 0 for a line of
    /// one word. An indented line's first word is its label only where it ends in ':' (info's "  training: …"): indented
    /// prose (help COMMAND's summary, "  Leave charrnn …") goes on under its start, not under "charrnn".
    /// </summary>
    private static int SecondWordColumn(List<(Rune Rune, float, Attribute?)> line)
    {
        int i = 0, columns = 0;
        bool Space(int at) => line[at].Rune.Value == ' ';
        void Skip(bool spaces) { for (; i < line.Count && Space(i) == spaces; i++) columns += Math.Max(0, line[i].Rune.GetColumns()); }
        Skip(spaces: true);
        if (i > 0 && i < line.Count && !FirstWordIsLabel(line, i)) return 0;
        Skip(spaces: false);
        Skip(spaces: true);
        return i < line.Count ? columns : 0;
    }

    /// <summary>Whether the word at <paramref name="start"/> ends in ':'.</summary>
    private static bool FirstWordIsLabel(List<(Rune Rune, float, Attribute?)> line, int start)
    {
        var end = start;
        while (end < line.Count && line[end].Rune.Value != ' ') end++;
        return line[end - 1].Rune.Value == ':';
    }

    private List<(int Start, int Count, int Indent)> Wrap(List<(Rune Rune, float, Attribute?)> line, int width)
    {
        var rows = new List<(int Start, int Count, int Indent)>();
        var leading = HangingIndent ? line.TakeWhile(c => c.Rune.Value == ' ').Count() : 0;
        var indent = IndentUnderSecondWord ? Math.Max(leading, SecondWordColumn(line)) : leading;
        if (indent > width / 2) indent = 0;
        int start = 0, columns = 0, space = -1; // space: the last space in the row being filled
        var endsAtBreak = false;
        // Spaces that end a line take no row of their own: a table's padded row a column wider than the pane wrapped onto a blank row.
        var last = line.Count;
        while (last > 0 && line[last - 1].Rune.Value == ' ') last--;
        if (last == 0) last = line.Count;
        for (var i = 0; i < last; i++)
        {
            var w = Math.Max(0, line[i].Rune.GetColumns());
            var isSpace = line[i].Rune.Value == ' ';
            if (columns + w > width - (rows.Count > 0 ? indent : 0) && i > start)
            {
                if (isSpace)
                {
                    rows.Add((start, i - start, rows.Count > 0 ? indent : 0));
                    (start, columns, space, endsAtBreak) = (i + 1, 0, -1, true);
                    continue;
                }
                var end = space >= start ? space + 1 : i;
                rows.Add((start, end - start, rows.Count > 0 ? indent : 0));
                (start, columns, space) = (end, 0, -1);
                for (var j = start; j < i; j++) columns += Math.Max(0, line[j].Rune.GetColumns());
            }
            endsAtBreak = false;
            if (isSpace) space = i;
            columns += w;
        }
        if (!endsAtBreak) rows.Add((start, last - start, rows.Count > 0 ? indent : 0)); // an empty line is one empty row
        return rows;
    }

    /// <summary>
    /// Takes the keyboard (Tab reaches it) and scrolls with ↑↓ PgUp PgDn, Home (the oldest text) and End
    /// (back to the tail): the generated text, where PgUp at the command line scrolls the command log.
    /// </summary>
    public bool ScrollsByKeyboard
    {
        get => CanFocus;
        init => CanFocus = value;
    }

    protected override bool OnKeyDown(Terminal.Gui.Input.Key key)
    {
        if (!CanFocus) return base.OnKeyDown(key);
        if (key == Terminal.Gui.Input.Key.PageUp || key == Terminal.Gui.Input.Key.PageDown) ScrollPage(older: key == Terminal.Gui.Input.Key.PageUp);
        else if (key == Terminal.Gui.Input.Key.End) ScrollToEnd();
        else if (key == Terminal.Gui.Input.Key.CursorUp || key == Terminal.Gui.Input.Key.CursorDown || key == Terminal.Gui.Input.Key.Home)
            ScrollBy(key == Terminal.Gui.Input.Key.CursorUp ? 1 : key == Terminal.Gui.Input.Key.CursorDown ? -1 : 1_000_000);
        else return base.OnKeyDown(key);
        return true;
    }

    /// <summary>The mouse wheel scrolls through older text.</summary>
    protected override bool OnMouseEvent(Terminal.Gui.Input.Mouse mouse)
    {
        if (mouse.Flags.HasFlag(Terminal.Gui.Input.MouseFlags.WheeledUp)) { ScrollBy(3); return true; }
        if (mouse.Flags.HasFlag(Terminal.Gui.Input.MouseFlags.WheeledDown)) { ScrollBy(-3); return true; }
        return base.OnMouseEvent(mouse);
    }

    /// <summary>
    /// Green when the model was sure, through cyan and yellow, to red when it was surprised; without colour (NO_COLOR),
    /// plain from 50%, underlined under it, bold and underlined under 20%.
    /// </summary>
    public static Attribute ForProbability(float p, Attribute normal) => Monochrome.On
        ? Monochrome.Plain(p >= 0.5f ? TextStyle.None : p >= 0.2f ? TextStyle.Underline : TextStyle.Bold | TextStyle.Underline)
        : new(p >= 0.8f ? Color.BrightGreen : p >= 0.5f ? Color.BrightCyan : p >= 0.2f ? Color.BrightYellow : Color.BrightRed, normal.Background);
}
