using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;

namespace CharRnn.Tui.Views;

/// <summary>Where the keyboard goes inside the tabs: into a tab's content, and round its own views.</summary>
public static class TabFocus
{
    /// <summary>
    /// Gives the keyboard to <paramref name="tab"/>'s content. Terminal.Gui can leave the shown tab marked focused after
    /// the command line (<paramref name="commandPane"/>) took the keyboard from it (Esc), and SetFocus on a view marked
    /// focused does nothing.
    /// </summary>
    public static void Enter(View tab, View commandPane)
    {
        if (tab.HasFocus && commandPane.HasFocus) tab.HasFocus = false;
        tab.SetFocus();
        // SetFocus can land on the tab's header (in its border), where arrows switch tabs: the
        // keyboard belongs to the tab's content.
        if (tab.Border.View is View { HasFocus: true } header) header.HasFocus = false;
    }

    /// <summary>
    /// Terminal.Gui moves the focus with any arrow key no view takes, as Tab does, and past a tab's
    /// first or last view on to the next tab (Tabs shows whichever tab holds the focus): Up from a
    /// form's first field, or Left on the Type tab, switched tabs; and Tab went round the views of
    /// one frame only (the Models form, never its lists), by way of stops that showed no focus.
    /// Arrows no view takes move between the tab's own views instead, and stop at its first and
    /// last; Tab and Shift+Tab go round all of them.
    /// </summary>
    public static void KeepInTab(View tab, Key key)
    {
        if (key.Handled) return;
        var round = key == Key.Tab || key == Key.Tab.WithShift;
        int step = key == Key.CursorUp || key == Key.CursorLeft || key == Key.Tab.WithShift ? -1
            : key == Key.CursorDown || key == Key.CursorRight || key == Key.Tab ? 1 : 0;
        if (step == 0) return;
        var stops = FocusStops(tab).ToList();
        var at = stops.FindIndex(v => v.HasFocus);
        if (stops.Count > 0)
            stops[round ? (at + step + stops.Count) % stops.Count : Math.Clamp(at + step, 0, stops.Count - 1)].SetFocus();
        key.Handled = true;
    }

    /// <summary>The views inside <paramref name="view"/> that take the keyboard themselves, in tab order.</summary>
    private static IEnumerable<View> FocusStops(View view)
    {
        foreach (var sub in view.SubViews.Where(v => v is { Visible: true, Enabled: true }))
        {
            var inner = FocusStops(sub).ToList();
            if (inner.Count > 0) foreach (var stop in inner) yield return stop;
            else if (sub.CanFocus && sub.TabStop != TabBehavior.NoStop) yield return sub;
        }
    }
}
