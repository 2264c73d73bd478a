using CharRnn.Tui.Views;
using Terminal.Gui.Input;

namespace CharRnn.Tui.Tests;

/// <summary>Screen tests of the Models screen (ModelsView): the trained-models list and the hyperparameter form.</summary>
public sealed partial class ScreenTests
{
    [Fact]
    public void The_trained_models_list_starts_on_a_model_so_the_first_enter_uses_one()
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.SelectedModel != null, "a model selected without an arrow key first");
    }

    [Fact]
    public void A_server_listing_no_architectures_gets_a_line_saying_so_and_no_train_button_rather_than_a_crash()
    {
        using var models = new ModelsView(_status, _ => Task.CompletedTask);
        models.ShowArchitectures(new CharRnn.Protos.V1.ListArchitecturesResponse()); // threw InvalidOperationException (Max of none)
        Assert.Equal("The server lists no architectures: there is nothing to train on it.", models.ErrorLine);
        Assert.False(models.TrainButton.Enabled);
        Assert.Empty(models.ArchitectureList.Source!.ToList());
    }

    [Fact]
    public void The_forms_corpus_is_one_the_server_has_not_the_lessons_when_its_text_is_not_there()
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.CorpusField != null, "the form");
        Assert.Equal("tiny", _window.Models.CorpusField!.Text); // was "nietzsche", which this server has not cached: the first Train was refused
        CharRnn.Protos.V1.CorpusInfo Corpus(string name, bool available) => new() { Name = name, Available = available };
        Assert.Equal("nietzsche", ModelsView.DefaultCorpus([Corpus("nietzsche", true), Corpus("mine", true)]));
        Assert.Equal("mine", ModelsView.DefaultCorpus([Corpus("nietzsche", false), Corpus("broken", false), Corpus("mine", true)]));
        Assert.Equal("nietzsche", ModelsView.DefaultCorpus([Corpus("nietzsche", false)])); // nothing on the server: the lesson's, fetched on first use
        Assert.Equal("nietzsche", ModelsView.DefaultCorpus(null));
    }

    [Theory]
    [InlineData(80, 24)]
    [InlineData(120, 40)]
    public void The_forms_corpus_field_lists_the_servers_corpora_uploads_included_and_tab_completes_one(int width, int height)
    {
        var file = Path.Combine(Path.GetTempPath(), $"charrnn-{Guid.NewGuid():N}.txt");
        File.WriteAllText(file, "an uploaded text, short but enough to list.\n");
        try
        {
            Command($"upload {file} name=tz-notes");
            PumpUntil(() => _window.Repl.Log.Content.Contains("uploaded tz-notes"), "the upload");
            Await(_status.RefreshAsync());
            _window.Show(_window.Models);
            _app.Driver!.SetScreenSize(width, height);
            PumpUntil(() => _window.Models.CorpusField != null, "the form");
            // The field's own name first, then the others, as many as fit: a user at the form sees what there is.
            PumpUntil(() => Screen.Contains("corpora: tiny"), "the corpora under the field");
            var field = _window.Models.CorpusField!;
            field.SetFocus();
            Press(Key.U.WithCtrl);
            Type("tz");
            PumpUntil(() => Screen.Contains("corpora: tz-notes"), "the upload listed first, the name Tab completes to");
            Press(Key.Tab);
            Assert.Equal("tz-notes", field.Text);
            Assert.True(field.HasFocus); // Tab completed the name instead of moving on
            Press(Key.Tab);
            Assert.False(field.HasFocus); // a whole name, the only one: Tab moves on, as from every other field
            // Two that start with what was typed: Tab again on the whole name goes to the next, Shift+Tab back, as in a shell.
            field.SetFocus();
            Press(Key.U.WithCtrl);
            Type("t");
            Press(Key.Tab);
            Assert.Equal("tiny", field.Text);
            Press(Key.Tab);
            Assert.Equal("tz-notes", field.Text);
            Assert.True(field.HasFocus);
            Press(Key.Tab);
            Assert.Equal("tiny", field.Text); // round to the first
            Press(Key.Tab.WithShift);
            Assert.Equal("tz-notes", field.Text);
            // Back in the field later, its whole name is where Tab moves on from.
            Press(Key.CursorDown);
            Assert.False(field.HasFocus);
            field.SetFocus();
            Press(Key.Tab);
            Assert.False(field.HasFocus);
            Assert.Equal("tz-notes", field.Text);
            // Typing a name still works, and one the server lacks says so (Train still sends it: the server's refusal says why).
            field.SetFocus();
            Press(Key.U.WithCtrl);
            Type("nosuch");
            PumpUntil(() => Screen.Contains("'nosuch' is not listed"), "the unknown corpus named");
            Assert.Equal("nosuch", field.Text);
        }
        finally
        {
            File.Delete(file);
            // Gone again for the tests after this one; not there if the upload failed, which the failure above says.
            try { _fixture.Client.Catalog.DeleteCorpus(new CharRnn.Protos.V1.DeleteCorpusRequest { Name = "tz-notes" }); }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound) { }
        }
    }

    [Fact]
    public void The_corpus_line_fits_its_width_naming_what_is_wrong_before_the_names()
    {
        CharRnn.Protos.V1.CorpusInfo Corpus(string name, bool available, string sha = "", string why = "") => new() { Name = name, Available = available, Sha256 = sha, Description = why };
        CharRnn.Protos.V1.CorpusInfo[] corpora = [Corpus("tiny", true), Corpus("nietzsche", false, sha: "ab"), Corpus("broken", false, why: "not UTF-8"), Corpus("notes", true)];
        Assert.Equal("corpora: tiny, nietzsche, notes", CorpusChoices.Line("tiny", corpora, 31)); // broken left out: nothing can train on it
        Assert.Equal("corpora: tiny +2 more", CorpusChoices.Line("tiny", corpora, 30));
        Assert.Equal("corpora: tiny, nietzsche +2 more", CorpusChoices.Line("tiny", [.. corpora, Corpus("zz", true)], 32));
        Assert.Equal("corpora: nietzsche, notes, tiny", CorpusChoices.Line("n", corpora, 40)); // those Tab completes to first
        Assert.Equal("'x' is not listed; corpora: tiny +2 more", CorpusChoices.Line("x", corpora, 40));
        Assert.Equal("'x' is not listed", CorpusChoices.Line("x", corpora, 20));
        Assert.Equal("broken is not available (not UTF-8)", CorpusChoices.Line("broken", corpora, 36));
        Assert.Equal("nietzsche: fetched on first use", CorpusChoices.Line("nietzsche", corpora, 35));
        Assert.Equal("'nosuch' is not l…", CorpusChoices.Line("nosuch", corpora, 18));
        Assert.Equal("corpora: not listed yet", CorpusChoices.Line("tiny", null, 40));
        Assert.Null(CorpusChoices.Complete("", corpora)); // nothing in common: no completion
        Assert.Equal("notes", CorpusChoices.Complete("no", corpora));
        Assert.Null(CorpusChoices.Complete("n", corpora)); // nietzsche and notes agree on "n" alone
        Assert.Null(CorpusChoices.Complete("tiny", corpora));
        Assert.Null(CorpusChoices.Complete("b", corpora)); // broken cannot be trained on
        // Tab again on a whole name: the next that starts with what was typed before Tab, in the command line's order, round.
        Assert.Equal("notes", CorpusChoices.Cycle("n", "nietzsche", corpora, back: false));
        Assert.Equal("nietzsche", CorpusChoices.Cycle("n", "notes", corpora, back: false));
        Assert.Equal("nietzsche", CorpusChoices.Cycle("n", "notes", corpora, back: true));
        Assert.Equal("nietzsche", CorpusChoices.Cycle("n", "n", corpora, back: false)); // a part of several: the first of them
        Assert.Null(CorpusChoices.Cycle("n", "n", corpora, back: true)); // Shift+Tab on a part moves back, as from any field
        Assert.Null(CorpusChoices.Cycle("tiny", "tiny", corpora, back: false)); // the only one: Tab moves on
        Assert.Null(CorpusChoices.Cycle("", "tiny", null, back: false));
    }

    [Theory]
    [InlineData(76, 24)]
    [InlineData(80, 24)]
    [InlineData(100, 30)]
    [InlineData(130, 42)]
    public void The_trained_models_list_shows_a_models_loss_name_and_architecture_whole_from_76_columns(int columns, int rows)
    {
        // Beside the architectures and the form the list had 11 columns at 80 ("gru state") and 7 at 76 ("gru s"): below some
        // 96 columns it goes under the architectures, in the column left of the form.
        _window.Show(_window.Models);
        _app.Driver!.SetScreenSize(columns, rows);
        PumpUntil(() => _window.Frame.Width == columns && System.Text.RegularExpressions.Regex.IsMatch(Screen, @"│\d\.\d{3} gru stateful-gru +│"), $"the model's row whole at {columns} columns", 5_000);
        Assert.DoesNotContain("too small", Screen);
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => Screen.Contains("┤Trained models: val loss (Enter: use)├"), "the widest title at 130 columns");
    }

    [Fact]
    public void Where_the_models_pane_is_too_narrow_for_a_loss_the_list_shows_names()
    {
        _window.Show(_window.Models);
        _app.Driver!.SetScreenSize(60, 24); // under the "too small" notice, but laid out: rows of "1.633 lst" told models apart by nothing
        PumpUntil(() => _window.Models.ModelList.Viewport.Width is > 0 and < 20, "the 60-column layout");
        // The name, and of its architecture what fits whole.
        PumpUntil(() => _window.Models.ModelList.Source!.ToList().Cast<string>().Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, "^gru( (stateful-)?gru)?$")), "rows of names");
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Models.ModelList.Source!.ToList().Cast<string>().Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\d\.\d{3} gru stateful-gru$")), "the losses back where there is room");
    }

    [Fact]
    public void At_120_columns_the_trained_models_title_is_whole()
    {
        _window.Show(_window.Models);
        _app.Driver!.SetScreenSize(120, 36);
        PumpUntil(() => _window.Models.ModelList.Source!.ToList().Cast<string>().Any(l => l.EndsWith("gru stateful-gru", StringComparison.Ordinal)), "the 120-column rows");
        // It read "Trained models: val loss (Enter:": the pane is 36 columns wide there.
        PumpUntil(() => Screen.Contains("val loss (Enter: use)├"), "a title whole, Enter's hint included");
        Assert.DoesNotContain("(Enter:├", Screen);
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => Screen.Contains("┤Trained models: val loss (Enter: use)├"), "the widest title where it fits");
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
        Press(Key.A.WithCtrl); // to the start
        Type("2");
        Assert.Equal("21", field.Text);
        Assert.Same(field, _window.Models.Field("n_hidden")); // the form was not rebuilt meanwhile
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
    public void The_gru_form_has_layers_and_dropout_at_the_lessons_one_and_zero_within_the_servers_cap()
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.NameField != null, "the form");
        var gru = CharRnn.Engine.Models.Architectures.All.ToList().FindIndex(a => a.Name == "stateful-gru");
        Ui(() => _window.Models.ArchitectureList.Index = gru);
        PumpUntil(() => _window.Models.Field("layers") is { } layers && layers.Text == "1", "the GRU's layers field");
        Assert.Equal("0", _window.Models.Field("dropout")!.Text);
        _window.Models.Field("layers")!.Text = "5"; // the server's cap is 4
        PumpUntil(() => Screen.Contains("layers = '5' is not allowed"), "the cap's check");
        Assert.False(_window.Models.CanTrain);
        _window.Models.Field("layers")!.Text = "2";
        PumpUntil(() => _window.Models.CanTrain, "the form to become valid");
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
    public void The_form_takes_a_patience_and_min_delta_and_sends_them_with_the_other_training_options()
    {
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.Field("patience") != null, "the form");
        var patience = _window.Models.Field("patience")!;
        var minDelta = _window.Models.Field("min_delta")!;
        Assert.Equal(("0", "0"), (patience.Text, minDelta.Text)); // off by default
        _window.Models.NameField!.Text = "patient-form";
        patience.Text = "3";
        minDelta.Text = "0.01";
        _window.Models.ScheduleField!.Text = "sgdr:cycle=1"; // refused by the server: the line is sent, nothing trains
        Ui(_window.Models.PressTrain);
        PumpUntil(() => _window.Repl.Log.Content.Contains("error:"), "the server's refusal");
        Assert.Contains("train stateful-lstm name=\"patient-form\" corpus=\"tiny\" patience=3 min_delta=0.01 schedule=\"sgdr:cycle=1\"", _window.Repl.Log.Content);
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
        Assert.Contains("train stateful-lstm name=\"sched\" corpus=\"tiny\" schedule=\"sgdr:cycle=1\"", _window.Repl.Log.Content); // sent as typed
        var error = _window.Repl.Log.Content[_window.Repl.Log.Content.IndexOf("error:", StringComparison.Ordinal)..];
        Assert.Contains("sgdr", error); // what it takes, in the server's words
        Assert.DoesNotContain(_fixture.Client.Catalog.ListModels(new Protos.V1.ListModelsRequest()).Models, m => m.Name == "sched");
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
        FormAt(100, 30, "n_fac");
        PumpUntil(() => Screen.Contains("n_fac "), "the form at 100×30");
        Assert.Contains("nn.LSTM with n layers and dropout", Screen); // the form's architecture: the list's default
        Assert.Contains("(trained with SGDR). The", Screen); // its summary's end, wrapped onto a second row, and the lesson's class on a third
        Assert.Matches(@"name +stateful-[a-z]+-\d+ +new folder", Screen);
        _window.Models.Field("random_bptt")!.SetFocus(); // the form's thirteenth row, under the summary's three: the form scrolls to it
        PumpUntil(() => Screen.Contains("random_bptt"), "the random_bptt row");
        Assert.Matches(@"random_bptt   true +true or false", Screen);
    }

    /// <summary>
    /// At 80×24 the form's summary takes the rows it needs, the lesson's class (the server's lesson_class) after it, and the
    /// form's rows follow it: two rows cut stateful-lstm's off at "(trained with", and the lesson's class was not shown.
    /// </summary>
    [Fact]
    public void On_an_80_by_24_terminal_the_form_shows_the_whole_summary_and_the_lessons_class_above_the_name_row()
    {
        _app.Driver!.SetScreenSize(80, 24);
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.Field("lower") != null, "the form at 80×24");
        _window.Models.Field("lower")!.SetFocus(); // the form scrolled to its end, then back to its first field
        PumpUntil(() => Screen.Contains("lower         false"), "the lower row");
        _window.Models.NameField!.SetFocus();
        PumpUntil(() => System.Text.RegularExpressions.Regex.IsMatch(Screen, @"name +\S*-lstm-1 "), "the name row");
        var rows = Screen.Split('\n');
        var end = Array.FindIndex(rows, r => r.Contains("SGDR). The lesson's CharSeqStatefulLSTM.", StringComparison.Ordinal));
        Assert.True(end >= 0, $"the summary's end and the lesson's class at 80×24:\n{Screen}");
        Assert.Matches(@"name +\S*-lstm-1 ", rows[end + 1]); // the form's first row right under it, none drawn over it
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
        PumpUntil(() => Screen.Contains("CharSeqStatefulLSTM."), "the summary at 130 columns");
        Assert.Matches(@"name +stateful-lstm-1 ", Screen.Split('\n').SkipWhile(r => !r.Contains("CharSeqStatefulLSTM.", StringComparison.Ordinal)).Skip(1).First());
    }

    /// <summary>
    /// A resize that wraps the summary onto one more row keeps the field in focus in view: the form scrolled to the field's
    /// row of the last layout, one short, and random_bptt (focused at 130×42) stayed under the pane at 100×30.
    /// </summary>
    [Fact]
    public void The_field_in_focus_stays_in_view_when_a_resize_wraps_the_summary_onto_more_rows()
    {
        FormAt(100, 30, "random_bptt");
        PumpUntil(() => Screen.Contains("random_bptt"), "the focused field at 100×30", 3000);
        Assert.Matches(@"random_bptt   true +true or false", Screen);
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
        Assert.True(name.ScrollOffset > 0, "the name and the cursor after it wider than the field at 80 columns"); // 15 columns for 15 chars and the cursor
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
        PumpUntil(() => Screen.Contains("name          " + name.Text), "the whole name in the field", 3000);
        Assert.Equal(0, name.ScrollOffset);
    }

    [Fact]
    public void On_an_80_column_terminal_the_forms_hints_are_whole()
    {
        FormAt(80, 24, "n_hidden"); // stateful-lstm's: 1 to 2048 was cut to "1 to 204"
        PumpUntil(() => Screen.Contains("n_hidden      512"), "the form at 80×24");
        Assert.Matches(@"n_hidden +512 +1 to 2048\b", Screen);
        _window.Models.Field("random_bptt")!.SetFocus();
        PumpUntil(() => Screen.Contains("random_bptt"), "the random_bptt row");
        Assert.Matches(@"random_bptt +true +true or false", Screen);
    }

    [Fact]
    public void On_an_80_column_terminal_the_name_field_shows_the_default_name_whole()
    {
        FormAt(80, 24, "n_fac"); // the name field not in focus: its cursor takes no column after the text
        PumpUntil(() => Screen.Contains("n_fac         42"), "the form at 80×24");
        PumpUntil(() => Screen.Contains("name "), "the name row");
        Assert.Matches(@"name +stateful-lstm-\d+ new folder", Screen); // was "stateful-lst", in a field of 12 columns
        Assert.Matches(@"n_hidden +512 +1 to 2048\b", Screen); // the other rows' hints stay whole
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
    public void At_80_columns_the_name_field_shows_the_start_of_a_name_longer_than_it_unless_it_has_the_keyboard()
    {
        _app.Driver!.SetScreenSize(80, 40); // the whole form shows
        _window.Show(_window.Models);
        PumpUntil(() => _window.Models.NameField != null, "the form at 80×40");
        Ui(() => _window.Models.NameField!.Text = "stateful-lstm-sgdr-2"); // a default name (15 chars) fits the field whole
        Assert.True(_window.Models.NameField!.Viewport.Width < _window.Models.NameField.Text.Length, "the name longer than its field at 80 columns");
        bool NameStartShows() => Screen.Split('\n').Any(row => row.Contains("name          " + _window.Models.NameField!.Text[.._window.Models.NameField.Viewport.Width] + " new"));
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
    [Theory]
    [InlineData(24)]
    [InlineData(19)] // the least the screen takes: fewer rows than architectures, the list scrolls
    public void On_an_80_column_terminal_every_architecture_can_be_reached_whole_and_a_scrolled_list_shows_its_scrollbar(int rows)
    {
        _app.Driver!.SetScreenSize(80, rows);
        _window.Show(_window.Models);
        var list = _window.Models.ArchitectureList;
        PumpUntil(() => list.Source?.Count == CharRnn.Engine.Models.Architectures.All.Count && Screen.Contains("stateful-lstm"), $"the architectures at 80×{rows}");
        list.SetFocus();
        Press(Key.Home);
        foreach (var name in CharRnn.Engine.Models.Architectures.All.Select(a => a.Name))
        {
            PumpUntil(() => list.SelectedItem == name && SelectedRow() == name, $"{name} selected and shown whole");
            // A list with rows out of view says so.
            Assert.Equal(list.Source!.Count > list.Viewport.Height, list.VerticalScrollBar.Visible);
            Press(Key.CursorDown);
        }
        Assert.False(Screen.Contains("too small"), Screen);
        if (rows == 19) Assert.True(list.Source!.Count > list.Viewport.Height, $"{list.Viewport.Height} rows hold all {list.Source.Count} architectures at 80×19");
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");

        // The selected row's cells as drawn, not anywhere on the screen: a longer name (stateful-rnn-cell) would pass for a cut stateful-rnn.
        string SelectedRow()
        {
            var at = list.ViewportToScreen(new System.Drawing.Point(0, (list.Index ?? 0) - list.Viewport.Y));
            var row = Screen.Split('\n')[at.Y].TrimEnd('\r');
            return row.Substring(at.X, Math.Min(list.Viewport.Width, row.Length - at.X)).Trim();
        }
    }

    [Theory]
    [InlineData(96, 30)]
    [InlineData(100, 30)]
    [InlineData(110, 34)]
    [InlineData(130, 42)]
    public async Task A_default_names_row_in_the_trained_models_list_cuts_no_word_from_96_columns(int columns, int rows)
    {
        // At 96–130 columns the pane is some 29 columns wide: "2.000 stateful-lstm-1 stateful-gru" lost its architecture mid-word.
        var copy = Path.Combine(_fixture.Models, "stateful-lstm-1");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(Path.Combine(_fixture.Models, "gru"), "*.ckpt")) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        try
        {
            _window.Show(_window.Models);
            await _status.RefreshAsync();
            _app.Driver!.SetScreenSize(columns, rows);
            var list = _window.Models.ModelList;
            string Row() => list.Source!.ToList().Cast<string>().FirstOrDefault(l => l.Contains("stateful-lstm-1", StringComparison.Ordinal)) ?? "";
            PumpUntil(() => _window.Frame.Width == columns && Row().Length > 0 && Row().Length <= list.Viewport.Width, $"the row to fit at {columns} columns", 5_000);
            Assert.Matches(@"^\d\.\d{3} stateful-lstm-1( (stateful-)?gru)?$", Row()); // whole words: the architecture whole, shortened or left out
            Assert.Contains(Row(), Screen);
        }
        finally
        {
            Directory.Delete(copy, true);
            await _status.RefreshAsync();
        }
    }
    [Fact]
    public async Task A_name_too_long_for_the_trained_models_pane_shows_its_start_and_end_around_an_ellipsis()
    {
        // At 100 columns the pane has 24: "4.488 a-very-long-model-" looked like a whole name that ends in '-'.
        const string Name = "a-very-long-model-name-that-ends-in-run-7";
        var copy = Path.Combine(_fixture.Models, Name);
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(Path.Combine(_fixture.Models, "gru"), "*.ckpt")) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        try
        {
            _window.Show(_window.Models);
            await _status.RefreshAsync();
            _app.Driver!.SetScreenSize(100, 30);
            var list = _window.Models.ModelList;
            string Row() => list.Source!.ToList().Cast<string>().FirstOrDefault(l => l.Contains("a-very", StringComparison.Ordinal)) ?? "";
            // Its start, an ellipsis and its end (where names that share a long start differ), not a start that passes for a name.
            PumpUntil(() => _window.Frame.Width == 100 && System.Text.RegularExpressions.Regex.IsMatch(Row(), @"^\d\.\d{3} a-very-lo…\S*-run-7$"), "the long name's row cut in its middle at 100 columns", 5_000);
            Assert.True(Row().Length <= list.Viewport.Width, $"'{Row()}' is wider than the pane's {list.Viewport.Width} columns");
            Assert.Contains(Row(), Screen);
        }
        finally
        {
            Directory.Delete(copy, true);
            await _status.RefreshAsync();
        }
    }
}

/// <summary>How a trained model's row is fitted to a pane too narrow for it (ModelsView.FitRow).</summary>
public sealed class ModelRowFitTests
{
    [Theory]
    // At 100 columns the pane has 24: "2.350 stateful-lstm-1 tr" cut the training mark to two letters.
    [InlineData("2.350 ", "stateful-lstm-1", " training", "stateful-lstm", 24, "2.350 stat…tm-1 training")]
    [InlineData("2.350 ", "stateful-lstm-1", " queued", "stateful-lstm", 24, "2.350 state…stm-1 queued")]
    [InlineData("  -   ", "a-long-name-nobody-can-read", " (unreadable)", "", 24, "  -   a-…ad (unreadable)")]
    // Names that share a long start (run-1, run-2) still differ where they end.
    [InlineData("4.488 ", "nietzsche-lstm-experiment-1", "", "stateful-lstm", 24, "4.488 nietzsche…riment-1")]
    [InlineData("4.488 ", "nietzsche-lstm-experiment-2", "", "stateful-lstm", 24, "4.488 nietzsche…riment-2")]
    // What fits is left whole: the architecture first shortened, then left out.
    [InlineData("2.350 ", "long1", " training", "stateful-lstm", 24, "2.350 long1 training")]
    [InlineData("2.350 ", "long1", " training", "stateful-lstm", 25, "2.350 long1 training lstm")]
    [InlineData("2.350 ", "stateful-lstm-1", "", "stateful-gru", 24, "2.350 stateful-lstm-1")]
    [InlineData("2.350 ", "g1", "", "stateful-gru", 24, "2.350 g1 stateful-gru")]
    public void A_row_too_wide_for_its_pane_cuts_the_names_middle_and_keeps_its_marks_whole(string loss, string name, string marks, string architecture, int width, string expected)
    {
        var row = ModelsView.FitRow(loss, name, marks, architecture, width);
        Assert.Equal(expected, row);
        Assert.True(row.Length <= width, $"'{row}' is {row.Length} columns, over {width}");
    }
}
