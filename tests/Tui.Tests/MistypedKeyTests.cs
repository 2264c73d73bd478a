using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>MistypedKey: the key a refused one most likely meant.</summary>
public class MistypedKeyTests
{
    [Theory]
    [InlineData("temp", " Did you mean 'temperature'?")] // the start of one key
    [InlineData("epoch", " Did you mean 'epochs'?")]     // a slip, as ClosestName finds it
    [InlineData("max_s", "")]                           // the start of max_steps and max_sessions: no guess
    [InlineData("ep", "")]                              // two letters start too many keys to guess from
    public void A_refused_key_is_answered_with_the_key_it_slips_from_or_the_only_one_it_starts(string typed, string expected) =>
        Assert.Equal(expected, MistypedKey.Suggestion(typed, ["t", "temperature", "epochs", "min_freq", "max_steps", "max_sessions"]));
}
