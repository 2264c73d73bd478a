using CharRnn.Tui.Repl;
using Terminal.Gui.App;
using Terminal.Gui.Input;

namespace CharRnn.Tui.Views;

/// <summary>
/// Ctrl+C, as in a Python or Node REPL: it interrupts what runs — a streaming gen or compare, or a command waiting on
/// the server (as Esc does), else the watched training job, stopped with a checkpoint (as `stop` does) — and clears a
/// typed line; only at an idle, empty prompt does it offer to quit ("press Ctrl+C again to quit" in the status bar),
/// and a second Ctrl+C within <see cref="SecondWithin"/> quits. Ctrl+Q and `quit` quit at once.
/// </summary>
/// <param name="playing">Whether a game (Type, Beat) has the keyboard: an interrupt leaves it there.</param>
public sealed class CtrlCKey(CommandRunner runner, ReplView repl, StatusLine statusLine, Func<bool> playing, Action quit)
{
    /// <summary>How long after an idle Ctrl+C a second one quits.</summary>
    public static readonly TimeSpan SecondWithin = TimeSpan.FromSeconds(2);

    private string? _stopAskedFor; // the watched job a Ctrl+C already asked to stop

    /// <summary>
    /// Takes Ctrl+C for the whole app, before a text field takes it as Copy (the terminal's raw mode sends it as a key,
    /// not SIGINT).
    /// </summary>
    public void Take(IApplication app) => app.Keyboard.KeyDown += (_, key) =>
    {
        if (key != Key.C.WithCtrl) return;
        key.Handled = true;
        Press();
    };

    public void Press()
    {
        if (statusLine.ShowsQuitHint) { quit(); return; }
        if (runner.Busy)
        {
            runner.Interrupt();
            if (!playing()) repl.Input.SetFocus();
            return;
        }
        if (runner.WatchedJob is { } job && job != _stopAskedFor)
        {
            _stopAskedFor = job;
            repl.Submit("stop");
            return;
        }
        if (repl.Input.HasFocus && repl.Input.Text.Length > 0)
        {
            repl.Input.Text = "";
            return;
        }
        statusLine.ShowQuitHint(SecondWithin);
    }
}
