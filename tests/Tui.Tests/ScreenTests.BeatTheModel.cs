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
}
