using Terminal.Gui.Configuration;
using Terminal.Gui.Drawing;
using Terminal.Gui.ViewBase;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Views;

/// <summary>
/// NO_COLOR's drawing (no-color.org: no colour added where NO_COLOR is set and not empty): every cell in the terminal's own
/// foreground and background (Terminal.Gui writes <see cref="Color.None"/> as SGR 39 and 49), and what colour told apart
/// (focus, selection, a failure, a surprising char) told by reverse, bold, underline or faint instead.
/// </summary>
public static class Monochrome
{
    /// <summary>Set at start, before anything draws, where <see cref="ColorDepth.None"/> was chosen (and by tests).</summary>
    public static bool On { get; set; }

    /// <summary>The terminal's own colours in <paramref name="style"/>.</summary>
    public static Attribute Plain(TextStyle style = TextStyle.None) => new(Color.None, Color.None, style);

    /// <summary><paramref name="colored"/>; under NO_COLOR, the terminal's own colours in <paramref name="style"/> instead.</summary>
    public static Attribute Or(Attribute colored, TextStyle style = TextStyle.None) => On ? Plain(style) : colored;

    /// <summary>A scheme whose every role is the terminal's own colours: focus and what is active reversed, hot keys underlined.</summary>
    public static Scheme Scheme() => new(Plain())
    {
        HotNormal = Plain(TextStyle.Underline),
        Focus = Plain(TextStyle.Reverse),
        HotFocus = Plain(TextStyle.Reverse | TextStyle.Underline),
        Active = Plain(TextStyle.Reverse | TextStyle.Bold),
        HotActive = Plain(TextStyle.Reverse | TextStyle.Bold | TextStyle.Underline),
        Highlight = Plain(TextStyle.Bold),
        // A field unfocused reads as one by its underline (its colours told it apart); a focused one is reversed.
        Editable = Plain(TextStyle.Underline),
        ReadOnly = Plain(TextStyle.Faint | TextStyle.Underline),
        Disabled = Plain(TextStyle.Faint),
    };

    /// <summary>Puts <see cref="Scheme"/> in place of each of the current theme's schemes.</summary>
    public static void Apply()
    {
        foreach (var name in SchemeManager.GetSchemesForCurrentTheme().Keys.ToList()) SchemeManager.AddScheme(name, Scheme());
    }

    /// <summary>
    /// <paramref name="view"/> (a button, a dialog) without its shadow under NO_COLOR: Terminal.Gui draws a shadow in black
    /// (SGR 30) whatever the scheme. Before it is laid out: the shadow takes a column and a row of its frame.
    /// </summary>
    public static T Unshadowed<T>(T view) where T : View
    {
        if (On) view.ShadowStyle = null;
        return view;
    }
}
