using System.Globalization;
using System.Text;
using CharRnn.Engine.Inspection;
using CharRnn.Tui.Views;

namespace CharRnn.Tui.Cli;

/// <summary>
/// How charrnn neurons prints what it traced: the ranked cells as aligned lines, one cell's activations as a TSV
/// (redirected) or as the text with each char on a background from blue (-1) through white to red (+1) (a terminal),
/// and either as JSON.
/// </summary>
public static class CellActivationText
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>"cell 137  r=+0.71  inside "quotes"  mean -0.02  sd 0.43", one line a cell, behind a line saying what was traced.</summary>
    public static void WriteRanking(TextWriter output, TracedModel about, IReadOnlyList<RankedCell> ranked)
    {
        output.WriteLine($"{Header(about)}: {(ranked.Count == 1 ? "the cell that tracks" : $"the {ranked.Count} that track")} a text feature best (|Pearson r| over the chars; docs/cli.md lists the features)");
        var cellWidth = ranked.Max(c => c.Cell.ToString(Invariant).Length);
        var featureWidth = ranked.Max(c => c.Feature.Length);
        foreach (var c in ranked)
            output.WriteLine(string.Create(Invariant,
                $"cell {c.Cell.ToString(Invariant).PadRight(cellWidth)}  r={c.R:+0.00;-0.00; 0.00}  {c.Feature.PadRight(featureWidth)}  mean {c.Mean:+0.00;-0.00; 0.00}  sd {c.StandardDeviation:0.00}"));
    }

    /// <summary>A header, then one row per char: index (from 0), the char (\n, \t, \r and \\ escaped), the activation.</summary>
    public static void WriteTable(TextWriter output, IReadOnlyList<string> characters, float[] activations)
    {
        output.WriteLine("index\tchar\tactivation");
        for (int i = 0; i < characters.Count; i++)
            output.WriteLine(string.Create(Invariant, $"{i}\t{Escaped(characters[i])}\t{activations[i]:0.0000}"));
    }

    /// <summary>
    /// The colours a terminal shows (16, 256 or <see cref="TrueColour"/>): 24-bit where the TUI would draw it
    /// (<see cref="TerminalColors"/>: COLORTERM and the like), 256 for $CHARRNN_COLORS=256 or a TERM ending in -256color,
    /// else the 16. Unlike the TUI, plain text can use the 256; 24-bit codes on a terminal without them show wrong colours or none.
    /// <see cref="NoColour"/> where $NO_COLOR is set and not empty (no-color.org) and $CHARRNN_COLORS does not ask for colour:
    /// unlike the TUI, which has no colourless drawing, plain text can do without, as the table written to a pipe.
    /// </summary>
    public static int ColoursOf(Func<string, string?> environment, bool windows)
    {
        if (environment(TerminalColors.Variable)?.Trim() == "256") return 256;
        if (environment(TerminalColors.Variable) is not { Length: > 0 } && environment("NO_COLOR") is { Length: > 0 }) return NoColour;
        if (TerminalColors.Choose(null, environment, windows) == ColorDepth.TrueColor) return TrueColour;
        return environment("TERM")?.EndsWith("-256color", StringComparison.OrdinalIgnoreCase) == true ? 256 : 16;
    }

    public const int TrueColour = 1 << 24;

    /// <summary>No colour at all: the activations are written as the table a pipe gets.</summary>
    public const int NoColour = 0;

    /// <summary>The SGR codes that set a char's background (and a legible foreground) for an activation, in <paramref name="colours"/>.</summary>
    public static string Background(float activation, int colours)
    {
        var (r, g, b) = Colour(activation);
        if (colours == TrueColour) return string.Create(Invariant, $"\u001b[48;2;{r};{g};{b}m\u001b[30m");
        if (colours == 256) return string.Create(Invariant, $"\u001b[48;5;{16 + 36 * CubeLevel(r) + 6 * CubeLevel(g) + CubeLevel(b)}m\u001b[30m");
        // The 16: five bands, white text on the two strong ones (black on blue is hard to read).
        var a = Math.Clamp(float.IsFinite(activation) ? activation : 0f, -1f, 1f);
        return a <= -0.6f ? "\u001b[44m\u001b[97m" : a <= -0.2f ? "\u001b[104m\u001b[30m" : a < 0.2f ? "\u001b[107m\u001b[30m"
            : a < 0.6f ? "\u001b[101m\u001b[30m" : "\u001b[41m\u001b[97m";
    }

    // xterm's colour cube has the levels 0, 95, 135, 175, 215 and 255: the nearest one's index.
    private static int CubeLevel(int c) => c < 48 ? 0 : c < 115 ? 1 : (c - 35) / 40;

    /// <summary>The text with each char's background coloured by the activation after it (tanh's range, clamped to -1..1); a legend after it.</summary>
    public static void WriteColoured(TextWriter output, TracedModel about, int cell, IReadOnlyList<string> characters, float[] activations, int colours = TrueColour)
    {
        output.WriteLine($"{Header(about)}: cell {cell} after each char, blue -1, white 0, red +1");
        var text = new StringBuilder();
        for (int i = 0; i < characters.Count; i++)
        {
            var shown = characters[i] switch { "\n" => " ", "\r" => " ", var c => c };
            text.Append(Background(activations[i], colours)).Append(shown).Append("\u001b[0m");
            if (characters[i] == "\n") text.Append('\n');
        }
        output.WriteLine(text.ToString());
        output.WriteLine($"legend: {string.Concat(new[] { -1f, -0.5f, 0f, 0.5f, 1f }.Select(a => string.Create(Invariant, $"{Background(a, colours)} {a:+0.0;-0.0;0} \u001b[0m")))}");
    }

    /// <summary>White at 0, towards blue below and red above; values beyond ±1 are clamped.</summary>
    public static (int R, int G, int B) Colour(float activation)
    {
        var a = Math.Clamp(float.IsFinite(activation) ? activation : 0f, -1f, 1f);
        var (r, g, b) = a < 0 ? (60, 110, 230) : (230, 60, 50);
        var t = Math.Abs(a);
        return ((int)Math.Round(255 + (r - 255) * t), (int)Math.Round(255 + (g - 255) * t), (int)Math.Round(255 + (b - 255) * t));
    }

    public static object Json(TracedModel about, IReadOnlyList<RankedCell> ranked) => new
    {
        model = about.Path, architecture = about.Architecture, layer = about.Layer, layers = about.Layers, state = "h",
        cells = about.Cells, chars_traced = about.Characters,
        top = ranked.Select(c => new { cell = c.Cell, feature = c.Feature, r = Finite(c.R), mean = Finite(c.Mean), sd = Finite(c.StandardDeviation) }),
    };

    public static object Json(TracedModel about, int cell, IReadOnlyList<string> characters, float[] activations) => new
    {
        model = about.Path, architecture = about.Architecture, layer = about.Layer, layers = about.Layers, state = "h",
        cells = about.Cells, chars_traced = about.Characters, cell,
        activations = characters.Select((c, i) => new { index = i, @char = c, activation = Finite(activations[i]) }),
    };

    // JSON has no NaN or infinity (the serializer throws on them): a cell that went NaN is written as null, as the TSV writes NaN.
    private static float? Finite(float v) => float.IsFinite(v) ? v : null;
    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    /// <summary>"N chars through stateful-lstm, layer 1 of 0-1 (h: the LSTM's output, not its memory c), 512 cells".</summary>
    private static string Header(TracedModel about) =>
        $"{about.Characters:N0} chars through {about.Path} ({about.Architecture}), layer {about.Layer} of 0-{about.Layers - 1}, " +
        $"h{(about.Architecture.Contains("lstm") ? " (the LSTM's output, not its cell memory c)" : "")}, {about.Cells} cells";

    private static string Escaped(string c) => c switch { "\n" => "\\n", "\t" => "\\t", "\r" => "\\r", "\\" => "\\\\", _ => c };
}
