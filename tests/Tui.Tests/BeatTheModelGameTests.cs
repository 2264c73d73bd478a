using CharRnn.Tui.ViewModels;

namespace CharRnn.Tui.Tests;

[Collection(TuiCollection.Name)]
public sealed class BeatTheModelGameTests(TuiFixture fixture)
{
    /// <summary>A tiny model trained on <paramref name="text"/>, saved as corpus <paramref name="name"/>.txt in the corpora folder too.</summary>
    private void TrainOn(string name, string text, int bptt = 8)
    {
        File.WriteAllText(Path.Combine(fixture.Corpora, name + ".txt"), text);
        var a = Engine.Models.Architectures.Get("stateful-gru");
        var hp = a.Resolve(new Dictionary<string, double> { ["n_hidden"] = 8, ["n_fac"] = 4, ["bs"] = 2, ["bptt"] = bptt, ["random_bptt"] = 0 });
        var corpus = new Engine.Text.Corpus(name, text, Engine.Text.Corpus.HexSha256(System.Text.Encoding.UTF8.GetBytes(text)));
        using var trainer = Engine.Training.Trainer.Create(a, hp, new Engine.Training.TrainingOptions { MaxSteps = 1, Epochs = 1, SampleChars = 0 },
            corpus, TorchSharp.torch.CPU, Path.Combine(fixture.Models, name));
        trainer.Run();
    }

    [Fact]
    public async Task A_passage_too_short_for_a_game_says_so_instead_of_hanging_at_starting()
    {
        TrainOn("short", string.Concat(Enumerable.Repeat("the cat sat. ", 8)), bptt: 4); // held-out fifth: ~20 chars
        var game = new BeatTheModelGame(fixture.Client);
        await game.StartAsync("short", lowercase: true);
        Assert.False(game.Playing);
        Assert.Contains("a game needs more than 40", game.Message);
        Assert.EndsWith("Press Enter to try again.", game.Message);
    }

    [Fact]
    public async Task A_game_whose_session_expired_goes_on_in_a_new_one_that_has_read_the_passage_so_far()
    {
        var game = new BeatTheModelGame(fixture.Client);
        await game.StartAsync("gru", lowercase: true);
        Assert.True(game.Playing, game.Message);
        await game.GuessAsync(game.Passage[game.Position]);
        var lost = game.SessionId!;
        await fixture.Client.Generation.CloseSessionAsync(new Protos.V1.CloseSessionRequest { SessionId = lost }); // as an expiry or a server restart
        await game.GuessAsync(new System.Text.Rune('x'));
        Assert.True(game.Playing, game.Message); // not "the game stopped"
        Assert.NotEqual(lost, game.SessionId);
        Assert.Equal(2, game.Rounds.Count);
        var info = await fixture.Client.Generation.GetSessionAsync(new Protos.V1.GetSessionRequest { SessionId = game.SessionId! });
        Assert.Equal(game.Position, info.CharactersSeen); // the model has read what the player has seen
        await game.StopAsync();
    }

    [Fact]
    public async Task A_passage_with_chars_outside_the_basic_plane_is_played_one_char_a_round_as_the_model_reads_it()
    {
        // A model whose vocabulary has an emoji, which is two UTF-16 units and one char to the model.
        TrainOn("cats", string.Concat(Enumerable.Repeat("the 🐱 sat on the mat. ", 60)));
        var game = new BeatTheModelGame(fixture.Client);
        await game.StartAsync("cats", lowercase: false);
        Assert.True(game.Playing, game.Message);
        Assert.Contains(new System.Text.Rune(0x1F431), game.Passage);
        while (game.Playing) await game.GuessAsync(game.Passage[game.Position]);
        Assert.StartsWith("Passage done", game.Message);
        Assert.Equal(game.Passage.Count - BeatTheModelGame.ContextChars, game.Rounds.Count);
        Assert.Equal(game.Rounds.Count, game.PlayerScore);
        Assert.Contains(game.Rounds, r => r.Actual.Value == 0x1F431);
        var info = await fixture.Client.Generation.GetSessionAsync(new Protos.V1.GetSessionRequest { SessionId = game.SessionId! });
        Assert.Equal(game.Position, info.CharactersSeen); // one char a round, as the model counts them
        await game.StopAsync();
    }

    [Fact]
    public async Task A_model_that_refuses_every_retry_asks_for_another_model_not_another_try()
    {
        var game = new BeatTheModelGame(fixture.Client);
        await game.StartAsync("no-such-model", lowercase: false);
        Assert.False(game.Playing);
        Assert.Contains("no-such-model", game.Message);
        Assert.Matches(@"\(request [0-9a-f]{8}\)\. Use another model", game.Message); // the server's request id, as the REPL ends its errors
        Assert.EndsWith("Use another model (F2 lists them), then press Enter here.", game.Message);
        Assert.DoesNotContain("try again", game.Message);
    }

    [Fact]
    public async Task A_passage_the_model_cannot_read_leaves_no_session_open_however_often_it_is_tried()
    {
        TrainOn("caps", string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 60)));
        File.WriteAllText(Path.Combine(fixture.Corpora, "caps.txt"), string.Concat(Enumerable.Repeat("THE CAT SAT ON THE MAT. ", 60))); // the corpus since replaced: none of these chars is the model's
        var game = new BeatTheModelGame(fixture.Client);
        var before = (await fixture.Client.Catalog.GetServerInfoAsync(new Protos.V1.GetServerInfoRequest())).ActiveSessions;
        for (var i = 0; i < 3; i++)
        {
            await game.StartAsync("caps", lowercase: false);
            Assert.False(game.Playing);
            Assert.EndsWith("Press Enter to try again.", game.Message);
        }
        Assert.Equal(before, (await fixture.Client.Catalog.GetServerInfoAsync(new Protos.V1.GetServerInfoRequest())).ActiveSessions);
    }
}
