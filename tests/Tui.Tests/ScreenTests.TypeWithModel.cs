using CharRnn.Tui.Views;
using Terminal.Gui.Input;

namespace CharRnn.Tui.Tests;

/// <summary>Screen tests of the Type screen (TypeWithModelView).</summary>
public sealed partial class ScreenTests
{
    [Fact]
    public void Esc_from_the_type_tab_returns_to_the_command_line_and_leaves_a_gen_streaming_a_second_stops_it()
    {
        UseGru();
        Command("gen 100000");
        var pane = _window.Generate.Panes[0];
        PumpUntil(() => pane.Content.Length >= 20, "text streaming");
        Press(Key.F5);
        PumpUntil(() => _window.TypeView.HasFocus, "the typing view to take the keyboard");
        Press(Key.Esc);
        Assert.True(_window.Repl.Input.HasFocus);
        var before = pane.Content.Length;
        PumpUntil(() => pane.Content.Length > before + 20, "the gen to go on streaming");
        Press(Key.Esc); // from the command line: stops it
        PumpUntil(() => _window.Repl.Log.Content.Contains("stopped"), "the gen to stop");
    }

    [Fact]
    public void Typed_wide_characters_wrap_by_columns_and_all_show()
    {
        UseGru();
        Press(Key.F5);
        PumpUntil(() => _window.TypeView.HasFocus, "the typing view to take the keyboard");
        Type(new string('漢', 100)); // 200 columns: two rows at 130 (not the gru's chars: it says so, and the text still shows)
        PumpUntil(() => _window.TypeView.Typed.Length == 100, "the text typed");
        PumpUntil(() => Screen.Count(c => c == '漢') >= 100, "every char on screen"); // and one more in the error that names it, once it shows
    }

    [Fact]
    public void Typed_text_wraps_at_a_words_end_not_in_the_middle_of_one()
    {
        UseGru();
        Press(Key.F5);
        PumpUntil(() => _window.TypeView.HasFocus, "the typing view to take the keyboard");
        var width = _window.TypeView.Viewport.Width;
        // Words of the gru's own letters, long enough to cross the row's end inside a word.
        var text = string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 20)).TrimEnd();
        while (text[width - 1] == ' ' || text[width] == ' ') text = "a " + text;
        text = text[..(width + 30)].TrimEnd();
        Type(text);
        PumpUntil(() => _window.TypeView.Typed == text, "the text typed");
        var breakAt = text.LastIndexOf(' ', width - 1) + 1; // the first row ends with the last whole word that fits
        PumpUntil(() => Screen.Split('\n').Any(l => l.TrimStart('│').StartsWith(text[breakAt..(breakAt + 12)], StringComparison.Ordinal)), "the second row to start at a word");
        Assert.DoesNotContain(Screen.Split('\n'), l => l.TrimStart('│').StartsWith(text[width..(width + 12)], StringComparison.Ordinal)); // cut mid-word at the edge
    }

    [Fact]
    public void The_sessions_command_names_the_sessions_the_type_and_beat_tabs_hold()
    {
        UseGru();
        Press(Key.F5);
        PumpUntil(() => _window.TypeView.HasFocus, "the typing view to take the keyboard");
        Type("the c");
        PumpUntil(() => _window.Typing.SessionId != null, "the Type tab's session");
        Press(Key.F6);
        PumpUntil(() => _window.Beat.HasFocus, "the Beat tab to take the keyboard");
        Press(Key.Enter);
        PumpUntil(() => _window.Game.Playing && _window.Game.SessionId != null, "the game's session");
        Press(Key.Esc);
        // Two more sessions of gru than the REPL opened, with nothing to say whose they were.
        Command("sessions");
        PumpUntil(() => _window.Repl.Log.Content.Contains("EXPIRES IN") && _window.Repl.Log.Content.Contains(_window.Game.SessionId!), "the sessions listed");
        var rows = _window.Repl.Log.Content.Split('\n');
        Assert.EndsWith("(in use here)", rows.Single(r => r.StartsWith(_window.Runner.Session!.Id)));
        Assert.EndsWith("(the Type tab's)", rows.Single(r => r.StartsWith(_window.Typing.SessionId!)));
        Assert.EndsWith("(the Beat tab's)", rows.Single(r => r.StartsWith(_window.Game.SessionId!)));
    }

    [Fact]
    public void Typing_with_the_model_shows_its_prediction_as_ghost_text_and_tab_accepts_it()
    {
        UseGru();
        Press(Key.F5);
        PumpUntil(() => _window.TypeView.HasFocus, "the typing view to take the keyboard");
        Type("the c");
        PumpUntil(() => _window.Typing.Prediction is { Length: >= 10 } p && Screen.Contains("the c" + p[..5]), "a prediction drawn after the typed text");
        var prediction = _window.Typing.Prediction;
        Press(Key.Tab);
        Assert.Equal("the c" + prediction, _window.TypeView.Typed);
        Press(Key.Esc);
        Assert.True(_window.Repl.Input.HasFocus);
    }

    [Fact]
    public void Typed_chars_are_drawn_in_the_colour_of_how_surprised_the_model_was_by_each()
    {
        UseGru();
        Press(Key.F5);
        PumpUntil(() => _window.TypeView.HasFocus, "the typing view to take the keyboard");
        const string text = "the cat sat on the mot"; // the gru's own pattern, then an 'o' it does not expect after "the m"
        var session = _fixture.Client.Generation.OpenSession(new Protos.V1.OpenSessionRequest { ModelName = "gru" });
        var losses = _fixture.Client.Generation.Feed(new Protos.V1.FeedRequest { SessionId = session.Id, Text = text, CharScores = true }).Chars.Select(c => c.Loss).ToList();
        _fixture.Client.Generation.CloseSession(new Protos.V1.CloseSessionRequest { SessionId = session.Id });
        var normal = _window.TypeView.GetAttributeForRole(Terminal.Gui.Drawing.VisualRole.Normal);
        var expected = losses.Select(l => SurpriseColors.ForLoss(l, normal).Foreground).ToList();
        Assert.Contains(Terminal.Gui.Drawing.Color.BrightGreen, expected); // the text shows both ends of the scale
        Assert.Contains(Terminal.Gui.Drawing.Color.BrightRed, expected);

        Type(text);
        PumpUntil(() => DrawnColours(text) is { } drawn && drawn.SequenceEqual(expected), "each typed char in its colour");
        Assert.Contains("Typed chars by p: green ≥ 50% · plain 10–50% · yellow 2–10% · red < 2%", Screen);
    }

    [Fact]
    public void The_hint_is_in_a_colour_no_typed_char_or_prediction_is_drawn_in()
    {
        UseGru();
        Press(Key.F5);
        PumpUntil(() => _window.TypeView.HasFocus, "the typing view to take the keyboard");
        const string hint = "Typing with gru";
        PumpUntil(() => DrawnColours(hint) != null, "the hint drawn");
        var normal = _window.TypeView.GetAttributeForRole(Terminal.Gui.Drawing.VisualRole.Normal);
        // Every colour a typed char can take (p from 1 down to 0.001: green, plain, yellow, red) and the prediction's grey.
        var taken = new[] { 0.0, 1.0, 3.0, 7.0 }.Select(l => SurpriseColors.ForLoss(l, normal).Foreground).Append(TypeWithModelView.Ghost.Foreground).ToHashSet();
        Assert.Equal(4, taken.Count - 1); // the four bands differ, so the probe covers each
        Assert.All(DrawnColours(hint)!, c => Assert.DoesNotContain(c, taken));
    }

    /// <summary>The foreground of each char of <paramref name="text"/> where the screen shows it; null while it does not.</summary>
    private List<Terminal.Gui.Drawing.Color>? DrawnColours(string text)
    {
        var lines = Screen.Split('\n');
        var row = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        if (row < 0) return null;
        var column = lines[row].IndexOf(text, StringComparison.Ordinal);
        return [.. text.Select((_, i) => _app.Driver!.Contents![row, column + i].Attribute?.Foreground ?? default)];
    }

    [Fact]
    public void On_the_type_tab_with_no_model_in_use_what_is_typed_goes_to_the_command_line()
    {
        Press(Key.F5);
        PumpUntil(() => _window.TypeView.HasFocus, "the typing view to take the keyboard");
        Type("use gru");
        Assert.Equal("use gru", _window.Repl.Input.Text); // a command, not text to type with no model
        Assert.Equal("", _window.TypeView.Typed);
        Ui(() => _window.Repl.Input.Text = "");
    }

    [Fact]
    public void A_job_attached_in_the_background_does_not_take_the_keyboard_from_the_type_tab()
    {
        UseGru();
        Press(Key.F5);
        PumpUntil(() => _window.TypeView.HasFocus, "the typing view to take the keyboard");
        Ui(() => _window.JobAttached(new Protos.V1.Job { Id = "j-background", ModelName = "gru", State = Protos.V1.Job.Types.State.Running }));
        PumpUntil(() => _window.Monitor.JobId == "j-background", "the monitor to follow the job"); // a round of the loop: the switch it asked for ran
        Assert.Same(_window.TypeView, _window.Tabs.Value);
        Assert.True(_window.TypeView.HasFocus);
        Type("the");
        Assert.Equal("the", _window.TypeView.Typed);
        Press(Key.F3); // shown when asked for
        Assert.Same(_window.Training, _window.Tabs.Value);
        _window.JobDetached();
    }

    [Fact]
    public void The_type_screen_says_what_terminal_it_needs_when_its_typing_area_does_not_fit()
    {
        UseGru();
        Press(Key.F5);
        _app.Driver!.SetScreenSize(60, 15); // three rows: the hint's two and the blank one, and no room for the text
        PumpUntil(() => Screen.Contains("Terminal too small for this screen"), "the notice on the Type screen at 60×15");
        _app.Driver!.SetScreenSize(80, 24);
        PumpUntil(() => !Screen.Contains("too small") && Screen.Contains("Typing with gru"), "the Type screen whole at 80×24");
    }

    [Fact]
    public void The_type_screens_hint_and_colour_key_show_whole_at_54_and_60_columns()
    {
        // 54 columns leave the screen the 50 it needs (MainWindow.MinimumSize): there and at 60 the hint ended in
        // "what you type goes to the command…", and the colours' key was cut at "· yel" (at 60: "yellow 2–10% · re").
        Press(Key.F5);
        foreach (var width in new[] { 54, 60, 80 })
        {
            _app.Driver!.SetScreenSize(width, 24);
            PumpUntil(() => _window.Frame.Width == width && Screen.Contains("Pick a model first"), $"the hint at {width} columns", 5_000);
            Assert.True(Screen.Contains("line.", StringComparison.Ordinal), $"the whole hint at {width} columns:\n{Screen}");
            Assert.DoesNotContain("…", Screen);
        }
        _app.Driver!.SetScreenSize(130, 42);
        UseGru();
        Press(Key.F5);
        foreach (var width in new[] { 54, 60, 80 })
        {
            _app.Driver!.SetScreenSize(width, 24);
            PumpUntil(() => _window.Frame.Width == width && Screen.Contains("Typing with gru"), $"the hint at {width} columns", 5_000);
            foreach (var key in new[] { "Typed chars by p:", "green ≥ 50%", "plain 10–50%", "yellow 2–10%", "red < 2%", "line." })
                Assert.True(Screen.Contains(key, StringComparison.Ordinal), $"\"{key}\" at {width} columns:\n{Screen}");
        }
    }
}
