using Terminal.Gui.Input;
using Terminal.Gui.Views;

namespace CharRnn.Tui.Views;

/// <summary>
/// A text field with a shell's line editing keys, as readline binds them: Ctrl+U (to the start),
/// Ctrl+K (to the end), Ctrl+W (the word before the cursor), Ctrl+E (to the end of the line).
/// The command line and the forms' fields both: a key that works at the prompt works in a field.
/// Ctrl+A stays Terminal.Gui's select-all: Home goes to the start.
/// </summary>
public class ShellTextField : TextField
{
    protected override bool OnKeyDown(Key key)
    {
        if (key == Key.U.WithCtrl) return Edit((line, at) => (line[at..], 0));
        if (key == Key.K.WithCtrl) return Edit((line, at) => (line[..at], at));
        if (key == Key.E.WithCtrl) return Edit((line, _) => (line, line.Length));
        if (key == Key.W.WithCtrl) return Edit((line, at) =>
        {
            var start = at;
            while (start > 0 && line[start - 1] == ' ') start--;
            while (start > 0 && line[start - 1] != ' ') start--;
            return (line[..start] + line[at..], start);
        });
        return base.OnKeyDown(key);
    }

    /// <summary>Replaces the text and cursor (string indexes, not text elements).</summary>
    private bool Edit(Func<string, int, (string Text, int Cursor)> edit)
    {
        if (ReadOnly) return false;
        var (text, cursor) = edit(Text, StringIndex(Text, InsertionPoint));
        Text = text;
        InsertionPoint = new System.Globalization.StringInfo(text[..cursor]).LengthInTextElements;
        return true;
    }

    /// <summary>The UTF-16 index of a text-element position, as the field counts its insertion point (an emoji is one, not two).</summary>
    internal static int StringIndex(string text, int textElements)
    {
        var index = 0;
        var elements = System.Globalization.StringInfo.GetTextElementEnumerator(text);
        for (var i = 0; i < textElements && elements.MoveNext(); i++) index = elements.ElementIndex + ((string)elements.Current).Length;
        return index;
    }
}
