using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace CharRnn.Tui.Views;

/// <summary>F1: the keys and every command, in a box that scrolls (a message box centred the text and cut it off at 80×24).</summary>
public sealed class HelpDialog : Dialog
{
    public HelpDialog(string text)
    {
        Title = "charrnn help: ↑↓ PgUp PgDn scroll, Esc closes";
        Width = Dim.Percent(90);
        Height = Dim.Percent(90);
        Body = new StreamTextView { Width = Dim.Fill(), Height = Dim.Fill() };
        Body.Append(text);
        Body.ScrollBy(1_000_000); // from the top: scrolling is counted back from the end, and clamped to the text
        Add(Body);
        AddButton(new Button { Text = "_Close", IsDefault = true });
        KeyDown += (_, key) =>
        {
            var page = Math.Max(1, Body.Viewport.Height - 1);
            int? rows = key == Key.CursorUp ? 1 : key == Key.CursorDown ? -1 : key == Key.PageUp ? page : key == Key.PageDown ? -page
                : key == Key.Home ? 1_000_000 : key == Key.End ? -1_000_000 : null;
            if (rows is not { } by) return;
            Body.ScrollBy(by);
            key.Handled = true;
        };
    }

    /// <summary>The scrolling text (tests).</summary>
    internal StreamTextView Body { get; }
}
