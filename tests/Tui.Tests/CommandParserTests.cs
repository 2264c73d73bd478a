using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>CommandParser: a typed line read into commands (verbs, words, key=value options, quotes, semicolons).</summary>
public class CommandParserTests
{
    [Fact]
    public void Commands_split_into_verb_positional_arguments_and_options()
    {
        var c = CommandParser.Parse("gen 400 \"for thos\" t=0.7 seed=3")!;
        Assert.Equal("gen", c.Verb);
        Assert.Equal(["400", "for thos"], c.Positional);
        Assert.Equal("0.7", c.Options["t"]);
        Assert.Equal("3", c.Option("seed"));
    }

    [Fact]
    public void Quotes_escapes_and_quoted_option_values()
    {
        var c = CommandParser.Parse("gen 'it''s' \"a \\\"b\\\"\\n\" stop=\"the end\" n-hidden=4")!;
        Assert.Equal(["its", "a \"b\"\n"], c.Positional);
        Assert.Equal("the end", c.Options["stop"]);
        Assert.Equal("4", c.Options["n_hidden"]); // dashes in keys read as underscores
        Assert.Equal(["k=v"], CommandParser.Parse("feed \"k=v\"")!.Positional); // a quoted word is text, not an option
        var typed = CommandParser.Parse($"train rnn name={CommandParser.Quote("my \"best\" rnn")} corpus={CommandParser.Quote("war and peace")}")!; // as the Models tab's Train button writes them
        Assert.Equal(("my \"best\" rnn", "war and peace"), (typed.Options["name"], typed.Options["corpus"]));
    }

    [Theory]
    [InlineData("set t=0.5 t=9", "t is given twice in: set t=0.5 t=9; give it once.")]
    [InlineData("train rnn n-hidden=4 n_hidden=8", "n_hidden is given twice in: train rnn n-hidden=4 n_hidden=8; give it once.")]
    public void A_key_given_twice_is_refused_not_quietly_the_last(string line, string message) =>
        Assert.Equal(message, Assert.Throws<CommandException>(() => CommandParser.Parse(line)).Message);

    [Fact]
    public void Semicolons_separate_commands_but_not_inside_quotes()
    {
        var commands = CommandParser.ParseMany("use lstm; gen 10 \"a;b\" ;; models");
        Assert.Equal(["use", "gen", "models"], commands.Select(c => c.Verb));
        Assert.Equal("a;b", commands[1].Positional[1]);
    }

    [Fact]
    public void An_apostrophe_inside_a_word_is_part_of_it()
    {
        var command = CommandParser.ParseMany("gen 20 one's dog; feed 'quoted text' don't")[0];
        Assert.Equal(["20", "one's", "dog"], command.Positional);
        var feed = CommandParser.ParseMany("gen 20 one's dog; feed 'quoted text' don't")[1];
        Assert.Equal(["quoted text", "don't"], feed.Positional);
        Assert.Contains("Unclosed ' quote", Assert.Throws<CommandException>(() => CommandParser.Parse("gen 'for thos")).Message);
        // Inside single quotes too, and a ';' after it stays in the text.
        var quoted = CommandParser.ParseMany("feed 'the author's view; don't stop'; gen 5");
        Assert.Equal(["feed", "gen"], quoted.Select(c => c.Verb));
        Assert.Equal(["the author's view; don't stop"], quoted[0].Positional);
    }

    [Fact]
    public void An_unclosed_quote_is_a_clear_error()
    {
        Assert.Contains("Unclosed \" quote", Assert.Throws<CommandException>(() => CommandParser.Parse("gen \"for thos")).Message);
        Assert.Null(CommandParser.Parse("   "));
    }

    [Fact]
    public void Quoting_a_prime_round_trips_through_the_parser()
    {
        var prime = "say \"hi\"\\ then\nmore";
        Assert.Equal(prime, CommandParser.Parse("gen 10 " + CommandParser.Quote(prime))!.Positional[1]);
    }
}
