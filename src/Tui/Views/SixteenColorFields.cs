using Terminal.Gui.Configuration;
using Terminal.Gui.Drawing;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Views;

/// <summary>
/// Text fields that stay readable in the 16 colours. Terminal.Gui derives a field's colours (the schemes' Editable and
/// ReadOnly) from the scheme's Normal: on the terminal's own colours, white on grey (128,128,128) and grey on grey, which
/// in 16 colours are bright white on white (97;47, white on light grey in every terminal's palette) and white on white:
/// the command line and every form's field were hardly readable. A field that would draw so gets black on white (30;47),
/// a read-only one dark grey on white (90;47).
/// </summary>
public static class SixteenColorFields
{
    /// <summary>The schemes with each illegible Editable and ReadOnly replaced; the others as they are.</summary>
    public static Dictionary<string, Scheme?> Readable(IReadOnlyDictionary<string, Scheme?> schemes) =>
        schemes.ToDictionary(s => s.Key, s => s.Value is { } scheme && (!Legible(scheme.Editable) || !Legible(scheme.ReadOnly))
            ? new Scheme(scheme)
            {
                Editable = Legible(scheme.Editable) ? scheme.Editable : new Attribute(Color.Black, Color.Gray),
                ReadOnly = Legible(scheme.ReadOnly) ? scheme.ReadOnly : new Attribute(Color.DarkGray, Color.Gray),
            }
            : s.Value);

    /// <summary>Puts <see cref="Readable"/>'s schemes in place of the current theme's.</summary>
    public static void Apply()
    {
        var current = SchemeManager.GetSchemesForCurrentTheme();
        foreach (var (name, scheme) in Readable(current))
            if (scheme != null && !ReferenceEquals(scheme, current[name])) SchemeManager.AddScheme(name, scheme);
    }

    /// <summary>
    /// Whether text in <paramref name="attribute"/> reads in 16 colours: its colours as xterm draws their nearest ANSI ones
    /// at a contrast of 3:1 or more (WCAG's least, for large text; bright red on black is 5.3, 97 on 47 is 1.3).
    /// </summary>
    public static bool Legible(Attribute attribute)
    {
        var (a, b) = (Luminance(attribute.Foreground), Luminance(attribute.Background));
        return (Math.Max(a, b) + 0.05) / (Math.Min(a, b) + 0.05) >= 3;
    }

    /// <summary>xterm's default 16-colour palette, by Terminal.Gui's names for the ANSI colours (its Gray is ANSI white, 37/47).</summary>
    private static readonly Dictionary<ColorName16, (int R, int G, int B)> Xterm = new()
    {
        [ColorName16.Black] = (0, 0, 0), [ColorName16.Red] = (205, 0, 0), [ColorName16.Green] = (0, 205, 0),
        [ColorName16.Yellow] = (205, 205, 0), [ColorName16.Blue] = (0, 0, 238), [ColorName16.Magenta] = (205, 0, 205),
        [ColorName16.Cyan] = (0, 205, 205), [ColorName16.Gray] = (229, 229, 229), [ColorName16.DarkGray] = (127, 127, 127),
        [ColorName16.BrightRed] = (255, 0, 0), [ColorName16.BrightGreen] = (0, 255, 0), [ColorName16.BrightYellow] = (255, 255, 0),
        [ColorName16.BrightBlue] = (92, 92, 255), [ColorName16.BrightMagenta] = (255, 0, 255), [ColorName16.BrightCyan] = (0, 255, 255),
        [ColorName16.White] = (255, 255, 255),
    };

    /// <summary>WCAG's relative luminance of the ANSI colour nearest <paramref name="color"/>, as xterm draws it.</summary>
    private static double Luminance(Color color)
    {
        var (r, g, b) = Xterm[color.GetClosestNamedColor16()];
        static double Linear(int c) => c / 255.0 is var v && v <= 0.03928 ? v / 12.92 : Math.Pow((v + 0.055) / 1.055, 2.4);
        return 0.2126 * Linear(r) + 0.7152 * Linear(g) + 0.0722 * Linear(b);
    }
}
