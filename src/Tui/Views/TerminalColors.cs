namespace CharRnn.Tui.Views;

/// <summary>
/// Which <see cref="ColorDepth"/> the client draws with: --colors, else $CHARRNN_COLORS, else what the environment
/// says the terminal shows. Terminal.Gui 2.5 alone drew 24-bit colour for TERM=xterm (seen in tmux), and a terminal that
/// has 256 colours or 16 (xterm, xterm-256color on an older macOS Terminal) shows 24-bit codes in wrong colours or none;
/// so 24-bit only where the terminal says it has it (COLORTERM, as other terminal programs read it).
/// </summary>
public static class TerminalColors
{
    public const string Variable = "CHARRNN_COLORS";

    /// <summary>The values --colors and $CHARRNN_COLORS take, in the words their refusal and help use.</summary>
    public const string Allowed = "16, 256, truecolor or none (256 draws the 16 colours: Terminal.Gui writes none between 16 and 24-bit; none draws no colour at all, as NO_COLOR does)";

    /// <param name="flag">--colors as given, or null.</param>
    /// <param name="environment">Reads an environment variable (null where unset).</param>
    /// <param name="windows">On Windows, where no TERM is set and the console (Windows 10's, Windows Terminal) draws 24-bit colour;
    /// Terminal.Gui itself keeps a legacy console to 16.</param>
    public static ColorDepth Choose(string? flag, Func<string, string?> environment, bool windows)
    {
        if (flag != null) return Parse(flag, "--colors");
        if (environment(Variable) is { Length: > 0 } asked) return Parse(asked, $"${Variable}");
        // no-color.org: set and not empty; --colors and $CHARRNN_COLORS, asked of this program, come before it.
        if (environment("NO_COLOR") is { Length: > 0 }) return ColorDepth.None;
        if (environment("COLORTERM") is { } colorTerm
            && (colorTerm.Equals("truecolor", StringComparison.OrdinalIgnoreCase) || colorTerm.Equals("24bit", StringComparison.OrdinalIgnoreCase)))
            return ColorDepth.TrueColor;
        // Windows Terminal sets WT_SESSION, not COLORTERM.
        if (environment("WT_SESSION") is { Length: > 0 }) return ColorDepth.TrueColor;
        var term = environment("TERM");
        // terminfo's direct-colour entries (xterm-direct, kitty-direct): 24-bit by name.
        if (term != null && term.EndsWith("-direct", StringComparison.OrdinalIgnoreCase)) return ColorDepth.TrueColor;
        if (windows && string.IsNullOrEmpty(term)) return ColorDepth.TrueColor;
        return ColorDepth.Sixteen;
    }

    /// <summary>A value of --colors or $CHARRNN_COLORS; anything else is refused naming what is allowed.</summary>
    public static ColorDepth Parse(string value, string name) => value.Trim().ToLowerInvariant() switch
    {
        "16" or "256" => ColorDepth.Sixteen,
        "truecolor" or "24bit" => ColorDepth.TrueColor,
        "none" => ColorDepth.None,
        _ => throw new ArgumentException($"{name} '{value}' is not a colour depth; give {Allowed}."),
    };
}
