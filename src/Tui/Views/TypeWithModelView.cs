using System.Text;
using CharRnn.Tui.ViewModels;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.Text;
using Terminal.Gui.ViewBase;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Views;

/// <summary>
/// "Type with the model": what you type, followed by the model's predicted continuation as
/// ghost text. Each keystroke advances the session's hidden state by one step on the server;
/// Tab accepts the prediction; Backspace retypes the line from a reset state. Each typed char is
/// coloured by how surprised the model was by it (<see cref="SurpriseColors"/>), once its score comes.
/// </summary>
public sealed class TypeWithModelView : View
{
    private readonly InteractiveTyping _typing;
    private readonly Func<string?> _model;
    private readonly StringBuilder _typed = new();
    private int _drawn = -1;

    public TypeWithModelView(InteractiveTyping typing, Func<string?> currentModel)
    {
        _typing = typing;
        _model = currentModel;
        Title = "Type";
        HotKeySpecifier = HotKeys.None; // a title hotkey fires on its bare letter from any tab that does not take it; F2–F6 switch tabs
        Width = Dim.Fill();
        Height = Dim.Fill();
        CanFocus = true;
    }

    public string Typed => _typed.ToString();

    public static Attribute Ghost => Monochrome.Or(new(Color.DarkGray, Color.Black), TextStyle.Faint);

    /// <summary>
    /// The hint above the text: cyan, a colour no typed char takes (green, plain, yellow, red) and not the grey
    /// prediction's, so it cannot be read as a surprise mark (it was the yellow of 2–10%).
    /// </summary>
    private static readonly Color HintColor = Color.BrightCyan;

    public void Refresh()
    {
        if (_typing.Version == _drawn) return;
        _drawn = _typing.Version;
        SetNeedsDraw();
    }

    protected override bool OnKeyDown(Key key)
    {
        // No model to type with: keys go where no field takes them, the command line (`use gru` typed here is a command).
        if (_model() == null) return base.OnKeyDown(key);
        if (key == Key.Tab)
        {
            var prediction = _typing.PredictionFor(_model()!);
            if (prediction.Length > 0) Type(prediction);
            return true;
        }
        if (key == Key.Backspace)
        {
            if (_typed.Length > 0)
            {
                // One character as seen: a surrogate pair (an emoji) goes whole.
                var pair = _typed.Length > 1 && char.IsLowSurrogate(_typed[^1]) && char.IsHighSurrogate(_typed[^2]);
                _typed.Length -= pair ? 2 : 1;
                if (_model() is { } model) _typing.Retype(model, _typed.ToString());
                SetNeedsDraw();
            }
            return true;
        }
        if (key == Key.Enter) { Type("\n"); return true; }
        var rune = key.AsRune;
        if (rune.Value >= 32 && !key.IsCtrl && !key.IsAlt)
        {
            Type(rune.ToString());
            return true;
        }
        return base.OnKeyDown(key);
    }

    private void Type(string text)
    {
        _typed.Append(text);
        if (_model() is { } model)
        {
            // A new model (or the first keystroke) starts a session: send the whole text then.
            if (_typing.Model != model) _typing.Retype(model, _typed.ToString());
            else _typing.Type(model, text);
        }
        SetNeedsDraw();
    }

    /// <summary>The hint's most rows: two cut it at 50 to 69 columns ("what you type goes to the command…").</summary>
    private const int HintRows = 3;

    protected override bool OnDrawingContent(DrawContext? context)
    {
        int width = Viewport.Width, height = Viewport.Height;
        if (width <= 0 || height <= 0) return true;
        var normal = GetAttributeForRole(VisualRole.Normal);
        var model = _model();
        int row = 0, col = 0;
        SetAttribute(Monochrome.Or(new Attribute(HintColor, normal.Background), TextStyle.Italic));
        foreach (var line in WordWrap.Lines(model == null
                     ? "Pick a model first (use NAME, or Enter on one in Models); until then what you type goes to the command line."
                     : $"Typing with {model}: the {(Monochrome.On ? "faint" : "grey")} text is its prediction. Tab accepts it; Esc returns to the command line.", width, HintRows))
        {
            Move(0, row++);
            AddStr(line);
        }
        if (model != null)
        {
            // The colours' key, each in its own colour, on the rows it needs.
            foreach (var pieces in SurpriseColors.LegendRows(normal, width))
            {
                Move(0, row++);
                foreach (var (text, attribute) in pieces) { SetAttribute(attribute); AddStr(text); }
            }
        }
        if (_typing.Error is { } error)
        {
            SetAttribute(Monochrome.Or(new Attribute(Color.BrightRed, normal.Background), TextStyle.Bold));
            foreach (var line in WordWrap.Lines(error, width, 2))
            {
                Move(0, row++);
                AddStr(line);
            }
        }
        row++; // a blank line before the text
        var cells = new List<(Rune, Attribute)>();
        var typed = _typed.ToString();
        // Only the model in use's: after `use` another, the last one's stream still delivers until the next keystroke.
        var losses = model == null ? new double?[typed.EnumerateRunes().Count()] : _typing.LossesFor(typed, model); // a char not scored yet draws plain
        foreach (var r in typed.EnumerateRunes()) cells.Add((r, losses[cells.Count] is { } loss ? SurpriseColors.ForLoss(loss, normal) : normal));
        foreach (var r in (model == null ? "" : _typing.PredictionFor(model)).EnumerateRunes()) cells.Add((r, Ghost));
        var top = row;
        var rows = new List<List<(Rune, Attribute)>> { new() };
        var used = 0; // columns of the row so far: a wide char (漢) takes two, and moves whole to the next row
        foreach (var cell in cells)
        {
            var columns = Math.Max(0, cell.Item1.GetColumns());
            if (cell.Item1.Value == '\n') { rows.Add([]); used = 0; }
            else if (used + columns > width)
            {
                // At a word's end, as the Generate panes wrap: the word being typed moves whole to the next row
                // ("everything and no" / "thing at all"); a word as long as the row goes on on the next one.
                var last = rows[^1];
                var space = last.FindLastIndex(c => c.Item1.Value == ' ');
                var next = space > 0 && cell.Item1.Value != ' ' ? last.GetRange(space + 1, last.Count - space - 1) : [];
                if (next.Count > 0) last.RemoveRange(space + 1, next.Count);
                rows.Add(next);
                used = next.Sum(c => Math.Max(0, c.Item1.GetColumns()));
            }
            if (cell.Item1.Value != '\n') { rows[^1].Add(cell); used += columns; }
        }
        foreach (var line in rows.Skip(Math.Max(0, rows.Count - Math.Max(1, height - top))))
        {
            Move(0, row++);
            col = 0;
            foreach (var (rune, attr) in line) { SetAttribute(attr); AddRune(rune); col++; }
        }
        return true;
    }
}
