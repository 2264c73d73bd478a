using CharRnn.Tui.Repl;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.Text;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Views;

/// <summary>
/// The command line: a log of results above a prompt. Enter runs the line, Up/Down walk the
/// history, Tab completes commands, names and option keys, PgUp/PgDn scroll the log; Ctrl+U, Ctrl+K,
/// Ctrl+W, Ctrl+A and Ctrl+E edit as in a shell (<see cref="ShellTextField"/>).
/// </summary>
public sealed class ReplView : FrameView
{
    private readonly CommandHistory _history;
    private readonly CompletionSource _completion;
    private readonly Func<string, Action, Task> _run; // runs a line after those before it, calling back when it starts

    /// <param name="history">Kept in a file by the app; in memory only when not given.</param>
    public ReplView(CompletionSource completion, Func<string, Action, Task> run, CommandHistory? history = null)
    {
        _history = history ?? new CommandHistory();
        _completion = completion;
        _run = run;
        Title = Titles[0];
        FrameChanged += (_, _) => Title = Titles.FirstOrDefault(t => t.GetColumns() + TitleFrame <= Frame.Width) ?? Titles[^1];
        // A wrapped line's later rows indented, as in the F1 box: help's summaries under their start, an indented line under itself.
        Log = new StreamTextView { X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Fill(1), HangingIndent = true, IndentUnderSecondWord = true, HidesEmptyNewestLine = true };
        var prompt = new Label { Text = ">", X = 0, Y = Pos.AnchorEnd(1) };
        Input = new ShellTextField { X = 2, Y = Pos.AnchorEnd(1), Width = Dim.Fill(), SelectsAllOnFocus = false, PasteInto = PastedText.IntoCommandLine };
        Input.KeyDown += OnKey;
        Add(Log, prompt, Input);
    }

    public StreamTextView Log { get; }

    /// <summary>The pane's title, longest first: the first that fits whole (below 86 columns the longest was cut mid-phrase).</summary>
    private static readonly string[] Titles =
    [
        "Command (Tab completes, ↑↓ history, PgUp/PgDn scroll, help lists commands)",
        "Command (Tab completes, ↑↓ history, help lists commands)",
        "Command (Tab completes, ↑↓ history)",
        "Command",
    ];

    /// <summary>The border's columns either side of a title: corner and joint.</summary>
    private const int TitleFrame = 4;

    /// <summary>
    /// Takes PgUp/PgDn before the log (the argument: PgUp) and says whether it scrolled something else:
    /// on the Generate screen they scroll the generated text, what one reads back there.
    /// </summary>
    public Func<bool, bool>? PageKeys { get; set; }
    public ShellTextField Input { get; }

    public static Attribute Echo => Monochrome.Or(new(Color.BrightBlue, Color.Black), TextStyle.Bold);
    public static Attribute Failure => Monochrome.Or(new(Color.BrightRed, Color.Black), TextStyle.Bold | TextStyle.Underline);
    public static Attribute Waiting => Monochrome.Or(new(Color.DarkGray, Color.Black), TextStyle.Faint);

    /// <summary>How long a line may wait for the one before it before the log says it is waiting.</summary>
    public static readonly TimeSpan WaitingNoteAfter = TimeSpan.FromMilliseconds(500);

    /// <summary>Runs a line as if typed (echoed, remembered in history).</summary>
    public Task Submit(string line)
    {
        _history.Add(line);
        Log.ScrollToEnd();
        // Echoed when its turn comes: a line typed while another runs would show above that one's output.
        var started = 0;
        var run = _run(line, () =>
        {
            Volatile.Write(ref started, 1);
            Log.AppendLine("> " + line, Echo);
        });
        if (Volatile.Read(ref started) == 0) _ = SayIfStillWaiting();
        return run;

        // Behind a slow line (a large model loading, a server that does not answer) the typed one would otherwise
        // show nowhere until its turn, and be typed again.
        async Task SayIfStillWaiting()
        {
            await Task.Delay(WaitingNoteAfter);
            if (Volatile.Read(ref started) == 0) Log.AppendLine($"  (waiting for the command before it to end: {line})", Waiting);
        }
    }

    private void OnKey(object? sender, Key key)
    {
        if (key == Key.Enter)
        {
            var line = Input.Text;
            Input.Text = "";
            if (!string.IsNullOrWhiteSpace(line)) _ = Submit(line);
            key.Handled = true;
        }
        else if (key == Key.CursorUp)
        {
            if (_history.Previous(Input.Text) is { } previous) SetInput(previous);
            key.Handled = true;
        }
        else if (key == Key.CursorDown)
        {
            if (_history.Next() is { } next) SetInput(next);
            key.Handled = true;
        }
        else if (key == Key.Tab)
        {
            Complete();
            key.Handled = true;
        }
        else if (key == Key.PageUp || key == Key.PageDown)
        {
            ScrollPage(older: key == Key.PageUp);
            key.Handled = true;
        }
    }

    /// <summary>PgUp (<paramref name="older"/>) or PgDn: a page of the log, or of what <see cref="PageKeys"/> scrolls instead.</summary>
    public void ScrollPage(bool older)
    {
        if (PageKeys?.Invoke(older) != true) Log.ScrollPage(older);
    }

    private string? _choicesShownFor;

    private void Complete()
    {
        var line = Input.Text;
        var cursor = ShellTextField.StringIndex(line, Input.InsertionPoint);
        var (start, candidates) = Completer.Complete(line, cursor, _completion.Current);
        if (candidates.Count == 0) return;
        // A key goes on with its value, a folder with what is in it: no space after either.
        var insert = candidates.Count == 1 ? candidates[0] + (candidates[0].EndsWith('=') || candidates[0].EndsWith('/') ? "" : " ") : Completer.CommonPrefix(candidates);
        // Several names share the prefix regardless of case ("sTERM", "stateful-gru"): what was typed keeps its letters.
        var typed = line[start..cursor];
        if (candidates.Count > 1 && insert.Length >= typed.Length) insert = typed + insert[typed.Length..];
        // The choices once for a line: another Tab on it would only print them again.
        if (candidates.Count > 1 && insert.Length <= cursor - start && line != _choicesShownFor)
        {
            Log.AppendLine(string.Join("  ", candidates.Take(40)) + (candidates.Count > 40 ? " …" : ""));
            _choicesShownFor = line;
        }
        if (insert.Length < cursor - start) return;
        var updated = line[..start] + insert + line[cursor..];
        Input.Text = updated;
        Input.InsertionPoint = new System.Globalization.StringInfo(updated[..(start + insert.Length)]).LengthInTextElements;
    }

    private void SetInput(string text)
    {
        Input.Text = text;
        Input.InsertionPoint = text.Length;
    }
}
