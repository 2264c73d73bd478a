using CharRnn.Tui.Cli;
using Xunit;

namespace CharRnn.Tui.Tests;

/// <summary>YesNoOptions: a yes/no flag alone means yes, takes the yes/no words after it, and leaves an architecture's name for the architecture.</summary>
public class YesNoOptionsTests
{
    private static System.CommandLine.ParseResult Parse(params string[] args)
    {
        var root = CharRnnCommandLine.Build();
        return root.Parse(YesNoOptions.Normalize(args, root));
    }

    [Theory]
    [InlineData(new[] { "train", "--lower", "stateful-gru" }, true)]
    [InlineData(new[] { "train", "--lower", "no", "stateful-gru" }, false)]
    [InlineData(new[] { "train", "stateful-gru", "--lower", "on" }, true)]
    public void A_yes_no_flag_before_an_architecture_leaves_it_for_the_architecture(string[] args, bool lower)
    {
        var parse = Parse(args);
        Assert.Empty(parse.Errors);
        Assert.Equal("stateful-gru", parse.GetValue<string?>("arch"));
        Assert.Equal(lower, parse.GetValue<bool>("--lower"));
    }
}
