using CharRnn.Tui.ViewModels;

namespace CharRnn.Tui.Tests;

[Collection(TuiCollection.Name)]
public sealed class BeatTheModelGameTests(TuiFixture fixture)
{
    [Fact]
    public async Task A_passage_too_short_for_a_game_says_so_instead_of_hanging_at_starting()
    {
        File.WriteAllText(Path.Combine(fixture.Corpora, "short.txt"), string.Concat(Enumerable.Repeat("the cat sat. ", 8))); // held-out fifth: ~20 chars
        var game = new BeatTheModelGame(fixture.Client);
        await game.StartAsync("gru", lowercase: true, "short");
        Assert.False(game.Playing);
        Assert.Contains("a game needs more than 40", game.Message);
        Assert.EndsWith("Press Enter to try again.", game.Message);
    }
}
