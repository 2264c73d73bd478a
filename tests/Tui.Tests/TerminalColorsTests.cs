using CharRnn.Tui.Views;
using Xunit;

namespace CharRnn.Tui.Tests;

/// <summary>TerminalColors: 24-bit colour only where the terminal says it has it, none where NO_COLOR is set; --colors, then $CHARRNN_COLORS, decide first.</summary>
public class TerminalColorsTests
{
    private static ColorDepth Choose(string? flag, string environment, bool windows = false)
    {
        var variables = environment.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => v.Split('=', 2)).ToDictionary(v => v[0], v => v[1]);
        return TerminalColors.Choose(flag, name => variables.GetValueOrDefault(name), windows);
    }

    [Theory]
    [InlineData("TERM=xterm", ColorDepth.Sixteen)] // Terminal.Gui alone drew 24-bit here
    [InlineData("TERM=xterm-256color", ColorDepth.Sixteen)] // Terminal.Gui has no 256-colour output; 24-bit would be wrong
    [InlineData("TERM=screen", ColorDepth.Sixteen)]
    [InlineData("", ColorDepth.Sixteen)]
    [InlineData("TERM=xterm-256color COLORTERM=truecolor", ColorDepth.TrueColor)]
    [InlineData("TERM=xterm COLORTERM=24bit", ColorDepth.TrueColor)]
    [InlineData("TERM=xterm COLORTERM=TrueColor", ColorDepth.TrueColor)]
    [InlineData("TERM=xterm-256color COLORTERM=yes", ColorDepth.Sixteen)] // set, but not saying 24-bit
    [InlineData("TERM=xterm-256color WT_SESSION=1b2c", ColorDepth.TrueColor)]
    [InlineData("TERM=xterm-direct", ColorDepth.TrueColor)]
    [InlineData("TERM=xterm-256color COLORTERM=truecolor NO_COLOR=1", ColorDepth.None)] // no-color.org: no colour at all (it drew the 16)
    [InlineData("TERM=xterm NO_COLOR=1", ColorDepth.None)]
    [InlineData("TERM=xterm CHARRNN_COLORS=none", ColorDepth.None)]
    [InlineData("TERM=xterm NO_COLOR=1 CHARRNN_COLORS=16", ColorDepth.Sixteen)] // asked of this program: before NO_COLOR
    [InlineData("TERM=xterm-256color COLORTERM=truecolor NO_COLOR=", ColorDepth.TrueColor)] // no-color.org: an empty NO_COLOR is unset
    [InlineData("TERM=xterm CHARRNN_COLORS=truecolor", ColorDepth.TrueColor)]
    [InlineData("TERM=xterm COLORTERM=truecolor CHARRNN_COLORS=16", ColorDepth.Sixteen)]
    [InlineData("TERM=xterm COLORTERM=truecolor CHARRNN_COLORS=256", ColorDepth.Sixteen)]
    [InlineData("TERM=xterm NO_COLOR=1 CHARRNN_COLORS=24bit", ColorDepth.TrueColor)]
    [InlineData("TERM=xterm CHARRNN_COLORS=", ColorDepth.Sixteen)] // exported empty: not asked
    public void The_depth_follows_the_environment(string environment, ColorDepth depth) => Assert.Equal(depth, Choose(null, environment));

    [Theory]
    [InlineData("16", "TERM=xterm COLORTERM=truecolor", ColorDepth.Sixteen)]
    [InlineData("256", "TERM=xterm-direct", ColorDepth.Sixteen)]
    [InlineData("truecolor", "TERM=linux CHARRNN_COLORS=16", ColorDepth.TrueColor)]
    [InlineData("TrueColor", "TERM=xterm", ColorDepth.TrueColor)]
    [InlineData("none", "TERM=xterm COLORTERM=truecolor", ColorDepth.None)]
    [InlineData("16", "TERM=xterm NO_COLOR=1", ColorDepth.Sixteen)]
    public void The_flag_decides_over_the_environment(string flag, string environment, ColorDepth depth) => Assert.Equal(depth, Choose(flag, environment));

    [Fact]
    public void A_windows_console_with_no_term_draws_24_bit_colour_and_one_with_a_term_reads_it()
    {
        Assert.Equal(ColorDepth.TrueColor, Choose(null, "", windows: true));
        Assert.Equal(ColorDepth.Sixteen, Choose(null, "TERM=xterm", windows: true));
    }

    [Theory]
    [InlineData("8", "TERM=xterm", "--colors '8' is not a colour depth; give 16, 256, truecolor or none (256 draws the 16 colours: Terminal.Gui writes none between 16 and 24-bit; none draws no colour at all, as NO_COLOR does).")]
    [InlineData(null, "CHARRNN_COLORS=full", "$CHARRNN_COLORS 'full' is not a colour depth; give 16, 256, truecolor or none (256 draws the 16 colours: Terminal.Gui writes none between 16 and 24-bit; none draws no colour at all, as NO_COLOR does).")]
    public void An_unknown_depth_is_refused_naming_what_is_allowed(string? flag, string environment, string message) =>
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => Choose(flag, environment)).Message);
}
