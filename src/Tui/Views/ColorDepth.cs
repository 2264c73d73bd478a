namespace CharRnn.Tui.Views;

/// <summary>
/// What the full-screen client draws with. Terminal.Gui 2.5 writes either the 16 ANSI colours (SGR 30–37, 90–97) or
/// 24-bit ones (38;2;r;g;b): it has no 256-colour output, so a 256-colour terminal gets the 16.
/// </summary>
public enum ColorDepth
{
    Sixteen,
    TrueColor,
    /// <summary>No colour (NO_COLOR): the terminal's own foreground and background, focus and selection in reverse (<see cref="Monochrome"/>).</summary>
    None,
}
