using CharRnn.Tui.Views;
using Terminal.Gui.Input;

namespace CharRnn.Tui.Tests;

/// <summary>Screen tests of the Beat screen (BeatTheModelView).</summary>
public sealed partial class ScreenTests
{
    [Fact]
    public void Beat_the_model_starts_with_enter_and_scores_each_guess()
    {
        UseGru();
        Press(Key.F6);
        PumpUntil(() => _window.Beat.HasFocus, "the Beat tab to take the keyboard");
        Press(Key.Esc);
        Assert.True(_window.Repl.Input.HasFocus);
        Press(Key.F6); // back to the tab already shown: it must take the keyboard again
        PumpUntil(() => _window.Beat.HasFocus, "the Beat tab to take the keyboard again");
        Press(Key.Enter);
        Press(new Key('x')); // typed while the game starts: neither a guess nor a command
        Press(Key.Enter);    // nor a second game
        PumpUntil(() => _window.Game.Playing, "the game to start");
        Assert.Equal("", _window.Repl.Input.Text);
        Assert.Empty(_window.Game.Rounds);
        var next = _window.Game.Passage[_window.Game.Position];
        Press(new Key((char)next.Value));
        PumpUntil(() => _window.Game.Rounds.Count == 1 && Screen.Contains("you 1 · model"), "the first round scored");
        Assert.Equal(1, _window.Game.PlayerScore);
    }

    [Fact]
    public async Task A_game_the_server_refuses_shows_its_request_id_as_the_command_line_does()
    {
        UseGru(); // the tab shows a game's message once a model is in use
        Press(Key.F6);
        PumpUntil(() => _window.Beat.HasFocus, "the Beat tab to take the keyboard");
        await _window.Game.StartAsync("no-such-model", lowercase: false); // as Enter does with a model in use that was deleted since
        PumpUntil(() => Screen.Contains("no-such-model"), "the refusal on the Beat tab");
        Assert.Matches(@"\(request [0-9a-f]{8}\)", Screen); // what an operator looks for in the server's log
    }

    [Fact]
    public async Task A_letter_typed_after_a_game_ends_is_not_run_as_a_command_by_the_enter_that_starts_the_next()
    {
        UseGru();
        Press(Key.F6);
        PumpUntil(() => _window.Beat.HasFocus, "the Beat tab to take the keyboard");
        Press(Key.Enter);
        PumpUntil(() => _window.Game.Playing, "the game to start");
        await _window.Game.StopAsync(); // the game is over (as at the passage's end, or its session lost)
        var log = _window.Repl.Log.Content;
        Press(new Key('x')); // one guess too many
        Press(Key.Enter);    // "Press Enter for a new passage"
        PumpUntil(() => _window.Game.Playing, "the next game to start");
        Assert.Equal("", _window.Repl.Input.Text);
        Assert.Equal(log, _window.Repl.Log.Content); // no "Unknown command 'x'"
    }

    [Fact]
    public void The_beat_screens_first_row_shows_whole_at_34_columns()
    {
        // 34 columns leave the screen the 30 it needs (MainWindow.MinimumSize): its one first row was cut there,
        // "Pick a model first (use NAME),", "You vs gru · press Enter to star" and the score's rounds lost.
        _app.Driver!.SetScreenSize(34, 24);
        Press(Key.F6);
        PumpUntil(() => _window.Frame.Width == 34 && Screen.Contains("Pick a model"), "the Beat screen at 34 columns", 5_000);
        Assert.True(Screen.Contains("Enter here.", StringComparison.Ordinal), $"the whole hint:\n{Screen}");
        Press(Key.Esc);
        UseGru();
        Press(Key.F6);
        PumpUntil(() => Screen.Contains("Enter to start", StringComparison.Ordinal), "the start's hint whole at 34 columns", 5_000);
        Press(Key.Enter);
        PumpUntil(() => _window.Game.Playing, "the game to start");
        PumpUntil(() => Screen.Contains("you 0 · model 0 · rounds 0", StringComparison.Ordinal), "the whole score at 34 columns", 5_000);
        _app.Driver!.SetScreenSize(80, 24);
        PumpUntil(() => Screen.Contains("You vs gru · you 0 · model 0 · rounds 0", StringComparison.Ordinal), "the score with the model's name at 80 columns", 5_000);
    }

    [Fact]
    public void Using_another_model_mid_game_says_it_plays_from_the_next_passage()
    {
        // The game went on against the old model ("You vs gru") with nothing saying the new one had not taken over.
        var copy = Path.Combine(_fixture.Models, "g2");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(Path.Combine(_fixture.Models, "gru"), "*.ckpt")) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        try
        {
            UseGru();
            Press(Key.F6);
            PumpUntil(() => _window.Beat.HasFocus, "the Beat tab to take the keyboard");
            Press(Key.Enter);
            PumpUntil(() => _window.Game.Playing, "the game to start");
            Assert.DoesNotContain("next passage", Screen);
            Press(Key.Esc);
            Command("use g2 t=0");
            PumpUntil(() => _window.Runner.Session?.ModelName == "g2", "g2 in use");
            Press(Key.F6);
            PumpUntil(() => Screen.Contains("g2 is in use now: it plays from the next passage"), "the note on the Beat screen");
            Assert.Contains("You vs gru", Screen); // this passage is still against gru
            Assert.Contains("Type your guess", Screen); // the game's message keeps its row
        }
        finally
        {
            Directory.Delete(copy, true);
        }
    }
}
