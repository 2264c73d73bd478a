using CharRnn.Tui.Repl;
using CharRnn.Tui.Views;

namespace CharRnn.Tui.Tests;

public class ReplTests
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
    [InlineData("gen 1,000 \"x\"", "'1,000' is not a count: write digits only")]
    [InlineData("generate 2000000", "2000000 characters is not allowed; ask for 1 to 1000000 (")] // the range as it must be typed: no separators
    [InlineData("compare lstm 1e3", "'1e3' is not a count")]
    [InlineData("gen -5", "'-5' is not a count: a count is 1 or more")]
    [InlineData("gen 10 20", "Two counts given, 10 and 20; give one (put a prime that is a number in quotes: \"20\").")]
    public void A_gen_or_compare_count_is_checked_before_any_command_runs(string line, string message) =>
        Assert.StartsWith(message, Assert.Throws<CommandException>(() => CommandRunner.Check(CommandParser.Parse(line)!)).Message);

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

    private static readonly CompletionSource.Snapshot Names = new(
        ["stateful-gru", "stateful-lstm", "loop"],
        new Dictionary<string, string[]> { ["stateful-lstm"] = ["n_hidden", "layers", "dropout"] },
        ["lstm-big", "lstm-small", "gru"], ["j-12", "lstm-small"], ["nietzsche"]);

    [Theory]
    [InlineData("us", 2, 0, new[] { "use" })]
    [InlineData("use ls", 6, 4, new[] { "lstm-big", "lstm-small" })]
    [InlineData("train state", 11, 6, new[] { "stateful-gru", "stateful-lstm" })]
    [InlineData("train stateful-lstm la", 22, 20, new[] { "layers=" })]
    [InlineData("train stateful-lstm ep", 22, 20, new[] { "epochs=" })]
    [InlineData("models; use g", 13, 12, new[] { "gru" })]
    [InlineData("gen 10 t", 8, 7, new[] { "t=" })]
    [InlineData("attach j", 8, 7, new[] { "j-12" })]
    [InlineData("stop ls", 7, 5, new[] { "lstm-small" })] // the model with a job, not every model
    [InlineData("gen 10 \"a;b\" t", 14, 13, new[] { "t=" })] // a ';' inside quotes does not start a command
    [InlineData("feed 'don't; x'; use g", 22, 21, new[] { "gru" })]
    [InlineData("nosuch x", 8, 7, new string[0])]
    public void Tab_completes_commands_names_and_keys(string line, int cursor, int start, string[] expected)
    {
        var (s, candidates) = Completer.Complete(line, cursor, Names);
        Assert.Equal(expected, candidates);
        if (expected.Length > 0) Assert.Equal(start, s);
    }

    [Theory]
    [InlineData("use nie", 7, 7)]
    [InlineData("use 😀; use nie", 14, 15)] // the field counts the emoji as one; the string holds two UTF-16 units
    [InlineData("use 😀; use nie", 5, 6)]
    [InlineData("e\u0301x", 1, 2)] // an accent that combines with its letter is one text element
    [InlineData("abc", 9, 3)]
    public void The_cursor_of_the_command_line_counts_text_elements_and_completion_slices_utf16(string line, int insertionPoint, int index) =>
        Assert.Equal(index, Views.ShellTextField.StringIndex(line, insertionPoint));

    [Fact]
    public void Several_candidates_complete_to_their_common_prefix()
    {
        Assert.Equal("lstm-", Completer.CommonPrefix(["lstm-big", "lstm-small"]));
        Assert.Equal("", Completer.CommonPrefix([]));
    }

    [Fact]
    public void History_walks_back_and_forth_like_a_shell()
    {
        var h = new CommandHistory();
        h.Add("models");
        h.Add("use lstm");
        h.Add("use lstm");
        h.Add("gen 10");
        Assert.Equal(["models", "use lstm", "gen 10"], h.Lines);
        Assert.Equal("gen 10", h.Previous());
        Assert.Equal("use lstm", h.Previous());
        Assert.Equal("models", h.Previous());
        Assert.Equal("models", h.Previous());
        Assert.Equal("use lstm", h.Next());
        Assert.Equal("gen 10", h.Next());
        Assert.Equal("", h.Next());
        Assert.Null(h.Next());

        // A half-typed line is not lost by looking back.
        Assert.Equal("gen 10", h.Previous("gen 400 \"for"));
        Assert.Equal("use lstm", h.Previous("ignored: not at the newest"));
        Assert.Equal("gen 10", h.Next());
        Assert.Equal("gen 400 \"for", h.Next());
    }

    [Fact]
    public void History_with_a_file_is_kept_across_runs_and_cut_back_to_its_newest_lines()
    {
        var file = Path.Combine(Path.GetTempPath(), "charrnn-history-" + Guid.NewGuid().ToString("N")[..8], "history");
        try
        {
            var first = new CommandHistory(capacity: 3, file);
            foreach (var line in new[] { "models", "use lstm", "use lstm", "gen 10" }) first.Add(line);
            var next = new CommandHistory(capacity: 3, file); // the next run
            Assert.Equal(["models", "use lstm", "gen 10"], next.Lines);
            Assert.Equal("gen 10", next.Previous());
            foreach (var line in new[] { "a", "b", "c", "d" }) next.Add(line);
            Assert.True(File.ReadAllLines(file).Length <= 6, "the file grows without bound");
            Assert.Equal(["b", "c", "d"], new CommandHistory(capacity: 3, file).Lines);

            // Many short runs, each adding fewer lines than are kept, still see the file cut back.
            for (var run = 0; run < 5; run++) new CommandHistory(capacity: 3, file).Add($"run {run}");
            Assert.True(File.ReadAllLines(file).Length <= 6, "short runs grow the file without bound");
            // Two open at once: a cut by one keeps what the other appended meanwhile.
            File.Delete(file);
            var left = new CommandHistory(capacity: 3, file);
            var right = new CommandHistory(capacity: 3, file);
            foreach (var line in new[] { "l1", "l2", "l3", "l4" }) left.Add(line);
            right.Add("from the right");
            foreach (var line in new[] { "l5", "l6" }) left.Add(line); // the sixth line: left cuts the file back to three
            Assert.Equal(["from the right", "l5", "l6"], File.ReadAllLines(file));
        }
        finally { Directory.Delete(Path.GetDirectoryName(file)!, true); }
    }

    [Fact]
    public void Quoting_a_prime_round_trips_through_the_parser()
    {
        var prime = "say \"hi\"\\ then\nmore";
        Assert.Equal(prime, CommandParser.Parse("gen 10 " + CommandParser.Quote(prime))!.Positional[1]);
    }

    [Fact]
    public void Every_command_has_help()
    {
        Assert.All(CommandCatalog.All, c => Assert.False(string.IsNullOrWhiteSpace(c.Summary)));
        Assert.Equal(CommandCatalog.All.Count, CommandCatalog.All.Select(c => c.Verb).Distinct().Count());
        // Every verb the runner executes is in the catalogue that help, F1 and Tab completion read.
        string[] executed = ["help", "archs", "arch", "models", "corpora", "train", "resume", "jobs", "attach", "detach", "stop", "use", "gen",
            "feed", "fork", "back", "reset", "set", "compare", "delete", "share", "status", "quit"];
        Assert.All(executed, verb => Assert.NotNull(CommandCatalog.Find(verb)));
    }
}
