using CharRnn.Tui.Repl;
using CharRnn.Tui.Views;
using Terminal.Gui.Input;

namespace CharRnn.Tui.Tests;

/// <summary>Screen tests of the window as a whole (MainWindow): the command line, keys, focus, the status bar, help and quitting.</summary>
public sealed partial class ScreenTests
{
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
        Press(Key.A.WithCtrl); // to the start, as readline's, not select-all: what is typed next goes before the line
        Type("set t");
        Assert.Equal("set t=1", _window.Repl.Input.Text);
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
    public void Text_typed_on_a_tab_goes_on_after_what_the_command_line_already_holds()
    {
        // "abc" at the prompt, then F6 (no model: the game gives its keys to the command line) and "u": the prompt read "u",
        // the field's select-all on taking the focus had the first key replace what was there.
        Type("use ");
        _window.Show(_window.Training);
        PumpUntil(() => _window.Tabs.Value == _window.Training && !_window.Repl.Input.HasFocus, "the Train tab, focused");
        Type("tiny");
        Assert.Equal("use tiny", _window.Repl.Input.Text);
        Assert.True(_window.Repl.Input.HasFocus);
        // Esc back from a screen: the next key goes on after the line, too.
        _window.Show(_window.Training);
        PumpUntil(() => !_window.Repl.Input.HasFocus, "the Train tab, focused again");
        Press(Key.Esc);
        PumpUntil(() => _window.Repl.Input.HasFocus, "the command line after Esc");
        Type("2");
        Assert.Equal("use tiny2", _window.Repl.Input.Text);
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
        for (int i = 0; i < 30 && !Screen.Contains("List commands, or explain one."); i++)
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
        // 60×23 at 60 columns: the no-model line's row, the settings' three (the seed has one of its own), the buttons'
        // two rows and the shadow's row between them, and two rows of output.
        PumpUntil(() => Screen.Contains("Terminal too small for this screen: it needs 60×23"), "the notice at 60×15");
        Assert.DoesNotContain("Compare t+0.5", Screen);
        PumpUntil(() => Screen.Contains("F1 Help│"), "the status bar, in its compact form, at 60×15", 2_000);
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

    [Theory]
    [InlineData(13)] // one row of the screen: the notice was cut to 'Terminal too small for this screen:', no size
    [InlineData(12)] // none: the tab headers' rows alone, blank below them
    [InlineData(10)] // not even the headers' three rows: a blank band above the command pane
    public void A_terminal_too_short_for_any_of_a_screens_rows_still_says_the_size_it_needs(int rows)
    {
        _window.Show(_window.Generate);
        _app.Driver!.SetScreenSize(60, rows);
        // Word-wrapped: any space may be a row's end, its border and the next row's border.
        var said = string.Join(@"[\s│]+", $"needs 60×23 (this one is 60×{rows}).".Split(' ').Select(System.Text.RegularExpressions.Regex.Escape));
        PumpUntil(() => System.Text.RegularExpressions.Regex.IsMatch(Screen, said), $"the size needed at 60×{rows}");
        _app.Driver!.SetScreenSize(60, 24);
        PumpUntil(() => !Screen.Contains("too small") && Screen.Contains("Compare"), "the Generate screen whole at 60×24");
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
    }

    /// <summary>Whether the status bar's row matches <paramref name="pattern"/> (a regular expression).</summary>
    private bool StatusShows(string pattern) => System.Text.RegularExpressions.Regex.IsMatch(Screen.Split('\n').LastOrDefault(row => System.Text.RegularExpressions.Regex.IsMatch(row, @"^│ ?F1[ │]")) ?? "", pattern);

    [Fact]
    public void Without_keys_the_status_bar_shows_the_servers_counts_and_no_usage_row_for_local()
    {
        // The embedded server has no keys: its one user's use of the per-key quotas ("key local: 0/256 sessions, …") is noise
        // there, and at 130 columns it pushed the server's counts out. A keyed server's rows: ServerStatusTests.
        _app.Driver!.SetScreenSize(180, 42);
        PumpUntil(() => StatusShows(@"│ F7  Log │ cpu · \d+ session\(s\) · jobs: \d+ running, \d+ queued │"), "the counts alone at 180 columns");
        Assert.DoesNotContain("key local", Screen, StringComparison.Ordinal);
    }

    [Fact]
    public void At_60_columns_the_status_bar_keeps_the_connection_whole_and_drops_the_counts()
    {
        // The counts are the shared server's (other tests' sessions and jobs): any number. The keys keep their columns
        // (the wide form's 98, the compact form's 65 below 112 columns): the connection's words get the rest.
        const string Whole = @"│ F7  Log │ cpu · \d+ session\(s\) · jobs: \d+ running, \d+ queued │ F2  Models │";
        _app.Driver!.SetScreenSize(180, 42);
        PumpUntil(() => StatusShows(Whole), "the whole status at 180 columns");
        _app.Driver!.SetScreenSize(140, 42);
        PumpUntil(() => StatusShows(@"│ F7  Log │ cpu · jobs: \d+ running, \d+ queued │ F2  Models │"), "the jobs without the sessions at 140 columns");
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => StatusShows("│ F7  Log │ connected · cpu │ F2  Models │"), "the device alone at 130 columns");
        _app.Driver!.SetScreenSize(60, 24);
        // Cut at the bar's end, it read "cpu · 0 session(s) · ": neither connected nor the jobs.
        PumpUntil(() => StatusShows("│F7 Log│connected · cpu│F2│"), "a short status, whole with its separator, at 60 columns");
        _app.Driver!.SetScreenSize(180, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9 && StatusShows(Whole), "the whole status again");
    }

    [Fact]
    public void At_80_columns_the_status_bar_shows_every_key_in_its_compact_form()
    {
        // The wide form cut F2 after "Mod" and left F3–F6 out: an 80×24 terminal showed no key for the other screens.
        _app.Driver!.SetScreenSize(80, 24);
        PumpUntil(() => StatusShows(@"^│F1 Help│\^Q Quit│F7 Log│connected\S*[^│]*│F2 Models│F3 Train│F4 Gen│F5 Type│F6 Beat│? *│$"), "every key, compact, at 80 columns");
        // The quit hint after an idle Ctrl+C read "press Ctrl+C again to quit" whole and pushed F5 and F6 off the bar
        // ("…│F4 Gen│F5│"): it takes the longest of its forms that fits the columns the keys leave.
        Ui(() => _window.TakeCtrlC(_app));
        Press(Key.C.WithCtrl);
        PumpUntil(() => StatusShows(@"^│F1 Help│\^Q Quit│F7 Log│\^C to quit *│F2 Models│F3 Train│F4 Gen│F5 Type│F6 Beat│? *│$"), "the short quit hint beside every key", 2_000);
        Press(Key.F3);
        PumpUntil(() => _window.Tabs.Value == _window.Training, "F3 switching screens from the compact bar", 2_000);
        _app.Driver!.SetScreenSize(130, 42); // wide again: Terminal.Gui's own form, every key whole, the connection's words in the rest
        PumpUntil(() => StatusShows(@"^│ F1  Help │ Ctrl\+Q  Quit │ F7  Log │ [^│]+ │ F2  Models │ F3  Train │ F4  Generate │ F5  Type │ F6  Beat │? *│$"), "the wide form at 130 columns");
    }

    [Theory]
    [InlineData(60, @"^│F1 Help│\^Q Quit│F7 Log│connected · cpu│F2│F3│F4│F5│F6 *│$")] // the screens' keys bare: the tab headers name them
    [InlineData(44, @"^│F1│\^Q│F7│connected · cpu│F2│F3│F4│F5│F6 *│$")]
    [InlineData(34, @"^│F1│\^Q│F7│connect…│F2│F3│F4│F5│F6│$")] // the connection's words cut, not the keys after them
    public void Narrower_than_80_columns_the_status_bar_still_shows_every_key(int columns, string statusRow)
    {
        // At 60 columns the compact form's "│F4 Gen│" was the bar's end: F5 and F6 were nowhere on the screen.
        _app.Driver!.SetScreenSize(columns, 24);
        PumpUntil(() => StatusShows(statusRow), $"every key at {columns} columns", 2_000);
        Press(Key.F6);
        PumpUntil(() => _window.Tabs.Value == _window.Beat, "F6 switching screens from the narrow bar", 2_000);
        Press(Key.Esc);
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
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
    public void Errors_from_the_server_are_shown_readably()
    {
        Command("use no-such-model");
        PumpUntil(() => _window.Repl.Log.Content.Contains("error:"), "an error line");
        Assert.Contains("No model 'no-such-model' on this server; models lists them", _window.Repl.Log.Content);
        Command("gen 10");
        PumpUntil(() => _window.Repl.Log.Content.Contains("No model in use"), "the no-session hint");
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
    public void At_110_columns_the_welcome_lines_F1_help_stays_on_one_row()
    {
        _app.Driver!.SetScreenSize(110, 34);
        _window.Repl.Log.AppendLine(TuiApp.Welcome);
        PumpUntil(() => Screen.Contains("Welcome to charrnn"), "the welcome line");
        // The line is 110 columns and the log 106: it broke between "F1" and "help", "help" alone on the second row.
        var rows = Screen.Split('\n').Select(r => r.Trim('│', ' ')).ToList();
        Assert.DoesNotContain(rows, r => r.EndsWith("· F1"));
        Assert.Contains(rows, r => r.Contains("F1\u00a0help") || r.Contains("F1 help"));
    }

    [Fact]
    public void At_80_columns_the_welcome_rows_left_by_the_embedded_servers_line_show_the_train_command_whole()
    {
        _app.Driver!.SetScreenSize(80, 24);
        _window.Repl.Log.AppendLine(TuiApp.Welcome);
        _window.Repl.Log.AppendLine("The server runs inside this process; its log: /tmp/server.log");
        PumpUntil(() => Screen.Contains("server.log"), "the server's line");
        // The log's two rows kept the welcome's second only, "        stateful-lstm epochs=1 lower=true · F1 help": its
        // "train" ended the scrolled-off first row.
        var rows = Screen.Replace('\u00a0', ' ').Split('\n').Select(r => r.Trim('│', ' ')).ToList();
        Assert.Contains(rows, r => r.StartsWith("train stateful-lstm epochs=1 lower=true", StringComparison.Ordinal));
    }

    [Fact]
    public void After_F2_and_Enter_in_the_trained_models_list_F4_leaves_the_typing_on_the_command_line()
    {
        PumpUntil(() => _window.Models.SelectedModel != null, "a model listed");
        Press(Key.F2);
        Press(Key.Enter); // uses the model; the list keeps the keyboard, where typing goes to the command line
        PumpUntil(() => _window.Repl.Log.Content.Contains("using "), "the model used");
        Assert.True(_window.Models.ModelList.HasFocus);
        Press(Key.F4);
        Assert.Same(_window.Generate, _window.Tabs.Value);
        // The temperature field took the keyboard: `gen 5 "the "` went into it, and Enter pressed Generate with it.
        Assert.True(_window.Repl.Input.HasFocus, "the command line has the keyboard after F4 from the list");
        Type("gen 5 \"the \"");
        Assert.Equal("gen 5 \"the \"", _window.Repl.Input.Text);
        Press(Key.F3);
        Assert.True(_window.Repl.Input.HasFocus, "and after F3");
    }

    [Theory]
    [InlineData("F5")]
    [InlineData("F6")]
    public void Leaving_a_game_for_the_generate_or_train_screen_leaves_the_typing_on_the_command_line(string game)
    {
        // Played: typing on the Type tab, then F4 and `gen 2000000` Enter: the temperature field had the keyboard, and
        // Enter pressed Generate with it (set t="gen 2000000" refused). The games take the keyboard as F2's list does.
        PumpUntil(() => _window.Models.SelectedModel != null, "a model listed");
        Press(game == "F5" ? Key.F5 : Key.F6);
        Assert.True(game == "F5" ? _window.TypeView.HasFocus : _window.Beat.HasFocus, $"{game}'s game has the keyboard");
        Press(Key.F4);
        Assert.Same(_window.Generate, _window.Tabs.Value);
        Assert.True(_window.Repl.Input.HasFocus, $"the command line has the keyboard after F4 from {game}");
        Type("gen 5");
        Assert.Equal("gen 5", _window.Repl.Input.Text);
        Press(game == "F5" ? Key.F5 : Key.F6);
        Press(Key.F3);
        Assert.Same(_window.Training, _window.Tabs.Value);
        Assert.True(_window.Repl.Input.HasFocus, $"and after F3 from {game}");
        Press(game == "F5" ? Key.F5 : Key.F6);
        Press(Key.F2); // as from the command line: the trained-models list, typing still reaching the command line
        Assert.True(_window.Models.ModelList.HasFocus, $"F2 from {game} puts the keyboard in the trained-models list");
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
    public void The_tab_headers_keep_their_corners_after_down_in_the_trained_models_list()
    {
        // F2 into the trained-models list, then Down: only the shown tab drew, and the line under the headers went bare
        // ("╰──────…") until a focus move or a resize. The list needs a second model to move to: a copy of the fixture's,
        // removed after (other tests count the fixture's models).
        string HeaderBottom() => Screen.Split('\n').First(row => row.Contains('╰'));
        const string Joined = "╰─────┴────────┴────┴────┴─";
        var copy = Path.Combine(_fixture.Models, "gru-second");
        CopyFolder(Path.Combine(_fixture.Models, "gru"), copy);
        try
        {
            Await(_status.RefreshAsync());
            _app.Driver!.SetScreenSize(100, 30);
            PumpUntil(() => Screen.Contains("gru-second") && HeaderBottom().Contains(Joined), "the two models and the headers' corners");
            Press(Key.F2); // from the command line: into the trained-models list
            Ui(() => _app.LayoutAndDraw());
            Assert.Contains(Joined, HeaderBottom());
            for (var n = 0; n < 3; n++) // down to the second model and back up: each a move in the list, not a focus move
            {
                var selected = _window.Models.SelectedModel;
                Press(n == 1 ? Key.CursorUp : Key.CursorDown);
                Ui(() => _app.LayoutAndDraw());
                Assert.NotEqual(selected, _window.Models.SelectedModel);
                Assert.Contains(Joined, HeaderBottom());
            }
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
            Await(_status.RefreshAsync());
            _app.Driver!.SetScreenSize(130, 42);
        }
    }

    [Fact]
    public void The_tab_headers_scrolled_at_34_columns_come_back_whole_without_a_stray_arrow_when_the_terminal_grows()
    {
        string Headers() => string.Join("\n", Screen.Split('\n').Take(4)); // the window's top line and the headers' three rows
        _app.Driver!.SetScreenSize(100, 30);
        PumpUntil(() => Headers().Contains("││Models│Train│Generate│Type│Beat│"), "the headers at 100 columns");
        _app.Driver!.SetScreenSize(34, 24);
        PumpUntil(() => _window.Frame.Width == 34, "the 34-column layout", 2_000);
        Press(Key.F6); // Beat, the last header: the headers scroll one column to show it whole, a ◄ where Models' edge was
        PumpUntil(() => _window.Tabs.Value == _window.Beat && Headers().Contains('◄'), "the scrolled headers at 34 columns", 2_000);
        _app.Driver!.SetScreenSize(100, 30);
        // They stayed scrolled, "│Models│…" against the window's border and "◄─────┴" under it, at any width until another tab was picked.
        PumpUntil(() => _window.Frame.Width == 100 && Headers().Contains("││Models│Train│Generate│Type│Beat│"), "the headers whole again at 100 columns", 2_000);
        Assert.DoesNotContain('◄', Headers());
        Assert.DoesNotContain('►', Headers());
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    [Fact]
    public void The_command_panes_title_is_never_cut_off()
    {
        // Below 86 columns the title was cut mid-phrase: "Command (Tab completes, ↑↓ history, PgUp/PgDn scroll, " at 60.
        foreach (var width in new[] { 44, 60, 80, 130 })
        {
            _app.Driver!.SetScreenSize(width, 24);
            PumpUntil(() => _window.Frame.Width == width && Screen.Contains("╭┤Command"), $"the command pane at {width} columns", 5_000);
            var title = Screen.Split('\n').First(row => row.Contains("╭┤Command", StringComparison.Ordinal));
            Assert.Matches(@"╭┤Command( \([^)]*\))?├─*╮", title);
        }
        _app.Driver!.SetScreenSize(130, 42);
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
    public void Help_in_the_command_log_indents_a_wrapped_summary_under_its_start()
    {
        // Wrapped back to column 0, a summary's second row read as a command of its own (the F1 box indents them).
        _app.Driver!.SetScreenSize(80, 24);
        Command("help");
        PumpUntil(() => _window.Frame.Width == 80 && _window.Repl.Log.Content.Contains("Tab completes."), "help in the log", 5_000);
        var log = _window.Repl.Log;
        var rows = log.VisibleRows(log.Viewport.Width, 1000).Select(r => string.Concat(r.Select(c => c.Rune.ToString()))).ToList();
        var lines = log.Content.Split('\n').Where(l => l.Length > 0).ToList();
        Assert.True(rows.Count > lines.Count, "some summary wraps at 80 columns");
        // Each line's first row starts at column 0; every row after it starts under its summary (a command's rows: at the
        // summaries' column, or after a longer command), and the closing prose's under its second word.
        Assert.Equal(lines.Count, rows.Count(r => r.Length > 0 && r[0] != ' '));
        var first = "";
        foreach (var row in rows.Where(r => r.Length > 0))
        {
            if (row[0] != ' ') { first = row; continue; }
            var verb = first.Split(' ')[0];
            var under = CommandCatalog.All.Any(c => c.Verb == verb) ? Math.Max(CommandCatalog.SummaryColumn, verb.Length + 1) : verb.Length + 1;
            Assert.True(row.StartsWith(new string(' ', under)) && row[under] != ' ', $"'{row}' (of '{first}') does not start at column {under}");
        }
        _app.Driver!.SetScreenSize(130, 42);
    }
}
