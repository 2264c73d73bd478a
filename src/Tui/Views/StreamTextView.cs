using System.Text;
using Terminal.Gui.Drawing;
using Terminal.Gui.ViewBase;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Views;

/// <summary>
/// Read-only text that grows as characters stream in, soft-wrapped, showing its newest lines
/// unless scrolled back (<see cref="ScrollBy"/>: PgUp/PgDn where it is used, and the mouse wheel).
/// Append is thread-safe (background streams call it); the render timer redraws when
/// <see cref="Version"/> moved. With <see cref="ColorByProbability"/> each char is coloured by
/// how sure the model was of it.
/// </summary>
public sealed class StreamTextView : View
{
    private readonly object _gate = new();
    private readonly List<List<(Rune Rune, float Probability, Attribute? Style)>> _lines = [[]];
    private int _version;

    public StreamTextView()
    {
        CanFocus = false;
    }

    public int MaxLines { get; set; } = 2000;

    /// <summary>Rows scrolled back from the newest (0: following the tail, as text streams in).</summary>
    public int ScrollBack { get; private set; }

    /// <summary>Scrolls towards older text (positive) or back towards the tail (negative).</summary>
    public void ScrollBy(int rows)
    {
        ScrollBack = Math.Max(0, ScrollBack + rows); // clamped to the text when drawn
        SetNeedsDraw();
    }

    public void ScrollToEnd()
    {
        ScrollBack = 0;
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
                    if (_lines.Count > MaxLines) _lines.RemoveAt(0);
                    continue;
                }
                if (rune.Value == '\r') continue;
                _lines[^1].Add((rune.Value == '\t' ? new Rune(' ') : rune, probability, style));
            }
        }
        Interlocked.Increment(ref _version);
    }

    public void AppendLine(string text, Attribute? style = null) => Append(text + "\n", -1, style);

    public void Clear()
    {
        lock (_gate)
        {
            _lines.Clear();
            _lines.Add([]);
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
        var visual = new List<List<(Rune Rune, float Probability, Attribute? Style)>>();
        lock (_gate)
        {
            // Only the tail (or as far back as scrolled) can be visible: wrap just enough lines from the end.
            for (int i = _lines.Count - 1; i >= 0 && visual.Count < height + ScrollBack; i--)
            {
                var line = _lines[i];
                var wrapped = new List<List<(Rune, float, Attribute?)>>();
                if (line.Count == 0) wrapped.Add([]);
                for (int j = 0; j < line.Count; j += width) wrapped.Add(line.GetRange(j, Math.Min(width, line.Count - j)));
                visual.InsertRange(0, wrapped);
            }
        }
        ScrollBack = Math.Min(ScrollBack, Math.Max(0, visual.Count - height));
        int first = Math.Max(0, visual.Count - height - ScrollBack);
        for (int row = 0; row < height && first + row < visual.Count; row++)
        {
            Move(0, row);
            foreach (var (rune, probability, style) in visual[first + row])
            {
                SetAttribute(style ?? (ColorByProbability && probability >= 0 ? ForProbability(probability, normal) : normal));
                AddRune(rune);
            }
        }
        if (ScrollBack > 0)
        {
            const string more = " ↓ newer below: PgDn ";
            Move(Math.Max(0, width - more.Length), height - 1);
            SetAttribute(new Attribute(Color.Black, Color.BrightYellow));
            AddStr(more.Length <= width ? more : more[..width]);
        }
        return true;
    }

    /// <summary>The mouse wheel scrolls through older text.</summary>
    protected override bool OnMouseEvent(Terminal.Gui.Input.Mouse mouse)
    {
        if (mouse.Flags.HasFlag(Terminal.Gui.Input.MouseFlags.WheeledUp)) { ScrollBy(3); return true; }
        if (mouse.Flags.HasFlag(Terminal.Gui.Input.MouseFlags.WheeledDown)) { ScrollBy(-3); return true; }
        return base.OnMouseEvent(mouse);
    }

    /// <summary>Green when the model was sure, through cyan and yellow, to red when it was surprised.</summary>
    public static Attribute ForProbability(float p, Attribute normal) => new(
        p >= 0.8f ? Color.BrightGreen : p >= 0.5f ? Color.BrightCyan : p >= 0.2f ? Color.BrightYellow : Color.BrightRed,
        normal.Background);
}
