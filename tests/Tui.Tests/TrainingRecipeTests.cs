using CharRnn.Tui.Cli;
using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>A recipe's flags and keys, as its messages print them, paste back as the same settings.</summary>
public sealed class TrainingRecipeTests
{
    // Values a shell or the REPL would not take as one word for other reasons than a space or ';': a quote, $, *, a backslash.
    [Theory]
    [InlineData("constant,epochs=2; sgdr:cycle_len=1", "'constant,epochs=2; sgdr:cycle_len=1'", "'constant,epochs=2; sgdr:cycle_len=1'")]
    [InlineData("it's", "'it'\\''s'", "\"it's\"")]
    [InlineData("$HOME*", "'$HOME*'", "$HOME*")] // the REPL expands nothing
    [InlineData("a\\\"b", "'a\\\"b'", "'a\\\"b'")]
    [InlineData("constant", "constant", "constant")]
    public void A_recipes_schedule_is_quoted_as_the_shell_and_the_repl_each_read_it_back(string schedule, string flag, string key)
    {
        var recipe = new TrainingRecipe("r", "stateful-lstm", Lowercase: false, Epochs: 1, Schedule: schedule, MinFrequency: 1);
        Assert.Equal($"--epochs 1 --schedule {flag} --min-freq 1", recipe.Flags);
        Assert.Equal($"epochs=1 schedule={key} min_freq=1", recipe.Keys);
        var pasted = Assert.Single(CommandParser.ParseMany($"train stateful-lstm {recipe.Keys}"));
        Assert.Equal(schedule, pasted.Options["schedule"]);
    }
}
