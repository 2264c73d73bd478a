using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>Completer: Tab completion of commands, names and option keys.</summary>
public class CompleterTests
{
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
    [InlineData("train re", 8, 6, new[] { "recipe=" })]
    [InlineData("train recipe=l", 14, 6, new[] { "recipe=lesson" })]
    [InlineData("train recipe=lesson la", 22, 20, new[] { "layers=" })] // the recipe's architecture's keys
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

    [Fact]
    public void Several_candidates_complete_to_their_common_prefix()
    {
        Assert.Equal("lstm-", Completer.CommonPrefix(["lstm-big", "lstm-small"]));
        Assert.Equal("", Completer.CommonPrefix([]));
    }
}
