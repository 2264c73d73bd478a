using CharRnn.Tui.Repl;
using Terminal.Gui.Input;
using Terminal.Gui.Text;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace CharRnn.Tui.Views;

/// <summary>
/// A text field with a shell's line editing keys, as readline binds them: Ctrl+U (to the start),
/// Ctrl+K (to the end), Ctrl+W (the word before the cursor), Ctrl+A and Ctrl+E (to the start and the end of the line).
/// The command line and the forms' fields both: a key that works at the prompt works in a field.
/// Ctrl+A was Terminal.Gui's select-all: a shell user's Ctrl+A and the key typed after it replaced the whole command.
/// </summary>
public class ShellTextField : TextField
{
    /// <summary>
    /// Whether text that runs on past the field's right edge ends there in "…" (not over the cursor): a long prime was cut
    /// at the edge as if it ended there.
    /// </summary>
    public bool MarksTextCutAtTheEdge { get; init; }

    /// <summary>
    /// Whether taking the focus selects the whole text (TextField's way, as a form's field does). The command line does not:
    /// after Esc, or a key typed on a screen that passes it on, the first key replaced the half-typed command.
    /// </summary>
    public bool SelectsAllOnFocus { get; init; } = true;

    /// <summary>
    /// What a paste (the terminal's bracketed paste, or Ctrl+V's clipboard) inserts, given the text before the cursor and
    /// the pasted text; null: a one-line value's (a number, a name), <see cref="OneLine"/>.
    /// </summary>
    public Func<string, string, string>? PasteInto { get; init; }

    protected override string OnSanitizingPaste(string raw)
    {
        if (PasteInto is not { } into)
        {
            if (OneLine(raw) is { } line) return base.OnSanitizingPaste(line);
            // Said in the command log (the window's), as a bad value sent from a form is.
            for (var view = SuperView; view != null; view = view.SuperView)
                if (view is IReplOutput output) { output.Error(SeveralLines(raw)); break; }
            return "";
        }
        var start = SelectedLength > 0 ? Math.Min(SelectedStart, InsertionPoint) : InsertionPoint; // a selection is replaced
        return base.OnSanitizingPaste(into(Text[..StringIndex(Text, start)], raw));
    }

    /// <summary>
    /// What a one-line field takes of a paste: its one line, without the line breaks and blank lines around it (a line
    /// copied with its line break); null for several lines, which no number or name is (Terminal.Gui's field kept the
    /// first line alone, so a pasted list's first value went in unsaid).
    /// </summary>
    public static string? OneLine(string pasted)
    {
        var lines = NonBlankLines(pasted);
        return lines.Count switch { 0 => "", 1 => lines[0], _ => null };
    }

    private static List<string> NonBlankLines(string pasted) => [.. pasted.ReplaceLineEndings("\n").Split('\n').Where(l => l.Trim().Length > 0)];

    /// <summary>Why a paste of several lines went into no one-line field.</summary>
    public static string SeveralLines(string pasted) =>
        $"a field takes one line, and the paste has {NonBlankLines(pasted).Count}: nothing went in. " +
        "Paste one line; a prime of several lines goes into the Generate screen's prime field, or the command line inside gen \"…\".";

    /// <summary>Inserts a paste as Terminal.Gui's paste command does (what <see cref="PasteInto"/> makes of it, at the cursor).</summary>
    public void InsertPaste(string raw)
    {
        var text = OnSanitizingPaste(raw);
        if (text.Length > 0) OnPaste(text);
    }

    protected override void OnHasFocusChanged(bool newHasFocus, View? previousFocusedView, View? focusedView)
    {
        base.OnHasFocusChanged(newHasFocus, previousFocusedView, focusedView);
        if (newHasFocus && !SelectsAllOnFocus) ClearAllSelection();
    }

    protected override bool OnDrawingContent(DrawContext? context)
    {
        var drawn = base.OnDrawingContent(context);
        if (!MarksTextCutAtTheEdge || Viewport.Width < 2) return drawn;
        var elements = System.Globalization.StringInfo.ParseCombiningCharacters(Text);
        var shown = Text[(ScrollOffset < elements.Length ? elements[Math.Max(0, ScrollOffset)] : Text.Length)..];
        var lastColumn = Viewport.Width - 1;
        if (shown.GetColumns() <= Viewport.Width || (HasFocus && InsertionPoint - ScrollOffset == lastColumn)) return drawn;
        AddStr(lastColumn, 0, "…");
        return drawn;
    }

    protected override bool OnKeyDown(Key key)
    {
        if (key == Key.U.WithCtrl) return Edit((line, at) => (line[at..], 0));
        if (key == Key.K.WithCtrl) return Edit((line, at) => (line[..at], at));
        if (key == Key.E.WithCtrl) return Edit((line, _) => (line, line.Length));
        if (key == Key.A.WithCtrl) return Edit((line, _) => (line, 0));
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
        ClearAllSelection(); // a field that selected all on taking the focus: what is typed next goes in, not over it
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
