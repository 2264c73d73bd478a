using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace CharRnn.Tui.Views;

/// <summary>F1: the keys and every command, in a box that scrolls (a message box centred the text and cut it off at 80×24).</summary>
public sealed class HelpDialog : Dialog
{
    /// <param name="quit">What Ctrl+Q does: it quits from here too, as the status bar (not active in a dialog) promises.</param>
    public HelpDialog(string text, Action quit)
    {
        Title = "charrnn help: ↑↓ PgUp PgDn scroll, Esc closes";
        Width = Dim.Percent(90);
        Height = Dim.Percent(90);
        Body = new StreamTextView { Width = Dim.Fill(), Height = Dim.Fill(), ScrollsByKeyboard = true, HangingIndent = true, MoreBelow = "more below" }; // not a log's "newer"
        Body.Append(text);
        Body.ScrollBy(1_000_000); // from the top: scrolling is counted back from the end, and clamped to the text
        Add(Body);
        Monochrome.Unshadowed(this);
        AddButton(Monochrome.Unshadowed(new Button { Text = "_Close", IsDefault = true }));
        Body.SetFocus();
        KeyDown += (_, key) =>
        {
            if (key != Key.Q.WithCtrl) return;
            key.Handled = true;
            quit();
        };
    }

    /// <summary>The scrolling text (tests).</summary>
    internal StreamTextView Body { get; }
}
