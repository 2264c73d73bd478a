using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>What a paste puts into the one-line command line, by what is before the cursor.</summary>
public class PastedTextTests
{
    [Theory]
    [InlineData("", "models", "models")]
    [InlineData("", "models\nhelp gen\n", "models; help gen")]                       // lines become commands; the last break dropped
    [InlineData("", "\r\nmodels\r\n\r\n   help gen\r\n", "models; help gen")]          // Windows breaks, blank lines and indents
    [InlineData("use gru", "\ngen 5", "; gen 5")]                                     // a break after typed text ends that command
    [InlineData("use gru; ", "\ngen 5", "gen 5")]                                     // ... not an empty one
    [InlineData("", "gen 5 \"one\ntwo\"\nmodels", "gen 5 \"one\\ntwo\"; models")]     // a quote the paste opens keeps its break as \n
    [InlineData("", "gen 5 \"a\tb\" x\ty", "gen 5 \"a\\tb\" x y")]                    // a tab: \t in a double quote, else a space
    [InlineData("", "gen 5 'one\ntwo'", "gen 5 'one two'")]                           // single quotes take no escapes
    [InlineData("", "don't\nmodels", "don't; models")]                                // an apostrophe in a word opens no quote
    [InlineData("gen 5 \"", "He said \"yes\".\n\tC:\\dir\n", "He said \\\"yes\\\".\\n\\tC:\\\\dir\\n")] // an open quote: all of it is the prime
    [InlineData("gen 5 \"x\" ", "a\nb", "a; b")]                                      // a closed quote is closed
    [InlineData("", "gen 5 \"a\\\"b\nc\"", "gen 5 \"a\\\"b\\nc\"")]                   // the paste's own escapes go in as they are
    public void A_paste_goes_in_as_one_command_line(string before, string pasted, string inserted) =>
        Assert.Equal(inserted, PastedText.IntoCommandLine(before, pasted));

    [Fact]
    public void What_a_paste_puts_in_parses_as_the_pasted_text()
    {
        var line = "gen 5 \"" + PastedText.IntoCommandLine("gen 5 \"", "line one\n\"two\"\t\\ three\n") + "\"";
        Assert.Equal("line one\n\"two\"\t\\ three\n", CommandParser.Parse(line)!.Positional[1]);
    }
}
