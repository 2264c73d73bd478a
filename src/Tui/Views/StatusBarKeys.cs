using Terminal.Gui.Drawing;
using Terminal.Gui.Views;

namespace CharRnn.Tui.Views;

/// <summary>
/// The status bar's keys in one of two forms, as htop and mc fit theirs to the terminal: Terminal.Gui's own
/// (" F2  Models │") where they all fit beside the connection's shortest words, else a compact one ("F2 Models│":
/// key and label one word, no padding, shorter labels). At 80 columns the wide form cut F2 after "Mod" and left
/// F3–F6 out, and nothing else on the screen says which keys switch screens.
/// </summary>
public sealed class StatusBarKeys
{
    private readonly (Shortcut Item, string Wide, string Compact)[] _keys;
    private readonly Shortcut[] _all;

    /// <param name="items">The bar's items in order: keys with their compact label (the connection's item: no label).</param>
    public StatusBarKeys(params (Shortcut Item, string? Compact)[] items)
    {
        _all = items.Select(i => i.Item).ToArray();
        _keys = items.Where(i => i.Compact != null).Select(i => (i.Item, i.Item.Title, $"{i.Item.Key} {i.Compact}".Replace("Ctrl+", "^"))).ToArray();
    }

    public Shortcut[] Items => _all;

    /// <summary>Whether the bar shows the compact form.</summary>
    public bool Compact { get; private set; }

    // A wide item is its key and title, each with a column either side, and its separator; a compact one its title and separator.
    // Counted from the texts, not the frames: those of a layout that changed the form are the old form's until the next one.
    private int WideColumns => _keys.Sum(k => k.Item.Key.ToString().Length + k.Wide.Length + 5);
    private int CompactColumns => _keys.Sum(k => k.Compact.Length + 1);
    private static int StatusChrome(bool compact) => compact ? 1 : 3;

    /// <summary>
    /// Picks the form for a bar <paramref name="columns"/> wide, where the connection's words need at least
    /// <paramref name="shortestStatus"/> columns, and returns the columns the keys leave those words (less their
    /// padding and separator). A change of form lays out again.
    /// </summary>
    public int Fit(int columns, int shortestStatus)
    {
        var compact = columns < WideColumns + shortestStatus + StatusChrome(false);
        var room = Math.Max(0, columns - (compact ? CompactColumns : WideColumns) - StatusChrome(compact));
        if (compact == Compact) return room;
        Compact = compact;
        foreach (var (item, wide, shortTitle) in _keys)
        {
            item.KeyView.Visible = !compact;
            item.Title = compact ? shortTitle : wide;
        }
        foreach (var item in _all)
            item.CommandView!.Margin!.Thickness = compact ? new Thickness(0) : new Thickness(1, 0, 1, 0);
        return room;
    }
}
