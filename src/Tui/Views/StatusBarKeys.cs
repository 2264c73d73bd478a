using Terminal.Gui.Drawing;
using Terminal.Gui.Views;

namespace CharRnn.Tui.Views;

/// <summary>
/// The status bar's keys in the widest of four forms that fits beside the connection's shortest words, as htop and mc fit
/// theirs to the terminal: Terminal.Gui's own (" F2  Models │"); a compact one ("F2 Models│": key and label one word, no
/// padding, shorter labels), at 80 columns, where the wide form cut F2 after "Mod" and left F3–F6 out; a narrow one, at 60,
/// where the compact form left F5 and F6 out: the keys whose label is said elsewhere (the screens', named in that order by
/// the tab headers) bare ("F2│F3│…"); and, narrower still, every key bare. Every key stays on the bar, and clickable.
/// </summary>
public sealed class StatusBarKeys
{
    private enum Form { Wide, Compact, Narrow, Bare }

    private readonly (Shortcut Item, string Wide, string Compact, string Narrow, string Bare)[] _keys;
    private readonly Shortcut[] _all;

    /// <param name="items">
    /// The bar's items in order: keys with their compact label (the connection's item: no label) and whether that label is said
    /// elsewhere on the screen, which lets the narrow form show the key alone.
    /// </param>
    public StatusBarKeys(params (Shortcut Item, string? Compact, bool NamedElsewhere)[] items)
    {
        _all = items.Select(i => i.Item).ToArray();
        _keys = items.Where(i => i.Compact != null).Select(i =>
        {
            var key = i.Item.Key.ToString().Replace("Ctrl+", "^");
            var compact = $"{key} {i.Compact}";
            return (i.Item, i.Item.Title, compact, i.NamedElsewhere ? key : compact, key);
        }).ToArray();
    }

    public Shortcut[] Items => _all;

    private Form _form = Form.Wide;

    /// <summary>Whether the bar shows one of its shorter forms (Terminal.Gui's padding and key column gone).</summary>
    public bool Compact => _form != Form.Wide;

    // A wide item is its key and title, each with a column either side, and its separator; a shorter one its title and separator.
    // The last key, the bar's last item, has no separator. Counted from the texts, not the frames: those of a layout that
    // changed the form are the old form's until the next one.
    private int Columns(Form form) => (form == Form.Wide
        ? _keys.Sum(k => k.Item.Key.ToString().Length + k.Wide.Length + 5)
        : _keys.Sum(k => Title(k, form).Length + 1)) - 1;

    private static string Title((Shortcut Item, string Wide, string Compact, string Narrow, string Bare) key, Form form) => form switch
    {
        Form.Wide => key.Wide,
        Form.Compact => key.Compact,
        Form.Narrow => key.Narrow,
        _ => key.Bare,
    };

    private static int StatusChrome(Form form) => form == Form.Wide ? 3 : 1;

    /// <summary>
    /// Picks the widest form whose keys leave a bar <paramref name="columns"/> wide room for the connection's words, which need
    /// at least <paramref name="shortestStatus"/> columns (the barest form where none does), and returns the columns the keys
    /// leave those words (less their padding and separator). A change of form lays out again.
    /// </summary>
    public int Fit(int columns, int shortestStatus)
    {
        var form = Enum.GetValues<Form>().FirstOrDefault(f => columns >= Columns(f) + shortestStatus + StatusChrome(f), Form.Bare);
        var room = Math.Max(0, columns - Columns(form) - StatusChrome(form));
        if (form == _form) return room;
        _form = form;
        foreach (var key in _keys)
        {
            key.Item.KeyView.Visible = form == Form.Wide;
            key.Item.Title = Title(key, form);
        }
        foreach (var item in _all)
            item.CommandView!.Margin!.Thickness = form == Form.Wide ? new Thickness(1, 0, 1, 0) : new Thickness(0);
        return room;
    }
}
