using CharRnn.Tui.ViewModels;
using Terminal.Gui.Views;

namespace CharRnn.Tui.Views;

/// <summary>
/// The status bar's item for the connection: the longest form of the server's status that fits the columns the
/// keys before it leave, or, for a while after an idle Ctrl+C, the hint that a second one quits, in the longest of its
/// forms that fits those columns too: whole, it pushed F5 and F6 off an 80-column bar.
/// </summary>
public sealed class StatusLine(ServerStatus status)
{
    internal const string QuitHint = "press Ctrl+C again to quit";

    /// <summary>The quit hint's forms, longest first; the last one's columns the bar keeps for it (<see cref="Shortest"/>).</summary>
    internal static readonly string[] QuitHints = [QuitHint, "Ctrl+C again quits", "^C again quits", "^C to quit", "^C quits"];

    private int _room = int.MaxValue; // measured at each layout (Fit)
    private DateTime _quitHintUntil = DateTime.MinValue;

    public Shortcut Item { get; } = new() { Title = "connecting…", CanFocus = false };

    /// <summary>Whether the quit hint shows: a Ctrl+C now is the second one.</summary>
    public bool ShowsQuitHint => DateTime.UtcNow < _quitHintUntil;

    /// <summary>Shows the quit hint for <paramref name="duration"/>, in place of the connection's words.</summary>
    public void ShowQuitHint(TimeSpan duration)
    {
        _quitHintUntil = DateTime.UtcNow + duration;
        Show();
    }

    /// <summary>The fewest columns the connection's words take: their shortest form, or the quit hint's where it is longer.</summary>
    public int Shortest => Math.Max(status.LineFitting(0).Length, QuitHints[^1].Length);

    /// <summary>After a layout: the columns the connection's words have (what the keys leave: <see cref="StatusBarKeys.Fit"/>), and the longest form that fits.</summary>
    public void Fit(int room)
    {
        _room = room;
        Show();
    }

    /// <summary>The connection's words in the status bar, or the quit hint while a second Ctrl+C would quit.</summary>
    public void Show()
    {
        var line = ShowsQuitHint ? QuitHints.FirstOrDefault(h => h.Length <= _room) ?? QuitHints[^1] : status.LineFitting(_room);
        // Where even the shortest form does not fit (a bar under some 40 columns), it is cut, not the keys after it pushed off.
        if (line.Length > _room && _room > 0) line = line[..(_room - 1)] + "…";
        if (Item.Title != line) Item.Title = line;
    }
}
