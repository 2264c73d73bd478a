using CharRnn.Tui.Repl;
using CharRnn.Tui.Views;
using Terminal.Gui.Input;

namespace CharRnn.Tui.Tests;

/// <summary>Screen tests of the Generate screen (GenerateView): streamed text, comparisons and the sampling settings.</summary>
public sealed partial class ScreenTests
{
    [Fact]
    public void Tab_goes_round_the_generate_screens_stops_in_reading_order()
    {
        // The colour checkbox, drawn after the buttons, was the stop after "chars": between the settings and the prime,
        // a stop with no cursor, on a row the eye was not on.
        _app.Driver!.SetScreenSize(80, 24);
        Ui(() => _window.Show(_window.Generate));
        Ui(() => _window.Generate.TemperatureField.SetFocus());
        PumpUntil(() => _window.Generate.TemperatureField.HasFocus, "the temperature field to have the keyboard", 2_000);
        var stops = new List<System.Drawing.Point>();
        for (var i = 0; i < 14; i++) // the five settings, the chars, the prime, five buttons, the checkbox and the output
        {
            stops.Add(_window.Generate.MostFocused!.FrameToScreen().Location);
            Press(Key.Tab);
        }
        Assert.True(_window.Generate.TemperatureField.HasFocus, "Tab went round the screen's 14 stops");
        var reading = stops.OrderBy(p => p.Y).ThenBy(p => p.X).ToList();
        Assert.Equal(reading, stops);
    }

    [Fact]
    public void On_the_generate_screen_PgUp_from_the_command_line_scrolls_the_generated_text_not_the_log()
    {
        UseGru();
        Command("gen 100000 \"the c\"");
        var pane = _window.Generate.Panes[0];
        PumpUntil(() => pane.Content.Length >= 8000, "more text than the pane shows");
        Press(Key.Esc); // stops it; the command line keeps the keyboard
        PumpUntil(() => _window.Repl.Log.Content.Contains("stopped"), "the gen to stop");
        Assert.Same(_window.Generate, _window.Tabs.Value);
        Assert.True(_window.Repl.Input.HasFocus);
        Press(Key.PageUp);
        PumpUntil(() => true, "a frame");
        Assert.True(pane.ScrollBack > 0, "the generated text scrolled back");
        Assert.Equal(0, _window.Repl.Log.ScrollBack);
        Press(Key.PageDown);
        PumpUntil(() => true, "a frame");
        Assert.Equal(0, pane.ScrollBack);

        // F7 made the log the tall one: it is what PgUp scrolls there.
        Press(Key.F7);
        for (var i = 0; i < 60; i++) _window.Repl.Log.AppendLine($"line {i}");
        PumpUntil(() => _window.Repl.Frame.Height > 20, "the tall log");
        Press(Key.PageUp);
        PumpUntil(() => true, "a frame");
        Assert.True(_window.Repl.Log.ScrollBack > 0, "the log scrolled back");
        Assert.Equal(0, pane.ScrollBack);
        Press(Key.F7);
    }

    [Fact]
    public void A_new_gen_shows_its_text_where_the_last_one_was_scrolled_back()
    {
        UseGru();
        Command("gen 3000 \"the c\"");
        var pane = _window.Generate.Panes[0];
        PumpUntil(() => _window.Repl.Log.Content.Contains("generated 3000 chars"), "the first gen");
        Press(Key.PageUp);
        Press(Key.PageUp);
        PumpUntil(() => pane.ScrollBack > 0, "the text scrolled back");
        // The new text streamed in below, out of sight, behind "↓ newer below: PgDn", as if the gen did nothing.
        Command("gen 5 \"the c\"");
        PumpUntil(() => _window.Repl.Log.Content.Contains("generated 5 chars"), "the second gen");
        PumpUntil(() => true, "a frame");
        Assert.Equal(0, pane.ScrollBack);
        Assert.DoesNotContain("newer below", Screen);
    }

    [Fact]
    public void A_gen_after_compare_takes_the_whole_width_and_the_seed_shown_is_not_pinned()
    {
        UseGru();
        Command("compare t=1 5 \"the c\"");
        PumpUntil(() => _window.Generate.Comparing && _window.Generate.Panes[1].Content.Contains("the c"), "the comparison");
        Command("gen 5");
        PumpUntil(() => !_window.Generate.Comparing, "the output alone again");
        // The seed field shows the seed the server drew; the buttons send it only once it is edited.
        PumpUntil(() => _window.Runner.Session != null, "the session");
        Assert.DoesNotContain("seed=", _window.Generate.Settings());
    }

    [Fact]
    public void Text_of_another_state_is_marked_and_a_comparison_starts_both_panes_afresh()
    {
        UseGru();
        Command("gen 5 \"the c\"");
        PumpUntil(() => _window.Generate.Panes[0].Content.Contains("the c") && _window.Generate.Panes[0].Content.TrimStart().Length >= 10, "the first text");
        Command("reset");
        PumpUntil(() => _window.Repl.Log.Content.Contains("reset"), "the reset");
        Command("gen 5");
        PumpUntil(() => _window.Generate.Panes[0].Content.Contains("── gru · reset ──"), "the reset marked in the text");
        Command("fork");
        Command("gen 5");
        PumpUntil(() => _window.Generate.Panes[0].Content.Contains("── gru · fork ──"), "the fork marked in the text");
        Command("back");
        Command("gen 5");
        PumpUntil(() => _window.Generate.Panes[0].Content.Contains("── gru · back from the fork ──"), "the return marked in the text");
        Assert.DoesNotContain("new session", _window.Generate.Panes[0].Content);
        Command("compare 5 \"the m\" t=1");
        // Both panes start afresh with the prime: side by side from the same row (the left one held the earlier text).
        PumpUntil(() => _window.Generate.Comparing && _window.Generate.Panes.All(p => p.Content.TrimStart().StartsWith("the m", StringComparison.Ordinal) && p.Content.TrimStart().Length >= 10),
            "the comparison in both panes");
        Assert.DoesNotContain("the c", _window.Generate.Panes[0].Content);
    }

    [Fact]
    public void Use_and_gen_stream_text_into_the_generate_tab()
    {
        UseGru();
        Command("gen 40 \"the c\"");
        PumpUntil(() => _window.Generate.Panes[0].Content.Trim().Length >= 45, "40 generated characters");
        Assert.Same(_window.Generate, _window.Tabs.Value);
        Assert.Contains("the c", Screen);
        Assert.Contains("model gru (stateful-gru)", Screen);
        Assert.True(_window.Repl.Input.HasFocus, "the command line keeps the keyboard while output streams");
        Assert.Equal(("the c", "40"), _window.Generate.RequestFields); // the Generate button runs it again
        Command("gen 7");
        PumpUntil(() => _window.Generate.RequestFields.Count == "7", "the count shown");
        Assert.Equal("the c", _window.Generate.RequestFields.Prime); // a gen without a prime continues: the prime field keeps the last one
    }

    [Fact]
    public void A_gens_prime_of_several_lines_is_what_the_generate_button_runs_again()
    {
        UseGru();
        // Played: after gen 80 "…" with a pasted paragraph, the one-line prime field showed, and its buttons ran, the first line only.
        Command("gen 10 \"the c\\nat\"");
        PumpUntil(() => _window.Generate.RequestFields.Count == "10", "the count shown");
        Assert.Equal("the c\\nat", _window.Generate.RequestFields.Prime); // as the command line writes it in quotes
        var field = Descendants(_window.Generate).OfType<ShellTextField>().Single(f => f.Text == "the c\\nat");
        Ui(() => field.InvokeCommand(Terminal.Gui.Input.Command.Accept));
        // The line it runs, as the log echoes it (the test model's vocabulary has no line feed: the server refuses both alike).
        PumpUntil(() => _window.Repl.Log.Content.Split("gen 10 \"the c\\nat\"").Length == 3, "the prime field's gen with the whole prime");
    }

    private static IEnumerable<Terminal.Gui.ViewBase.View> Descendants(Terminal.Gui.ViewBase.View view) =>
        view.SubViews.SelectMany(v => Descendants(v).Prepend(v));

    [Fact]
    public void A_setting_typed_but_not_yet_sent_survives_fork_and_reset()
    {
        UseGru();
        PumpUntil(() => _window.Runner.Session != null && _window.Generate.Settings().StartsWith("set t=0 ", StringComparison.Ordinal), "the session's settings shown"); // use gru t=0
        var before = _window.Runner.Session!.Id;
        _window.Generate.TemperatureField.Text = "1.5"; // typed; Fork pressed before Continue
        Command("fork");
        PumpUntil(() => _window.Runner.Session?.Id != before, "the fork");
        PumpUntil(() => true, "a frame");
        Assert.StartsWith("set t=1.5 ", _window.Generate.Settings()); // goes with the next press
        Command("reset");
        PumpUntil(() => _window.Repl.Log.Content.Contains("reset"), "the reset");
        Assert.StartsWith("set t=1.5 ", _window.Generate.Settings());
        Command("set t=0.6"); // a setting sent shows as ever
        PumpUntil(() => _window.Generate.Settings().StartsWith("set t=0.6 ", StringComparison.Ordinal), "the sent setting shown");
        Command("set t=0.125 p=0.925"); // shown as set: the buttons send the fields back, and a rounded 0.13 would change it
        PumpUntil(() => _window.Generate.Settings().StartsWith("set t=0.125 k=0 p=0.925", StringComparison.Ordinal), "the settings shown unrounded");
        // A field is one value however it is typed: a ';' in it is refused by set, never run as a command of its own.
        _window.Generate.TemperatureField.Text = "1; delete gru";
        var settings = CommandParser.ParseMany(_window.Generate.Settings());
        Assert.Equal(["set"], settings.Select(c => c.Verb));
        Assert.Equal("1; delete gru", settings[0].Options["t"]);
    }

    [Fact]
    public void A_comparison_starts_both_panes_on_their_first_row_after_a_gen_between_comparisons()
    {
        UseGru();
        Command("gen 5 \"the c\"");
        PumpUntil(() => _window.Generate.Panes[0].Content.Contains("the c") && _window.Generate.Panes[0].Content.TrimStart().Length >= 10, "the first text");
        bool Compared() => _window.Generate.Comparing && _window.Generate.Panes.All(p => p.Content.Length >= 5) && _window.Runner.Session != null;
        Command("compare 5 t=1");
        PumpUntil(Compared, "the first comparison");
        Command("gen 5"); // the left pane's label changes, the right one's does not
        PumpUntil(() => !_window.Generate.Comparing && _window.Generate.Panes[0].Content.Length >= 10, "the text alone");
        Command("compare 6 t=1"); // 6: the right pane's 5 from the first comparison are not taken for these
        PumpUntil(() => Compared() && _window.Generate.Panes.All(p => p.Content.TrimStart('\n').Length == 6), "the second comparison");
        // Side by side from the same row: the left pane began with an empty row, one lower than the right.
        Assert.All(_window.Generate.Panes, p => Assert.False(p.Content.StartsWith('\n'), $"the pane starts with an empty row: {p.Content}"));
    }

    [Fact]
    public void Continue_carries_on_the_text_where_it_stopped_and_a_new_prime_or_compare_starts_a_line()
    {
        UseGru();
        var pane = _window.Generate.Panes[0];
        Command("gen 5 \"the c\"");
        PumpUntil(() => pane.Content.TrimStart('\n').Length >= 10 && _window.Runner.Session != null, "the first text");
        var first = pane.Content;
        Command("set t=0.7; gen 5"); // the Continue button
        PumpUntil(() => pane.Content.Length >= first.Length + 5, "the continuation");
        Assert.DoesNotContain('\n', pane.Content[first.Length..]); // the tiny model's vocabulary has no newline: any is the view's
        var continued = pane.Content;
        Command("gen 5 \"the m\"");
        PumpUntil(() => pane.Content.Length >= continued.Length + 11, "a new primed text");
        Assert.Equal('\n', pane.Content[continued.Length]);
        var primed = pane.Content;
        Command("reset; gen 5"); // the Reset button, then Continue: a new text from a fresh state
        PumpUntil(() => pane.Content.Length >= primed.Length + 6, "text after the reset");
        Assert.Equal('\n', pane.Content[primed.Length]);
    }

    /// <summary>Enter in the min-p field: the Generate button, which sends the fields with `set` before its gen.</summary>
    private void PressGenerateFromTheMinPField()
    {
        Ui(() => _window.Generate.MinPField.SetFocus());
        PumpUntil(() => _window.Generate.MinPField.HasFocus, "the min-p field to have the keyboard", 2_000);
        Press(Key.Enter);
    }

    [Fact]
    public void A_min_p_typed_on_the_generate_screen_reaches_the_session()
    {
        UseGru();
        Command("set seed=5");
        var pane = _window.Generate.Panes[0];
        Command("gen 40 \"the c\"");
        PumpUntil(() => pane.Content.TrimStart('\n').Length == 45 && _window.Repl.Log.Content.Contains("generated 40"), "the greedy text");
        var greedy = pane.Content.TrimStart('\n');
        Command("reset");
        PumpUntil(() => _window.Repl.Log.Content.Contains("reset"), "the reset");
        // At temperature 2 only min-p keeps the draws greedy: 0.99 of the likeliest char leaves it alone.
        _window.Generate.TemperatureField.Text = "2";
        _window.Generate.MinPField.Text = "0.99";
        PressGenerateFromTheMinPField();
        PumpUntil(() => _window.Runner.Session?.Sampling.MinP == 0.99 && pane.Content.Split('\n')[^1].Length == 45, "the text at min-p 0.99");
        Assert.Equal(2, _window.Runner.Session!.Sampling.Temperature);
        Assert.Equal(greedy, pane.Content.Split('\n')[^1]);
        Assert.Contains("min_p=0.99", _window.Repl.Log.Content); // the set the button ran, as the log teaches it
    }

    [Fact]
    public void Emptying_a_sampling_field_sends_its_setting_back_to_its_default_as_set_key_with_nothing_does()
    {
        UseGru();
        Command("set t=0.5 p=0.9 min_p=0.2 seed=5");
        PumpUntil(() => _window.Runner.Session?.Sampling is { MinP: 0.2, Seed: 5UL } && _window.Generate.MinPField.Text == "0.2" && _window.Generate.SeedField.Text == "5",
            "the settings shown");
        // Emptied (or left blank): t= is t=0.8, min_p= keeps all chars, seed= draws a random seed; top-p, left as it was, stays.
        _window.Generate.TemperatureField.Text = "";
        _window.Generate.MinPField.Text = " ";
        _window.Generate.SeedField.Text = "";
        _window.Generate.PrimeField.Text = "the c"; // the tiny model's vocabulary has no 'f' for the default prime
        PressGenerateFromTheMinPField();
        PumpUntil(() => _window.Repl.Log.Content.Contains("generated 300 chars"), "the gen");
        var sampling = _window.Runner.Session!.Sampling;
        Assert.Equal((0.8, 0.9, 0.0), (sampling.Temperature, sampling.TopP, sampling.MinP));
        Assert.NotEqual(5UL, sampling.Seed);
        Assert.Contains("set t= k=0 p=0.9 min_p= seed=; gen 300", _window.Repl.Log.Content); // the line the button ran, as the log teaches it
        // The fields show the values in force, the seed drawn too, which the next press does not send back.
        PumpUntil(() => _window.Generate.TemperatureField.Text == "0.8" && _window.Generate.MinPField.Text == "0"
                        && _window.Generate.SeedField.Text == sampling.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "the defaults shown");
        Assert.StartsWith("set t=0.8 k=0 p=0.9 min_p=0", _window.Generate.Settings());
        Assert.DoesNotContain("seed=", _window.Generate.Settings());
    }

    [Fact]
    public void A_bad_min_p_on_the_generate_screen_says_what_is_allowed_and_generates_nothing()
    {
        UseGru();
        foreach (var (typed, message) in new[]
        {
            ("1", "min_p=1 is not allowed; give a number from 0 (off) up to, not including, 1."),
            ("abc", "min_p=abc is not a number; give a number from 0 (off) up to, not including, 1, like 0.5 or 2e-3."),
        })
        {
            _window.Generate.MinPField.Text = typed;
            PressGenerateFromTheMinPField();
            PumpUntil(() => _window.Repl.Log.Content.Contains(message), $"the message for min-p {typed}");
        }
        Assert.Equal(0, _window.Runner.Session!.Sampling.MinP);
        Assert.DoesNotContain("generated", _window.Repl.Log.Content);
    }

    [Fact]
    public void The_sampling_settings_come_back_after_the_terminal_shrinks_and_grows_again()
    {
        UseGru();
        _window.Show(_window.Generate);
        PumpUntil(() => Screen.Contains("temperature 0") && Screen.Contains("chars 300"), "the settings row");
        // 60×23 is the smallest the screen takes at 60 columns (its settings take three rows there, its buttons two and the
        // shadow's between them): they and the count show there too.
        foreach (var (width, height) in new[] { (60, 15), (80, 24), (110, 35), (60, 23), (60, 15), (130, 42) })
        {
            _app.Driver!.SetScreenSize(width, height);
            if (height >= 23) PumpUntil(() => Screen.Contains("temperature 0") && Screen.Contains("min-p 0 ") && Screen.Contains("chars 300"), $"the settings rows at {width}×{height}");
            else PumpUntil(() => _window.Generate.Frame.Width < 60, $"the {width}×{height} layout");
        }
    }

    [Fact]
    public void The_colour_checkbox_shows_at_80_columns_with_a_nine_digit_seed()
    {
        UseGru();
        _window.Show(_window.Generate);
        Command("set seed=123456789");
        _app.Driver!.SetScreenSize(80, 24);
        PumpUntil(() => Screen.Contains("min-p 0") && Screen.Contains("seed 123456789") && Screen.Contains("chars 300"), "the settings rows at 80×24");
        PumpUntil(() => Screen.Contains("colour"), "the colour checkbox at 80×24", 2_000);
    }

    [Fact]
    public void A_prime_longer_than_its_row_ends_in_an_ellipsis()
    {
        _window.Show(_window.Generate);
        _app.Driver!.SetScreenSize(80, 24);
        Ui(() => _window.Generate.Begin(0, "gru", "the philosophers of the future will be those who think very long thoughts about everything", 20));
        PumpUntil(() => Screen.Contains("prime the philosophers"), "the prime's row");
        var row = Screen.Split('\n').First(l => l.Contains("prime the philosophers", StringComparison.Ordinal));
        Assert.Matches("…│", row); // was cut at "long thoug" as if it ended there
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => Screen.Contains("about everything"), "the whole prime at 130 columns");
        Assert.DoesNotContain("about everything…", Screen);
    }

    [Fact]
    public void The_whole_seed_shows_at_every_width_the_generate_screen_takes()
    {
        UseGru();
        _window.Show(_window.Generate);
        Command("set seed=18446744073709551615"); // the most digits a seed has (64 bits)
        // 44 columns leave the screen the 40 it needs (MainWindow.MinimumSize); at 60 the seed was cut off its row's end.
        foreach (var width in new[] { 44, 60, 80, 100 })
        {
            _app.Driver!.SetScreenSize(width, 30);
            PumpUntil(() => Screen.Contains("seed 18446744073709551615 "), $"the whole seed at {width} columns", 5_000);
            var seed = _window.Generate.SeedField.Frame;
            Assert.True(seed.Right <= _window.Generate.Viewport.Width, $"the seed field ends inside the screen at {width} columns");
            Assert.True(seed.Width > 20, $"the seed field has room for 20 digits and the cursor at {width} columns");
            Assert.Contains("chars 300", Screen); // the rows after it moved down, not under it
            Assert.Contains("temperature 0", Screen);
            Assert.DoesNotContain("Terminal too small", Screen);
        }
    }

    [Fact]
    public void Every_button_and_the_session_row_show_whole_at_every_width_the_generate_screen_takes()
    {
        // Below 80 columns Compare and the colour checkbox were cut off at the edge (at 44, Reset too), and
        // "No model in use" wrapped onto a second row.
        _window.Show(_window.Generate);
        foreach (var width in new[] { 44, 60, 80 })
        {
            _app.Driver!.SetScreenSize(width, 30);
            PumpUntil(() => _window.Frame.Width == width && Screen.Contains("╭┤Output├"), $"the {width}-column layout", 5_000);
            var lines = Screen.Split('\n');
            Assert.Contains(lines, l => l.Contains(GenerateView.NoModel, StringComparison.Ordinal));
            foreach (var button in new[] { "► Generate ◄", " Continue ", " Fork ", " Reset ", " Compare t+0.5 " })
                Assert.Contains(lines, l => l.Contains($"⟦{button}⟧", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("☐ colour", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.Contains("▝▀☐", StringComparison.Ordinal) || l.Contains("▀⟦", StringComparison.Ordinal)); // a row of buttons over the shadow of the row above
            Assert.Contains("╭┤Output├", Screen); // under the buttons, not over them
            Assert.DoesNotContain("Terminal too small", Screen);
        }
    }

    [Fact]
    public void The_session_row_shows_the_whole_session_id_at_44_and_60_columns()
    {
        // At 44 columns "model gru (stateful-gru) · session s-…" was cut at the screen's edge, the id's end lost.
        UseGru();
        _window.Show(_window.Generate);
        var id = _window.Runner.Session!.Id;
        foreach (var width in new[] { 44, 60, 80 })
        {
            _app.Driver!.SetScreenSize(width, 30);
            PumpUntil(() => _window.Frame.Width == width && Screen.Contains("temperature 0"), $"the {width}-column layout", 5_000);
            Assert.True(Screen.Contains(id, StringComparison.Ordinal), $"the whole id at {width} columns: {_window.Generate.SessionRow.Frame} [{_window.Generate.SessionRow.Text}]\n{Screen}");
            Assert.Contains("model gru (stateful-gru)", Screen);
            Assert.DoesNotContain("Terminal too small", Screen);
        }
    }

    [Fact]
    public void A_refused_temperature_shows_the_value_in_force_again_as_does_a_new_session()
    {
        UseGru(); // t=0
        PumpUntil(() => _window.Generate.TemperatureField.Text == "0", "the session's temperature shown");
        _window.Generate.TemperatureField.Text = "abc";
        Ui(() => _window.Generate.TemperatureField.SetFocus());
        PumpUntil(() => _window.Generate.TemperatureField.HasFocus, "the temperature field to have the keyboard", 2_000);
        Press(Key.Enter); // Generate: set t=abc …; gen
        PumpUntil(() => _window.Repl.Log.Content.Contains("t=abc is not a number"), "the refusal");
        PumpUntil(() => _window.Generate.TemperatureField.Text == "0", "the temperature in force shown again"); // it kept "abc"
        Assert.StartsWith("set t=0 ", _window.Generate.Settings());
        // An edit not sent was for the session before: `use` shows the new one's own values.
        _window.Generate.TemperatureField.Text = "1.5";
        var before = _window.Runner.Session!.Id;
        Command("use gru t=0");
        PumpUntil(() => _window.Runner.Session?.Id != before, "the new session");
        PumpUntil(() => _window.Generate.TemperatureField.Text == "0", "the new session's temperature shown");
    }
}
