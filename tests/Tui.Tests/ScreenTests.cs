using CharRnn.Tui.Repl;
using CharRnn.Tui.ViewModels;
using CharRnn.Tui.Views;
using Terminal.Gui.App;
using Terminal.Gui.Drivers;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;

namespace CharRnn.Tui.Tests;

/// <summary>The main screens driven headlessly through Terminal.Gui's ANSI driver: keys in, screen text out.</summary>
[Collection(TuiCollection.Name)]
public sealed class ScreenTests : IDisposable
{
    private readonly TuiFixture _fixture;
    private readonly IApplication _app;
    private readonly MainWindow _window;
    private readonly ServerStatus _status;
    private readonly SessionToken _token;

    public ScreenTests(TuiFixture fixture)
    {
        _fixture = fixture;
        _app = Application.Create();
        _app.Init(DriverRegistry.Names.ANSI);
        _app.Driver!.SetScreenSize(130, 42);
        var completion = new CompletionSource();
        _status = new ServerStatus(fixture.Client, completion);
        _window = new MainWindow(fixture.Client, _status, completion, "test");
        _status.RefreshAsync().GetAwaiter().GetResult();
        var testContext = SynchronizationContext.Current;
        _token = _app.Begin(_window)!;
        // Begin makes this thread the UI thread with the loop's synchronization context. Keep it
        // for UI work only (Ui below), so the test framework's own continuations are not queued on a
        // loop that nobody runs after the test.
        _loopContext = SynchronizationContext.Current!;
        SynchronizationContext.SetSynchronizationContext(testContext);
        _window.Repl.Input.SetFocus();
    }

    private readonly SynchronizationContext _loopContext;

    /// <summary>Runs UI work (key handlers that start async commands) with the loop's context, as the real loop would.</summary>
    private void Ui(Action action)
    {
        var saved = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_loopContext);
        try { action(); }
        finally { SynchronizationContext.SetSynchronizationContext(saved); }
    }

    private void Press(Key key) => Ui(() => _app.InjectKey(key));

    private string Screen => _app.Driver!.ToString() ?? "";

    /// <summary>Runs the loop's work (queued Invokes, timers, render frames) until the condition holds.</summary>
    private void PumpUntil(Func<bool> condition, string what, int timeoutMs = 20_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            Ui(() =>
            {
                _app.TimedEvents!.RunTimers();
                _window.RenderFrame();
                _app.LayoutAndDraw();
            });
            if (condition()) return;
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"Timed out waiting for {what}. Screen:\n{Screen}\nLog:\n{_window.Repl.Log.Content}");
            Thread.Sleep(15);
        }
    }

    private void Type(string text)
    {
        foreach (var c in text) Press(new Key(c));
    }

    private void Command(string line)
    {
        _window.Repl.Input.SetFocus();
        Type(line);
        Press(Key.Enter);
    }

    /// <summary>Opens a greedy session on the fixture's model.</summary>
    private void UseGru()
    {
        Command("use gru t=0");
        PumpUntil(() => _window.Runner.Session != null, "a session");
    }

    [Fact]
    public void The_trained_models_list_starts_on_a_model_so_the_first_enter_uses_one()
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.SelectedModel != null, "a model selected without an arrow key first");
    }

    [Fact]
    public void The_command_line_edits_as_a_shell_does()
    {
        _window.Repl.Input.SetFocus();
        Type("use gru t=0");
        Press(Key.W.WithCtrl); // the word before the cursor
        Assert.Equal("use gru ", _window.Repl.Input.Text);
        Press(Key.Home);
        Press(Key.CursorRight);
        Press(Key.CursorRight);
        Press(Key.CursorRight);
        Press(Key.K.WithCtrl); // from the cursor to the end
        Assert.Equal("use", _window.Repl.Input.Text);
        Type(" lstm");
        Press(Key.Home);
        Press(Key.E.WithCtrl); // to the end
        Type(" t=1");
        Assert.Equal("use lstm t=1", _window.Repl.Input.Text);
        Press(Key.CursorLeft);
        Press(Key.CursorLeft);
        Press(Key.U.WithCtrl); // from the start to the cursor
        Assert.Equal("=1", _window.Repl.Input.Text);
    }

    [Fact]
    public void The_forms_fields_edit_as_the_command_line_does()
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.Field("n_hidden") != null, "the hyperparameter form");
        var field = _window.Models.Field("n_hidden")!;
        field.SetFocus();
        Press(Key.End);
        Press(Key.U.WithCtrl); // from the start to the cursor
        Assert.Equal("", field.Text);
        Type("12 34");
        Press(Key.W.WithCtrl); // the word before the cursor
        Assert.Equal("12 ", field.Text);
        Press(Key.Home);
        Press(Key.E.WithCtrl); // to the end
        Type("5");
        Assert.Equal("12 5", field.Text);
        Press(Key.Home);
        Press(Key.CursorRight);
        Press(Key.K.WithCtrl); // from the cursor to the end
        Assert.Equal("1", field.Text);
        Assert.Same(field, _window.Models.Field("n_hidden")); // the form was not rebuilt meanwhile
    }

    [Fact]
    public void Text_typed_on_a_tab_with_no_field_for_it_goes_to_the_command_line()
    {
        _window.Show(_window.Training); // as after F3 from another screen, or Shift+Tab from the command line
        PumpUntil(() => _window.Tabs.Value == _window.Training && !_window.Repl.Input.HasFocus, "the Train tab, focused");
        Type("jobs"); // as one watching a job types `stop`
        Assert.Equal("jobs", _window.Repl.Input.Text);
        Assert.True(_window.Repl.Input.HasFocus);
    }

    [Fact]
    public void The_command_line_lists_models_from_the_server()
    {
        Command("models");
        PumpUntil(() => Screen.Contains("stateful-gru") && _window.Repl.Log.Content.Contains("gru "), "the model list");
        Assert.Contains("> models", Screen);
        Assert.Contains("PARAMS", _window.Repl.Log.Content);
    }

    [Fact]
    public void A_line_typed_before_the_last_ones_output_arrived_is_echoed_after_that_output()
    {
        Command("use gru t=0");
        Command("gen 5"); // typed at once: the use waits on the server
        PumpUntil(() => _window.Repl.Log.Content.Contains("generated 5 chars"), "the gen's end");
        var log = _window.Repl.Log.Content;
        Assert.True(log.IndexOf("using gru", StringComparison.Ordinal) < log.IndexOf("> gen 5", StringComparison.Ordinal), log);
        Assert.True(log.IndexOf("> use gru", StringComparison.Ordinal) < log.IndexOf("using gru", StringComparison.Ordinal), log);
    }

    [Fact]
    public void PgUp_scrolls_the_command_log_back_to_output_that_no_longer_fits()
    {
        Command("help");
        PumpUntil(() => Screen.Contains("Tab completes.") && _window.Repl.Log.Content.Contains("List commands, or explain one."), "help's last line");
        Assert.DoesNotContain("List commands, or explain one.", Screen); // help's first lines scrolled out of the small log
        for (int i = 0; i < 8 && !Screen.Contains("List commands, or explain one."); i++)
        {
            Press(Key.PageUp);
            PumpUntil(() => true, "a frame");
        }
        Assert.Contains("List commands, or explain one.", Screen);
        Assert.Contains("newer below: PgDn", Screen);
        Command("status"); // a new command returns to the end
        PumpUntil(() => Screen.Contains("> status") && !Screen.Contains("newer below"), "the log's end again");
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
    public void Tab_completes_commands_and_model_names()
    {
        _window.Repl.Input.SetFocus();
        PumpUntil(() => _status.Models.Count > 0, "the model list for completion");
        Type("us");
        Press(Key.Tab);
        Assert.Equal("use ", _window.Repl.Input.Text);
        Type("g");
        Press(Key.Tab);
        Assert.Equal("use gru ", _window.Repl.Input.Text);
        Press(Key.Enter);
        Press(Key.CursorUp);
        Assert.Equal("use gru ", _window.Repl.Input.Text);

        // Several choices are listed once, however often Tab is pressed on the same text.
        Press(Key.U.WithCtrl);
        Type("s");
        Press(Key.Tab);
        Press(Key.Tab);
        Press(Key.Tab);
        Assert.Single(_window.Repl.Log.Content.Split('\n'), l => l.Contains("set", StringComparison.Ordinal) && l.Contains("share", StringComparison.Ordinal));

        // Names that share the typed prefix only regardless of case leave its letters as typed.
        Press(Key.U.WithCtrl);
        Type("S");
        Press(Key.Tab);
        Assert.Equal("S", _window.Repl.Input.Text);
        Press(Key.U.WithCtrl);
    }

    [Fact]
    public void The_models_tab_checks_hyperparameters_as_they_are_typed()
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.Field("n_hidden") != null, "the hyperparameter form");
        Assert.Contains("stateful-lstm", Screen);
        Assert.Contains("n_hidden", Screen);
        Assert.True(_window.Models.CanTrain);
        _window.Models.Field("n_hidden")!.Text = "99999";
        PumpUntil(() => Screen.Contains("n_hidden = '99999' is not allowed"), "the validation message");
        Assert.False(_window.Models.CanTrain);
        _window.Models.Field("n_hidden")!.Text = "32";
        PumpUntil(() => _window.Models.CanTrain, "the form to become valid");
        _window.Models.Field("max_steps")!.Text = "-5"; // a quick run from the form: a step limit, checked as the rest
        PumpUntil(() => Screen.Contains("max_steps = '-5' is not allowed"), "the step limit's check");
    }

    [Fact]
    public void Up_then_Down_from_the_forms_first_field_keeps_the_architecture_and_what_was_typed()
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.NameField != null, "the form");
        Ui(() => _window.Models.ArchitectureList.Index = 0); // one with another below it, which a Down in the list would pick
        PumpUntil(() => true, "a frame");
        var architecture = _window.Models.ArchitectureList.SelectedItem;
        var name = _window.Models.NameField!;
        name.SetFocus();
        Ui(() => name.Text = "");
        Type("mine");
        Press(Key.CursorUp);
        Press(Key.CursorDown);
        PumpUntil(() => true, "a frame");
        Assert.Equal(architecture, _window.Models.ArchitectureList.SelectedItem);
        name.SetFocus();
        Press(Key.Home);
        Press(Key.CursorLeft); // at the field's start
        Press(Key.CursorDown);
        PumpUntil(() => true, "a frame");
        Assert.Equal(architecture, _window.Models.ArchitectureList.SelectedItem);
        Assert.Same(name, _window.Models.NameField);
        Assert.Equal("mine", name.Text);
    }

    [Fact]
    public void A_name_the_server_refuses_stays_in_the_form_and_a_started_jobs_name_gives_way()
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.NameField != null, "the form");
        var name = _window.Models.NameField!;
        name.Text = "my model/..";
        Ui(_window.Models.PressTrain);
        PumpUntil(() => _window.Repl.Log.Content.Contains("is not a valid name"), "the server's refusal");
        Assert.Equal("my model/..", name.Text); // to be corrected, not replaced by a made-up name
        name.Text = "lstm-a";
        _window.Models.JobStarted("lstm-a");
        Assert.StartsWith("stateful-lstm-", name.Text); // the next press trains another model
    }

    [Fact]
    public void The_form_takes_a_schedule_and_a_bad_one_gets_the_servers_words_for_what_it_takes()
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.ScheduleField != null, "the form");
        Assert.Equal("constant", _window.Models.ScheduleField!.Text);
        _window.Models.NameField!.Text = "sched";
        _window.Models.ScheduleField.Text = "sgdr:cycle=1";
        Ui(_window.Models.PressTrain);
        PumpUntil(() => _window.Repl.Log.Content.Contains("error:"), "the server's refusal");
        Assert.Contains("train stateful-lstm name=\"sched\" corpus=\"nietzsche\" schedule=\"sgdr:cycle=1\"", _window.Repl.Log.Content); // sent as typed
        var error = _window.Repl.Log.Content[_window.Repl.Log.Content.IndexOf("error:", StringComparison.Ordinal)..];
        Assert.Contains("sgdr", error); // what it takes, in the server's words
        Assert.DoesNotContain(_fixture.Client.Catalog.ListModels(new Protos.V1.ListModelsRequest()).Models, m => m.Name == "sched");
    }

    [Fact]
    public void On_an_80_by_24_terminal_the_train_tab_gives_the_chart_the_samples_rows()
    {
        _window.Show(_window.Training);
        _app.Driver!.SetScreenSize(80, 24);
        PumpUntil(() => _window.Training.Panes.Loss.Viewport.Width < 60, "the 80×24 layout");
        // The command pane gives up rows to the tabs, and the samples pane its rows to the chart: one of two rows showed no curve.
        Assert.InRange(_window.Repl.Frame.Height, 5, 6);
        Assert.Equal(0, _window.Training.Panes.Samples.Viewport.Height);
        Assert.InRange(_window.Training.Panes.Loss.Viewport.Height, 4, 10);
        Assert.DoesNotContain("step", Screen[Screen.IndexOf("Loss", StringComparison.Ordinal)..Screen.IndexOf("Command (", StringComparison.Ordinal)]); // the axis title's row went to the data
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout again");
        Assert.Contains("step", Screen);
        _app.Driver!.SetScreenSize(130, 60);
        PumpUntil(() => _window.Repl.Frame.Height == 11, "a taller command pane on a tall terminal"); // a fifth of the 58 rows inside the border
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout once more");
    }

    [Fact]
    public void F7_gives_the_command_log_two_thirds_of_the_window_and_F7_again_gives_the_screens_their_room_back()
    {
        _app.Driver!.SetScreenSize(80, 24);
        PumpUntil(() => _window.Repl.Frame.Height is 5 or 6, "the 80×24 layout");
        var screens = _window.Tabs.Frame.Height;
        Press(Key.F7);
        PumpUntil(() => _window.Repl.Frame.Height == 14, "the tall log"); // two thirds of the 22 rows inside the border
        Assert.True(_window.TallLog);
        Assert.Equal(22 - 14 - 1, _window.Tabs.Frame.Height); // the screens above keep what is left, the status bar its row
        Press(Key.F7);
        PumpUntil(() => _window.Tabs.Frame.Height == screens, "the usual layout");
        Assert.False(_window.TallLog);
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
    }

    [Fact]
    public void A_screen_that_does_not_fit_says_what_terminal_it_needs_and_the_command_line_and_status_bar_still_work()
    {
        _window.Show(_window.Generate);
        _app.Driver!.SetScreenSize(60, 15);
        // Three rows inside the tab: the settings, the buttons and the output were cut off without a word.
        PumpUntil(() => Screen.Contains("Terminal too small for this screen: it needs 60×20"), "the notice at 60×15");
        Assert.DoesNotContain("Compare t+0.5", Screen);
        Assert.Contains("F1  Help", Screen);
        _window.Repl.Input.SetFocus();
        Type("status");
        PumpUntil(() => Screen.Contains("> status"), "the command line at 60×15");
        Press(Key.Enter);
        PumpUntil(() => _window.Repl.Log.Content.Contains("> status") && _window.Repl.Input.Text == "", "the command run at 60×15");
        Press(Key.F2);
        PumpUntil(() => Screen.Contains("it needs 76×19"), "the Models screen's own need");
        _app.Driver!.SetScreenSize(80, 24); // every screen fits
        foreach (var screen in new Terminal.Gui.ViewBase.View[] { _window.Models, _window.Training, _window.Generate, _window.TypeView, _window.Beat })
        {
            _window.Show(screen);
            PumpUntil(() => _window.Repl.Frame.Height is 5 or 6 && !Screen.Contains("too small"), $"{screen.Title} whole at 80×24");
        }
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
    }

    [Fact]
    public void At_60_columns_the_status_bar_keeps_the_connection_whole_and_drops_the_counts()
    {
        // The counts are the shared server's (other tests' sessions and jobs): any number.
        bool StatusShows(string pattern) => System.Text.RegularExpressions.Regex.IsMatch(Screen.Split('\n').Last(row => row.Contains("F1  Help", StringComparison.Ordinal)), pattern);
        const string Whole = @"│ F7  Log │ cpu · \d+ session\(s\) · jobs: \d+ running, \d+ queued │";
        PumpUntil(() => StatusShows(Whole), "the whole status at 130 columns");
        _app.Driver!.SetScreenSize(60, 24);
        // Cut at the bar's end, it read "cpu · 0 session(s) · ": neither connected nor the jobs.
        PumpUntil(() => StatusShows("│ F7  Log │ connected · cpu │"), "the short status, whole with its separator, at 60 columns");
        _app.Driver!.SetScreenSize(80, 24);
        PumpUntil(() => StatusShows(@"│ F7  Log │ cpu · jobs: \d+ running, \d+ queued │"), "the jobs without the sessions at 80 columns");
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9 && StatusShows(Whole), "the whole status again");
    }

    [Fact]
    public void The_sampling_settings_come_back_after_the_terminal_shrinks_and_grows_again()
    {
        UseGru();
        _window.Show(_window.Generate);
        PumpUntil(() => Screen.Contains("temperature 0") && Screen.Contains("chars 300"), "the settings row");
        foreach (var (width, height) in new[] { (60, 15), (80, 24), (110, 35), (60, 15), (130, 42) })
        {
            _app.Driver!.SetScreenSize(width, height);
            if (width >= 80) PumpUntil(() => Screen.Contains("temperature 0") && Screen.Contains("top-k 0"), $"the settings row at {width}×{height}");
            else PumpUntil(() => _window.Generate.Frame.Width < 60, $"the {width}×{height} layout");
        }
    }

    [Fact]
    public async Task The_models_list_selection_follows_its_model_when_the_list_reorders()
    {
        // Copies of gru have its loss: they sort by name around it.
        var copies = new[] { "a-copy", "0-copy" }.Select(n => Path.Combine(_fixture.Models, n)).ToList();
        void Copy(string folder)
        {
            Directory.CreateDirectory(folder);
            foreach (var file in Directory.GetFiles(Path.Combine(_fixture.Models, "gru"), "*.ckpt")) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        try
        {
            Copy(copies[0]);
            _window.Show(_window.Models);
            await _status.RefreshAsync();
            PumpUntil(() => Screen.Contains("a-copy"), "the copy listed");
            _window.Models.SelectedModel = "gru"; // the second row
            Assert.Equal("gru", _window.Models.SelectedModel);
            Copy(copies[1]); // sorts first: gru moves down a row
            await _status.RefreshAsync();
            PumpUntil(() => Screen.Contains("0-copy"), "the second copy listed");
            Assert.Equal("gru", _window.Models.SelectedModel); // not a-copy, now on the second row
        }
        finally
        {
            foreach (var folder in copies) if (Directory.Exists(folder)) Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void The_architectures_list_shows_all_its_rows_again_once_the_terminal_grows_back()
    {
        _app.Driver!.SetScreenSize(100, 30);
        _window.Show(_window.Models);
        PumpUntil(() => Screen.Contains("stateful-lstm") && Screen.Contains("char3"), "the architectures at 100×30");
        _app.Driver!.SetScreenSize(60, 15);
        PumpUntil(() => Screen.Contains("too small"), "the 60×15 notice");
        _app.Driver!.SetScreenSize(100, 30);
        PumpUntil(() => !Screen.Contains("too small") && Screen.Contains("stateful-lstm"), "the Models screen at 100×30 again");
        Assert.True(Screen.Contains("char3"), Screen); // was scrolled above the list's top, its lower rows empty
        Assert.Equal(0, _window.Models.ArchitectureList.Viewport.Y);
        Assert.Equal("stateful-lstm", _window.Models.ArchitectureList.SelectedItem);
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
    }

    /// <summary>The Models tab's form, <paramref name="field"/> in focus, on a terminal of the size given.</summary>
    private void FormAt(int width, int height, string field)
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.Field("lower") != null, "the hyperparameter form");
        _window.Models.Field(field)!.SetFocus();
        _app.Driver!.SetScreenSize(width, height);
    }

    [Fact]
    public void At_100_columns_the_form_shows_the_summary_each_value_and_its_allowed_range_whole()
    {
        FormAt(100, 30, "random_bptt");
        PumpUntil(() => Screen.Contains("random_bptt"), "the form at 100×30");
        Assert.Contains("nn.LSTM with n layers and dropout", Screen); // the form's architecture: the list's default
        Assert.Contains("(trained with SGDR).", Screen); // its summary's end, wrapped onto a second row
        Assert.Matches(@"random_bptt   true +true or false", Screen);
        Assert.Matches(@"name +stateful-[a-z]+-\d+ +new folder", Screen);
    }

    [Fact]
    public void The_name_field_shows_its_whole_name_again_once_the_terminal_grows()
    {
        _app.Driver!.SetScreenSize(80, 24);
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.NameField != null, "the form at 80×24");
        var name = _window.Models.NameField!;
        name.SetFocus();
        Press(Key.End);
        PumpUntil(() => Screen.Contains("name "), "the name row");
        Assert.True(name.ScrollOffset > 0, "the name longer than its field at 80 columns"); // 12 columns for 15 chars
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
        PumpUntil(() => Screen.Contains("name          " + name.Text), "the whole name in the field", 3000);
        Assert.Equal(0, name.ScrollOffset);
    }

    [Fact]
    public void On_an_80_by_24_terminal_the_form_scrolls_to_the_field_in_focus()
    {
        FormAt(80, 24, "n_fac");
        PumpUntil(() => Screen.Contains("n_fac         42"), "the form at 80×24, the field in focus in view");
        Assert.DoesNotContain("lower         false", Screen); // the last row does not fit the pane
        _window.Models.Field("lower")!.SetFocus();
        PumpUntil(() => Screen.Contains("lower         false"), "the focused field to scroll into view");
        Assert.DoesNotContain("n_fac         42", Screen);
        _window.Models.Field("n_fac")!.SetFocus();
        PumpUntil(() => Screen.Contains("n_fac         42") && !Screen.Contains("lower         false"), "the form to scroll back up");
    }

    /// <summary>The Models form at 100×30, its name field in focus: too short for all its rows, it scrolls.</summary>
    private void ScrollingFormAt100By30()
    {
        _app.Driver!.SetScreenSize(100, 30);
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.NameField != null && _window.Repl.Frame.Height < 9, "the form at 100×30");
        Ui(() => _window.Models.NameField!.SetFocus());
        PumpUntil(() => true, "a frame");
    }

    [Fact]
    public void The_cursor_stays_on_the_field_in_focus_while_the_form_scrolls()
    {
        ScrollingFormAt100By30();
        void CursorOnFocusedField(string when)
        {
            PumpUntil(() => true, "a frame");
            var field = (Terminal.Gui.Views.TextField)_window.Models.MostFocused!;
            var row = field.ViewportToScreen(System.Drawing.Point.Empty).Y;
            // Placed before the form scrolled, it stayed where the field had been: a row above it, or out of the pane (hidden).
            Assert.True(field.Cursor.Position?.Y == row, $"{when}: cursor at {field.Cursor.Position}, the field on row {row}");
        }
        for (int i = 0; i < 14; i++) { Press(Key.CursorDown); CursorOnFocusedField($"down {i + 1}"); }
        for (int i = 0; i < 14; i++) { Press(Key.CursorUp); CursorOnFocusedField($"up {i + 1}"); }
        Press(Key.CursorDown);
        Press(Key.CursorDown);
        CursorOnFocusedField("down twice");
        Assert.True(_window.Models.Field("n_fac")!.HasFocus);
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
    }

    [Fact]
    public void The_scrolled_form_draws_nothing_over_the_tab_labels()
    {
        ScrollingFormAt100By30();
        for (int i = 0; i < 12; i++) Press(Key.Tab); // to max_steps: the form scrolls three rows
        PumpUntil(() => _window.Models.Field("max_steps")!.HasFocus, "max_steps in focus");
        PumpUntil(() => true, "a frame");
        Assert.True(Screen.Contains("│Models│Train│Generate│Type│Beat│"), Screen);
        Press(Key.F3); // and on every screen after it
        PumpUntil(() => _window.Tabs.Value == _window.Training, "the Train tab");
        Assert.True(Screen.Contains("│Models│Train│Generate│Type│Beat│"), Screen);
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
    }

    [Fact]
    public void Training_from_the_command_line_shows_live_progress_on_the_train_tab()
    {
        Command("train stateful-rnn name=screen-rnn corpus=tiny max_steps=60 epochs=3 n_hidden=16 bs=8 sample_chars=20");
        // The train tab's own line, not the REPL's: the REPL can see the job end before the tab's watch catches up.
        PumpUntil(() => Screen.Contains("model screen-rnn · finished: reached max_steps = 60"), "the train tab to show the job finished", 60_000);
        Assert.Same(_window.Training, _window.Tabs.Value);
        Assert.Contains("model screen-rnn", Screen);
        Assert.Contains("finished: reached max_steps = 60", Screen);
        Assert.Contains("step 60/60", Screen);
        Assert.NotEmpty(_window.Monitor.Loss);
        Assert.Contains("Learning rate", Screen);
        PumpUntil(() => _window.Repl.Log.Content.Contains("use screen-rnn to generate from it"), "the command pane to say where to go next"); // the line may wrap on screen
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
    public void Stray_letters_on_a_tab_start_nothing()
    {
        UseGru();
        var log = _window.Repl.Log.Content;
        // t, g, c, f, r and p were the hotkeys of Train, Generate, Continue, Fork, Reset and
        // Compare, and b, y, m (with t and g) those of the tabs' titles, which Terminal.Gui fires
        // from any tab that does not take the letter.
        foreach (var tab in new Terminal.Gui.ViewBase.View[] { _window.Beat, _window.Training, _window.Models })
        {
            _window.Show(tab);
            Type("tgcfrpbym");
            PumpUntil(() => true, "a frame");
            Assert.Same(tab, _window.Tabs.Value);
        }
        Thread.Sleep(200);
        PumpUntil(() => true, "a frame");
        Assert.Equal(log, _window.Repl.Log.Content);
        Assert.False(_window.Game.Playing);
        // What the Beat tab took before its game started went to the command line, unsent.
        Assert.StartsWith("tgcfrp", _window.Repl.Input.Text);
        Assert.Equal("", _window.Monitor.JobId);
    }

    [Fact]
    public void Arrow_keys_stay_on_the_tab_they_are_pressed_on()
    {
        // Terminal.Gui moves the focus with arrows no view takes, and Tabs shows the tab that holds it.
        foreach (var tab in new Terminal.Gui.ViewBase.View[] { _window.TypeView, _window.Beat, _window.Training, _window.Generate })
        {
            _window.Show(tab);
            foreach (var arrow in new[] { Key.CursorLeft, Key.CursorUp, Key.CursorRight, Key.CursorDown, Key.CursorLeft })
            {
                Press(arrow);
                Assert.Same(tab, _window.Tabs.Value);
                Assert.True(tab.HasFocus, $"{tab.Title} lost the keyboard to {arrow}");
            }
        }

        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.Field("n_hidden") != null, "the hyperparameter form");
        _window.Models.Field("n_hidden")!.SetFocus();
        Press(Key.CursorUp); // to the field above: n_fac
        Assert.True(_window.Models.Field("n_fac")!.HasFocus);
        for (int i = 0; i < 30; i++) Press(Key.CursorUp); // past the first field and the architectures
        Assert.Same(_window.Models, _window.Tabs.Value);
        Assert.True(_window.Models.HasFocus);
        for (int i = 0; i < 60; i++) Press(Key.CursorDown); // past the Train button and the model list
        Assert.Same(_window.Models, _window.Tabs.Value);
        Assert.True(_window.Models.HasFocus);
    }

    [Fact]
    public void Tab_goes_round_every_view_of_a_screen_and_Shift_Tab_from_the_prompt_goes_back_into_it()
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.Field("n_hidden") != null && _window.Models.SelectedModel != null, "the form and the trained models");
        var reached = new List<Terminal.Gui.ViewBase.View>();
        for (int i = 0; i < 40; i++)
        {
            Press(Key.Tab);
            Assert.Same(_window.Models, _window.Tabs.Value);
            var focused = _window.Models.MostFocused;
            Assert.True(focused is Terminal.Gui.Views.TextField or Terminal.Gui.Views.ListView<string> or Terminal.Gui.Views.Button,
                $"Tab {i + 1} focused {focused?.GetType().Name ?? "nothing"}, which shows no focus");
            reached.Add(focused!);
        }
        Assert.Contains(_window.Models.ArchitectureList, reached); // every view, not one frame's
        Assert.Contains(_window.Models.Field("n_hidden")!, reached);
        Assert.Contains(_window.Models.TrainButton, reached);
        Assert.Contains(_window.Models.ModelList, reached);
        var before = _window.Models.MostFocused;
        Press(Key.Tab);
        Press(Key.Tab.WithShift);
        Assert.Same(before, _window.Models.MostFocused); // Shift+Tab goes back the same way

        // From the command line, Shift+Tab goes into the screen, not onto the tab headers, where arrows switch screens.
        Press(Key.Esc);
        Assert.True(_window.Repl.Input.HasFocus);
        Press(Key.Tab.WithShift);
        Assert.True(_window.Models.HasFocus);
        Press(Key.CursorRight);
        Press(Key.CursorRight);
        Assert.Same(_window.Models, _window.Tabs.Value);

        // A command typed while a list has the keyboard reaches the command line whole; the list keeps its row.
        _window.Models.ArchitectureList.SetFocus();
        var row = _window.Models.ArchitectureList.SelectedItem;
        Type("use gru");
        Assert.Equal("use gru", _window.Repl.Input.Text);
        Assert.Equal(row, _window.Models.ArchitectureList.SelectedItem);
        Ui(() => _window.Repl.Input.Text = "");
    }

    [Fact]
    public void Ctrl_Q_quits_from_the_help_box_and_the_longest_hyperparameter_name_keeps_a_space_before_its_value()
    {
        var quit = 0;
        using (var help = new HelpDialog("keys", () => quit++))
            Ui(() => help.NewKeyDownEvent(Key.Q.WithCtrl));
        Assert.Equal(1, quit);
        using (var help = new HelpDialog("keys", () => { }))
            Assert.Equal("more below", help.Body.MoreBelow); // its footer, while scrolled up: not the log's "newer below"

        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.Field("n_hidden") != null, "the hyperparameter form");
        Command("arch seq-rnn"); // described at the prompt, and shown in the form to train it from
        PumpUntil(() => Screen.Contains("identity_init false"), "identity_init and its value apart");
        Assert.Matches(@"\d\.\d{3} gru stateful-gru", Screen); // the trained models' loss first: a long name no longer cuts it off
    }

    [Fact]
    public void A_commands_summary_that_wraps_in_the_help_box_keeps_its_indent()
    {
        var command = CommandCatalog.All.First(c => c.Usage.Length < 30 && c.Summary.Length > 80); // two rows or more at 40 columns
        using var help = new HelpDialog(MainWindow.HelpText, () => { });
        var rows = help.Body.VisibleRows(40, 10_000).Select(r => string.Concat(r.Select(c => c.Rune.ToString()))).ToList();
        var usage = rows.IndexOf(command.Usage);
        Assert.True(usage >= 0, $"'{command.Usage}' on a row of its own");
        Assert.StartsWith("    " + command.Summary.Split(' ')[0], rows[usage + 1]);
        Assert.Matches(@"^    \S", rows[usage + 2]); // the summary's second row, under its first word
    }

    [Fact]
    public void The_learning_rate_charts_labels_keep_clear_of_its_title_and_none_is_cut_at_the_edge()
    {
        _window.Monitor.Attach(new Protos.V1.Job { Id = "j-lr", ModelName = "m", State = Protos.V1.Job.Types.State.Running, TotalSteps = 150 });
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-lr", Started = new Protos.V1.JobEvent.Types.Started { TotalSteps = 150, Device = "cpu" } });
        for (var step = 1; step <= 150; step += 7)
            _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-lr", Step = step,
                Progress = new Protos.V1.JobEvent.Types.Progress { Step = step, Loss = 4 - step / 100.0, LearningRate = 1e-3 * (1 - step / 300.0), TotalSteps = 150 } });
        _window.Show(_window.Training);
        PumpUntil(() => Screen.Contains("e-4┤", StringComparison.Ordinal), "the learning rate's axis");
        Assert.DoesNotContain("l1.0e-3", Screen); // the title's letter ran into the label
        Assert.DoesNotContain("l5.0e-4", Screen);
        var axisRows = Screen.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\s0\s+50\s+100")).ToList();
        Assert.NotEmpty(axisRows);
        Assert.All(axisRows, l => Assert.DoesNotMatch(@"\s15\s*│", l)); // 150 is drawn whole or not at all
    }

    [Fact]
    public void A_watch_cut_off_from_its_server_says_so_instead_of_showing_a_stale_rate_and_ETA()
    {
        _window.Monitor.Attach(new Protos.V1.Job { Id = "j-cut", ModelName = "m", State = Protos.V1.Job.Types.State.Running, Step = 5, TotalSteps = 10 });
        _window.Show(_window.Training);
        PumpUntil(() => Screen.Contains("j-cut · model m · running"), "the job");
        _window.JobWatchLost(true);
        PumpUntil(() => Screen.Contains("server unreachable, reconnecting (last seen running)") && Screen.Contains("- chars/s"), "the lost link");
        _window.JobWatchLost(false);
        PumpUntil(() => Screen.Contains("j-cut · model m · running") && !Screen.Contains("unreachable"), "the link back");
    }

    [Fact]
    public void Errors_from_the_server_are_shown_readably()
    {
        Command("use no-such-model");
        PumpUntil(() => _window.Repl.Log.Content.Contains("error:"), "an error line");
        Assert.Contains("No model 'no-such-model' on this server; models lists them", _window.Repl.Log.Content);
        Command("gen 10");
        PumpUntil(() => _window.Repl.Log.Content.Contains("No model in use"), "the no-session hint");
    }

    /// <summary>Waits for a task whose continuations may be queued on the UI loop, running that loop meanwhile.</summary>
    private void Await(Task task)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!task.IsCompleted && DateTime.UtcNow < deadline)
        {
            Ui(() => _app.TimedEvents!.RunTimers());
            Thread.Sleep(10);
        }
        // Left running, its clean-up would land in the next test (closing sessions that test counts).
        Assert.True(task.IsCompleted, "the screen's clean-up did not finish within 30 s");
    }

    public void Dispose()
    {
        Await(_window.Runner.DisposeAsync().AsTask());
        Await(_window.Typing.DisposeAsync().AsTask());
        Await(_status.DisposeAsync().AsTask());
        _app.End(_token);
        _window.Dispose();
        _app.Dispose();
    }
    [Fact]
    public void The_epoch_samples_pane_shows_the_newest_sample_on_a_short_terminal()
    {
        _app.Driver!.SetScreenSize(100, 30); // the pane has one row: it showed the empty line after the last sample
        _window.Show(_window.Training);
        Ui(() => _window.JobAttached(new Protos.V1.Job { Id = "j-samples", ModelName = "gru", State = Protos.V1.Job.Types.State.Running }));
        PumpUntil(() => _window.Monitor.JobId == "j-samples", "the monitor to follow the job");
        for (var epoch = 1; epoch <= 3; epoch++)
            _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-samples", Step = epoch * 10, EpochEnd = new Protos.V1.JobEvent.Types.EpochEnd { Record = new Protos.V1.EpochRecord { Epoch = epoch, Step = epoch * 10, ValidLoss = 2.2, Sample = $"sample of epoch {epoch}" } } });
        PumpUntil(() => Screen.Contains("sample of epoch 3"), "the newest sample in a one-row pane");
        // A sample longer than the row shows from its start, where the epoch is.
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-samples", Step = 40, EpochEnd = new Protos.V1.JobEvent.Types.EpochEnd { Record = new Protos.V1.EpochRecord { Epoch = 4, Step = 40, ValidLoss = 2.1, Sample = "long sample " + string.Concat(Enumerable.Repeat("and more words ", 20)) + "to its end" } } });
        PumpUntil(() => Screen.Contains("epoch 4 (val 2.100): long sample"), "the start of a long newest sample");
        Assert.DoesNotContain("to its end", Screen);
        _window.JobDetached();
    }
    [Fact]
    public void A_screen_key_pressed_at_the_command_line_leaves_the_typing_there_and_shift_tab_goes_into_the_screen()
    {
        UseGru();
        foreach (var (key, screen) in new (Key, Terminal.Gui.ViewBase.View)[] { (Key.F3, _window.Training), (Key.F4, _window.Generate) })
        {
            Press(key);
            Assert.Same(screen, _window.Tabs.Value);
            Assert.True(_window.Repl.Input.HasFocus, $"{screen.Title}: the command line kept the keyboard");
        }
        Type("gen 5 \"the \""); // went into the temperature field, and Enter pressed Generate with it
        Assert.Equal("gen 5 \"the \"", _window.Repl.Input.Text);
        Press(Key.Enter);
        PumpUntil(() => _window.Repl.Log.Content.Contains("generated 5 chars"), "the gen typed after F4");
        Assert.DoesNotContain("error:", _window.Repl.Log.Content);
        Press(Key.Tab.WithShift); // into the screen's fields
        Assert.True(_window.Generate.HasFocus && !_window.Repl.Input.HasFocus);
        Press(Key.F2); // from a screen's field: the next screen takes the keyboard, the hidden field cannot keep it
        Assert.True(_window.Models.HasFocus && !_window.Repl.Input.HasFocus);
    }
    [Fact]
    public void F2_at_the_command_line_gives_the_arrows_to_the_trained_models_list_and_typing_still_reaches_the_command_line()
    {
        Command("status"); // a line that Up at the command line would bring back
        PumpUntil(() => _window.Repl.Log.Content.Contains("> status") && _window.Repl.Input.Text == "", "the command run");
        PumpUntil(() => _window.Models.SelectedModel != null, "a model listed");
        Press(Key.F3);
        Press(Key.F2);
        Assert.Same(_window.Models, _window.Tabs.Value);
        // The list showed its selection as focused while Up and Down walked the history at the prompt.
        Assert.True(_window.Models.ModelList.HasFocus, "the trained-models list has the keyboard");
        Press(Key.CursorUp);
        Press(Key.CursorDown);
        Assert.Equal("", _window.Repl.Input.Text);
        Assert.NotNull(_window.Models.SelectedModel);
        Type("models"); // a command typed there still goes to the command line, whole
        Assert.Equal("models", _window.Repl.Input.Text);
        Assert.True(_window.Repl.Input.HasFocus);
    }
    [Fact]
    public void The_tab_headers_keep_their_corners_when_the_focus_moves_in_a_screen()
    {
        string HeaderBottom() => Screen.Split('\n').First(row => row.Contains('╰'));
        const string Joined = "╰─────┴────────┴────┴────┴─";
        _app.Driver!.SetScreenSize(100, 30); // the form scrolls
        PumpUntil(() => _window.Models.NameField != null && HeaderBottom().Contains(Joined), "the form and the headers' corners");
        Press(Key.F2); // into the trained-models list
        Ui(() => _app.LayoutAndDraw());
        Assert.Contains(Joined, HeaderBottom());
        _window.Models.NameField!.SetFocus();
        // Each Tab redrew the screen alone, its top line bare under the headers, until a resize redrew them.
        for (var n = 0; n < 16 && !_window.Models.ScheduleField!.HasFocus; n++)
        {
            Press(Key.Tab);
            Ui(() => _app.LayoutAndDraw());
            Assert.Contains(Joined, HeaderBottom());
        }
        Assert.True(_window.Models.ScheduleField!.HasFocus, "16 Tabs from the name field reach the schedule field: the test walked the whole form");
        _app.Driver!.SetScreenSize(130, 42);
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
    public void The_colour_checkbox_shows_at_80_columns_with_a_nine_digit_seed()
    {
        UseGru();
        _window.Show(_window.Generate);
        Command("set seed=123456789");
        _app.Driver!.SetScreenSize(80, 24);
        PumpUntil(() => Screen.Contains("seed 123456789") && Screen.Contains("chars 300"), "the settings row at 80×24");
        PumpUntil(() => Screen.Contains("colour"), "the colour checkbox at 80×24", 2_000);
    }
    [Fact]
    public void Long_hint_lines_wrap_instead_of_being_cut()
    {
        _app.Driver!.SetScreenSize(100, 30);
        _window.Show(_window.Training);
        PumpUntil(() => Screen.Contains("attach ID"), "the Train screen's idle line whole at 100 columns", 2_000);
        UseGru();
        Press(Key.F6);
        PumpUntil(() => _window.Beat.HasFocus, "the Beat tab to take the keyboard");
        Press(Key.Enter);
        PumpUntil(() => _window.Game.Playing, "the game to start");
        _app.Driver!.SetScreenSize(80, 24);
        PumpUntil(() => Screen.Contains("only the model was."), "the Beat hint whole at 80×24", 2_000);
        Press(Key.Esc);
    }
    [Fact]
    public void PgUp_scrolls_the_command_log_wherever_the_keyboard_is()
    {
        Ui(() => { for (var i = 0; i < 100; i++) _window.Repl.Log.AppendLine($"log line {i}"); });
        PumpUntil(() => Screen.Contains("log line 99"), "the log's tail");
        // The Train screen focused (F3 from a field), and a job shown while a form's button had the keyboard (Train pressed).
        foreach (var show in new Action[] { () => _window.Show(_window.Training), () => { _window.Show(_window.Models); _window.Show(_window.Training, focusTab: false); } })
        {
            Ui(show);
            Assert.False(_window.Repl.Input.HasFocus);
            Press(Key.PageUp);
            Assert.True(_window.Repl.Log.ScrollBack > 0, "PgUp scrolled the log back");
            Press(Key.PageDown);
            PumpUntil(() => _window.Repl.Log.ScrollBack == 0, "PgDn back to the tail");
        }
    }

    [Fact]
    public void Ctrl_C_stops_what_runs_clears_a_typed_line_and_quits_only_when_pressed_twice_at_an_idle_prompt()
    {
        Ui(() => _window.TakeCtrlC(_app));
        UseGru();
        Command("gen 100000");
        PumpUntil(() => _window.Generate.Panes[0].Content.Length >= 20, "text streaming");
        Press(Key.C.WithCtrl); // as Esc: the gen stops, charrnn goes on
        PumpUntil(() => _window.Repl.Log.Content.Contains("stopped") && !_window.Runner.Busy, "the gen to stop");
        Assert.False(_window.Closing, "Ctrl+C during a gen quit charrnn");

        Command("train stateful-rnn name=ctrl-c corpus=tiny max_steps=100000 epochs=1000 n_hidden=16 bs=8");
        PumpUntil(() => _window.Monitor.State == "running" && !_window.Runner.Busy, "the job to train", 60_000);
        Press(Key.C.WithCtrl); // the watched job stops with a checkpoint, as `stop` does
        PumpUntil(() => _window.Monitor.State.StartsWith("stopped", StringComparison.Ordinal), "the job to stop", 60_000);
        Assert.Contains("> stop", _window.Repl.Log.Content);
        Assert.False(_window.Closing, "Ctrl+C during training quit charrnn");

        Type("mod");
        Press(Key.C.WithCtrl); // clears the typed line, as a shell does
        Assert.Equal("", _window.Repl.Input.Text);
        Assert.False(_window.Closing);
        Press(Key.C.WithCtrl); // at an idle, empty prompt: offers to quit
        PumpUntil(() => Screen.Contains(StatusLine.QuitHint), "the quit hint in the status bar", 2_000);
        Assert.False(_window.Closing, "one Ctrl+C at the idle prompt quit charrnn");
        Press(Key.C.WithCtrl);
        Assert.True(_window.Closing, "a second Ctrl+C did not quit");
    }

    [Fact]
    public void At_80_columns_the_name_field_shows_the_start_of_a_name_longer_than_it_unless_it_has_the_keyboard()
    {
        _app.Driver!.SetScreenSize(80, 40); // the whole form shows
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.NameField is { Text.Length: > 12 }, "the form at 80×40");
        bool NameStartShows() => Screen.Split('\n').Any(row => row.Contains("name          " + _window.Models.NameField!.Text[..12] + " new"));
        PumpUntil(NameStartShows, "the name's start in its field"); // it showed "eful-lstm-1"
        var name = _window.Models.NameField!;
        name.SetFocus();
        Press(Key.End); // the field scrolls to the cursor while it has the keyboard
        Ui(() => _app.LayoutAndDraw());
        Assert.True(name.ScrollOffset > 0);
        Press(Key.Tab); // and back to the start once it leaves
        PumpUntil(NameStartShows, "the name's start again after Tab");
        _app.Driver!.SetScreenSize(130, 42);
    }
}
