using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>CommandRunner.Check: a parsed line refused before any of its commands runs.</summary>
public class CommandRunnerCheckTests
{
    [Theory]
    // Each names the verb's count, the value and the range, as the command line's number options do (NumberOptions).
    [InlineData("gen 1,000 \"x\"", "gen count '1,000' is not a whole number; give 1 to what the server gives per gen (its max_chars_per_call), in digits only (put a prime that is a number in quotes: \"1,000\").")]
    [InlineData("gen 1.5", "gen count '1.5' is not a whole number; give 1 to what the server gives per gen (its max_chars_per_call), in digits only (put a prime that is a number in quotes: \"1.5\").")]
    [InlineData("gen 0", "gen count 0 is not allowed; give 1 to what the server gives per gen (its max_chars_per_call) (put a prime that is a number in quotes: \"1984\").")]
    [InlineData("compare 0 t=1", "compare count 0 is not allowed; give 1 to what the server gives per gen (its max_chars_per_call) (put a prime that is a number in quotes: \"1984\").")]
    // Beyond what any server gives (a count is an int32); the server's own limit is not known before it is asked.
    [InlineData("generate 99999999999", "generate count 99999999999 is not allowed; give 1 to what the server gives per gen (its max_chars_per_call) (put a prime that is a number in quotes: \"1984\").")]
    [InlineData("compare lstm 1e3", "compare count '1e3' is not a whole number; give 1 to what the server gives per gen (its max_chars_per_call), in digits only")]
    [InlineData("gen -5", "gen count -5 is not allowed; give 1 to what the server gives per gen (its max_chars_per_call).")]
    [InlineData("gen 10 20", "Two counts given, 10 and 20; give one (put a prime that is a number in quotes: \"20\").")]
    [InlineData("gen 'the' 10 'wil'", "'10' stands amid the prime's words, one of them quoted, so it is neither clearly the count nor the prime: the count goes before or after the prime " +
                                     "(gen N \"PRIME\" or gen \"PRIME\" N), and a prime with a number in it goes in one pair of quotes (\"the 10 wil\").")]
    [InlineData("gen the 10 'wil'", "'10' stands amid the prime's words, one of them quoted, so it is neither clearly the count nor the prime")] // only the last word quoted
    public void A_gen_or_compare_count_is_checked_before_any_command_runs(string line, string message) =>
        Assert.StartsWith(message, Assert.Throws<CommandException>(() => CommandRunner.Check(CommandParser.Parse(line)!)).Message);

    [Theory]
    [InlineData("gen 100 the 10 cats")] // unquoted words are one prime, numbers in it too
    [InlineData("gen \"the 10 wil\" 5")]
    [InlineData("gen 5 'the' wil")]
    public void A_number_inside_a_prime_is_taken_where_no_quotes_set_it_apart(string line) => CommandRunner.Check(CommandParser.Parse(line)!);

    /// <summary>Over the REPL's own 1000000, which a server's max_chars_per_call may allow: left to CheckWithServerAsync, which knows it.</summary>
    [Fact]
    public void A_count_over_the_repls_own_cap_is_left_to_the_servers_limit() => CommandRunner.Check(CommandParser.Parse("gen 2000000")!);

    [Theory]
    [InlineData("attach j-1 from=abc")]
    [InlineData("attach lstm from=-3")]
    public void An_attach_from_that_is_no_step_is_refused_before_any_command_runs(string line) =>
        Assert.StartsWith("from=", Assert.Throws<CommandException>(() => CommandRunner.Check(CommandParser.Parse(line)!)).Message);

    /// <summary>
    /// `--exec "export lstm f.safetensors; import f.safetensors name=back"` (a round trip) is not refused up front as 'No file':
    /// the line's export writes the file before its import reads it. A file no earlier export writes still is, an export after the import included.
    /// </summary>
    [Fact]
    public void A_line_may_import_the_file_an_earlier_export_of_the_line_writes()
    {
        var file = Path.Combine(Path.GetTempPath(), $"h-{Guid.NewGuid():N}", "lstm.safetensors");
        CommandRunner.CheckLine(CommandParser.ParseMany($"export lstm {file}; import {file} name=back"));
        Assert.StartsWith($"No file {file};", Assert.Throws<CommandException>(() => CommandRunner.CheckLine(CommandParser.ParseMany($"import {file} name=back; export lstm {file}"))).Message);
        Assert.StartsWith($"No file {file}2;", Assert.Throws<CommandException>(() => CommandRunner.CheckLine(CommandParser.ParseMany($"export lstm {file}; import {file}2"))).Message);
    }
}
