using CharRnn.Engine.Text;
using Xunit;

namespace CharRnn.Engine.Tests;

public class ClosestNameTests
{
    private static readonly string[] Commands = ["help", "archs", "arch", "models", "train", "resume", "use", "gen", "feed", "set", "reset", "stop"];
    private static readonly string[] Architectures = ["rnn", "seq-rnn", "stateful-rnn", "stateful-gru", "stateful-gru-cell", "stateful-lstm"];

    [Theory]
    [InlineData("gne", "gen")] // two letters swapped: one edit
    [InlineData("trian", "train")]
    [InlineData("modles", "models")]
    [InlineData("Train", "train")] // case
    [InlineData("resme", "resume")] // a letter left out
    public void A_slip_of_a_letter_finds_the_command(string typed, string meant) => Assert.Equal(meant, ClosestName.To(typed, Commands));

    [Theory]
    [InlineData("stateful-lsmt", "stateful-lstm")]
    [InlineData("statefull-gru", "stateful-gru")]
    [InlineData("lstm", "stateful-lstm")] // a part of one longer name
    [InlineData("gru", "stateful-gru")] // the shortest of the names it is a part of
    [InlineData("LSTM", "stateful-lstm")]
    public void A_part_or_a_near_spelling_finds_the_architecture(string typed, string meant) => Assert.Equal(meant, ClosestName.To(typed, Architectures));

    [Theory]
    [InlineData("train")] // no typo
    [InlineData("bogus")] // nothing near
    [InlineData("x")] // one letter is near every short name
    [InlineData("")]
    [InlineData("foo")] // three letters allow one edit: "for" would be one, but no command is that near
    public void Nothing_is_suggested_for_a_known_name_or_one_far_from_all(string typed) => Assert.Null(ClosestName.To(typed, Commands));

    [Fact]
    public void Two_names_equally_near_give_no_guess()
    {
        Assert.Null(ClosestName.To("lstm-3", ["lstm-1", "lstm-2"]));
        Assert.Null(ClosestName.To("lstm", ["big-lstm", "old-lstm"]));
        Assert.Equal(" Did you mean 'lstm-1'?", ClosestName.Suggestion("lstm-l", ["lstm-1", "gru-1"]));
        Assert.Equal("", ClosestName.Suggestion("nothing", ["lstm-1", "gru-1"]));
    }

    [Theory]
    [InlineData("", "abc", 3)]
    [InlineData("abc", "abc", 0)]
    [InlineData("abc", "acb", 1)] // a swap of neighbours is one edit
    [InlineData("kitten", "sitting", 3)]
    public void Distance_counts_edits(string a, string b, int edits) => Assert.Equal(edits, ClosestName.Distance(a, b));
}
