using CharRnn.Tui.Views;

namespace CharRnn.Tui.Tests;

/// <summary>Screen tests of the Train screen (TrainingView): a job's progress, its charts and samples.</summary>
public sealed partial class ScreenTests
{
    [Fact]
    public void At_44_columns_the_train_screens_chart_titles_are_whole_words()
    {
        // They read "Loss (··· train, ● val" and "Learning r": cut mid-word by their panes' borders.
        _window.Show(_window.Training);
        _app.Driver!.SetScreenSize(44, 24);
        PumpUntil(() => _window.Frame.Width == 44 && Screen.Contains("┤Loss ··· train ● val├") && Screen.Contains("┤LR├"), "the short chart titles at 44 columns", 5_000);
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => Screen.Contains("┤Learning rate├"), "the whole title at 130 columns");
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
    public void The_loss_charts_legend_is_whole_at_80_columns_and_wide_at_130()
    {
        _window.Show(_window.Training);
        _app.Driver!.SetScreenSize(80, 24);
        PumpUntil(() => _window.Training.Panes.Loss.Viewport.Width < 60, "the 80×24 layout");
        PumpUntil(() => Screen.Contains("Loss ("), "the loss chart's title");
        Assert.Contains("┤Loss (··· train, ● validation per epoch)├", Screen); // was cut to "… validation at each epoch e"
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
        PumpUntil(() => Screen.Contains("┤Loss (··· train, ● validation at each epoch end)├"), "the wide title at 130 columns");
    }

    [Fact]
    public void Training_from_the_command_line_shows_live_progress_on_the_train_tab()
    {
        Command("train stateful-rnn name=screen-rnn corpus=tiny max_steps=60 epochs=3 n_hidden=16 bs=8 sample_chars=20");
        // The train tab's own line, not the REPL's: the REPL can see the job end before the tab's watch catches up.
        PumpUntil(() => Screen.Contains("model screen-rnn · finished: reached max_steps=60"), "the train tab to show the job finished", 60_000);
        Assert.Same(_window.Training, _window.Tabs.Value);
        Assert.Contains("model screen-rnn", Screen);
        Assert.Contains("finished: reached max_steps=60", Screen);
        Assert.Contains("step 60/60", Screen);
        Assert.NotEmpty(_window.Monitor.Loss);
        Assert.Contains("Learning rate", Screen);
        PumpUntil(() => _window.Repl.Log.Content.Contains("use screen-rnn to generate from it"), "the command pane to say where to go next"); // the line may wrap on screen
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

    /// <summary>Shows the Train tab watching a running job <paramref name="id"/> at step 6: 12,345 chars/s, ETA 42 s.</summary>
    private void WatchLiveJob(string id)
    {
        _window.Show(_window.Training);
        Ui(() => _window.JobAttached(new Protos.V1.Job { Id = id, ModelName = "m", State = Protos.V1.Job.Types.State.Running, Step = 5, TotalSteps = 100 }));
        PumpUntil(() => _window.Monitor.JobId == id, "the monitor to follow the job");
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = id, Step = 6,
            Progress = new Protos.V1.JobEvent.Types.Progress { Step = 6, Loss = 3.5, LearningRate = 1e-3, TotalSteps = 100, CharsPerSecond = 12345, EtaSeconds = 42 } });
    }

    [Fact]
    public void A_stopped_job_shows_no_rate_rather_than_a_rate_of_0()
    {
        // Played: after Ctrl+C stopped a job, the tab read "lr 1.0e-2 · 0 chars/s", as if it trained on at no speed.
        WatchLiveJob("j-stop");
        PumpUntil(() => Screen.Contains("12,345 chars/s"), "the live figures");
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-stop", Step = 6, Stopped = new Protos.V1.JobEvent.Types.Stopped { Reason = "stopped on request" } });
        PumpUntil(() => Screen.Contains("stopped on request"), "the stopped job");
        Assert.DoesNotContain("0 chars/s", Screen);
        Assert.Contains("- chars/s", Screen);
        Assert.Contains("ETA ?", Screen);
        Assert.Contains("loss 3.500", Screen);
    }

    [Fact]
    public void A_queued_resume_shows_its_step_and_no_epoch_total_rate_or_speed_it_has_not_had_yet()
    {
        // Played at 110x32: 'resume l1 epochs=25' queued behind another job read
        // "epoch 0.00 · step 2414/0 · ETA ?" and "lr 0.0e+0 · 0 chars/s" for a model 20 epochs in.
        _window.Show(_window.Training);
        Ui(() => _window.JobAttached(new Protos.V1.Job { Id = "j-wait", ModelName = "l1", State = Protos.V1.Job.Types.State.Queued, QueuePosition = 1 }));
        PumpUntil(() => _window.Monitor.JobId == "j-wait", "the monitor to follow the job");
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-wait", Step = 2414, Queued = new Protos.V1.JobEvent.Types.Queued { Position = 1 } });
        PumpUntil(() => Screen.Contains("step 2414"), "the queued resume's step");
        Assert.Contains("epoch ? · step 2414/? · ETA ?", Screen);
        Assert.Contains("lr - · - chars/s", Screen);
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-wait", Step = 2414, Started = new Protos.V1.JobEvent.Types.Started { TotalSteps = 3017, ResumedFromStep = 2414, Device = "cpu" } });
        PumpUntil(() => Screen.Contains("step 2414/3017"), "the started job's total");
        Assert.Contains("epoch ? · step 2414/3017", Screen); // the epoch comes with the first progress
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-wait", Step = 2420, Progress = new Protos.V1.JobEvent.Types.Progress
            { Step = 2420, Epoch = 21, Batch = 6, BatchesInEpoch = 120, EpochProgress = 20.05, Loss = 1.9, LearningRate = 1e-2, TotalSteps = 3017, CharsPerSecond = 9000, EtaSeconds = 20 } });
        PumpUntil(() => Screen.Contains("epoch 20.05 · step 2420/3017"), "the progress's figures");
        Assert.Contains("lr 1.0e-2 · 9,000 chars/s", Screen);
    }

    [Fact]
    public void A_new_models_queued_job_is_at_epoch_0_with_its_total_not_yet_known()
    {
        _window.Show(_window.Training);
        Ui(() => _window.JobAttached(new Protos.V1.Job { Id = "j-new", ModelName = "n1", State = Protos.V1.Job.Types.State.Queued, QueuePosition = 2 }));
        PumpUntil(() => Screen.Contains("model n1"), "the queued job");
        Assert.Contains("epoch 0.00 · step 0/? · ETA ?", Screen);
        Assert.Contains("lr - · - chars/s", Screen);
    }

    [Fact]
    public void A_detached_job_shows_no_rate_or_ETA_that_reads_as_live()
    {
        // detach (or stop after it) left "ETA 3.0s · 448,399 chars/s" on the tab for good, beside "it keeps training".
        WatchLiveJob("j-left");
        PumpUntil(() => Screen.Contains("12,345 chars/s") && Screen.Contains("ETA 42"), "the live figures");
        _window.JobDetached();
        PumpUntil(() => Screen.Contains("detached: it keeps training"), "the detached job");
        Assert.DoesNotContain("12,345 chars/s", Screen);
        Assert.DoesNotContain("ETA 42", Screen);
        Assert.Contains("- chars/s", Screen);
        Assert.Contains("ETA ?", Screen);
        Assert.Contains("loss 3.500", Screen); // what it had reached stays
    }

    [Fact]
    public void How_a_job_ended_wraps_whole_onto_rows_of_its_own_at_80_and_100_columns()
    {
        _window.Monitor.Attach(new Protos.V1.Job { Id = "j-182645df9db0", ModelName = "stateful-gru-1", State = Protos.V1.Job.Types.State.Running, Step = 136, TotalSteps = 136 });
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-182645df9db0", Step = 136, Finished = new Protos.V1.JobEvent.Types.Finished { Reason = "finished 3 epoch(s)", FinalValidLoss = 1.6327, FinalValidAccuracy = 0.503 } });
        _window.Show(_window.Training);
        foreach (var (width, height) in new[] { (80, 24), (100, 30) })
        {
            _app.Driver!.SetScreenSize(width, height);
            // Was one row cut at the edge: "… val 1.6327 nats/" at 80 columns, "… accuracy 50.3" at 100.
            PumpUntil(() => Screen.Contains("50.3 %"), $"the whole end at {width}×{height}");
            Assert.Contains("job j-182645df9db0 · model stateful-gru-1 · finished 3 epoch(s)", Screen);
            Assert.Contains("nats/char, accuracy", Screen);
            Assert.Contains("step 136/136", Screen); // the figures moved down, not overwritten
            Assert.Contains("100%", Screen);
            Assert.Contains("Loss (", Screen);
        }
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => Screen.Contains("finished 3 epoch(s) · val 1.6327 nats/char, accuracy 50.3 %"), "one row again at 130 columns");
    }

    [Fact]
    public void At_the_least_size_the_train_tab_counts_the_rows_a_wrapped_job_line_takes()
    {
        _window.Monitor.Attach(new Protos.V1.Job { Id = "j-182645df9db0", ModelName = "stateful-gru-1", State = Protos.V1.Job.Types.State.Running, Step = 136, TotalSteps = 136 });
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-182645df9db0", Step = 136, Finished = new Protos.V1.JobEvent.Types.Finished { Reason = "finished 3 epoch(s)", FinalValidLoss = 1.6327, FinalValidAccuracy = 0.503 } });
        _window.Show(_window.Training);
        // 44×20 gives the tab 40×8, the least it needed with a one-row job line: wrapped onto three, the charts had no row left.
        _app.Driver!.SetScreenSize(44, 20);
        PumpUntil(() => _window.Training.Frame.Width < 50, "the 44×20 layout");
        PumpUntil(() => Screen.Contains("Terminal too small") && Screen.Contains("needs 44×22"), "the notice counting the job line's rows");
        _app.Driver!.SetScreenSize(44, 22);
        PumpUntil(() => !Screen.Contains("too small") && Screen.Contains("100%"), "the tab whole at 44×22");
        Assert.True(_window.Training.Panes.Loss.Viewport.Height >= 2, $"the chart has {_window.Training.Panes.Loss.Viewport.Height} rows:\n{Screen}");
        Assert.Contains("accuracy 50.3 %", Screen);
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
    }

    [Fact]
    public void At_40_to_50_columns_the_figures_drop_their_least_important_ones_whole_instead_of_cutting_one()
    {
        _window.Monitor.Attach(new Protos.V1.Job { Id = "j-fig", ModelName = "m", State = Protos.V1.Job.Types.State.Running, TotalSteps = 12000 });
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-fig", Started = new Protos.V1.JobEvent.Types.Started { TotalSteps = 12000, Device = "cpu" } });
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-fig", Step = 4000, EpochEnd = new Protos.V1.JobEvent.Types.EpochEnd { Record = new Protos.V1.EpochRecord { Epoch = 12, Step = 4000, ValidLoss = 2.394 } } });
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-fig", Step = 4321,
            Progress = new Protos.V1.JobEvent.Types.Progress { Step = 4321, Loss = 2.25, LearningRate = 1e-3, TotalSteps = 12000, CharsPerSecond = 112465, EpochProgress = 12.345, EtaSeconds = 3725 } });
        _window.Show(_window.Training);
        string[] FiguresRows() => Screen.Split('\n').Select(r => r.Trim('│', ' ')).Where(r => r.StartsWith("epoch ", StringComparison.Ordinal) || r.StartsWith("loss ", StringComparison.Ordinal)).ToArray();
        // At 44 and 54 columns (a tab of 40 and 50) the second row was cut mid-figure: "… lr 1.0e-3 · 112" and "… 112,465 chars".
        foreach (var (width, expected) in new[]
        {
            // The step (the progress bar's percentage says as much) and the learning rate (its chart shows it) go first.
            (44, new[] { "epoch 12.35 · ETA 1h02m", "loss 2.250 · val 2.394 · 112,465 chars/s" }),
            (54, new[] { "epoch 12.35 · step 4321/12000 · ETA 1h02m", "loss 2.250 · val 2.394 · 112,465 chars/s" }),
        })
        {
            _app.Driver!.SetScreenSize(width, 24);
            PumpUntil(() => _window.Training.Viewport.Width == width - 4 && FiguresRows().Length == 2, $"the figures at {width} columns");
            Assert.Equal(expected, FiguresRows());
        }
        // At 80 columns and more every figure is there, as before.
        _app.Driver!.SetScreenSize(80, 24);
        PumpUntil(() => _window.Training.Viewport.Width == 76 && FiguresRows().Length == 2, "the figures at 80 columns");
        Assert.Equal(["epoch 12.35 · step 4321/12000 · ETA 1h02m", "loss 2.250 · val 2.394 · lr 1.0e-3 · 112,465 chars/s"], FiguresRows());
        _app.Driver!.SetScreenSize(130, 42);
        PumpUntil(() => _window.Repl.Frame.Height == 9, "the full-size layout");
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
    public void The_train_screen_shows_the_jobs_settings_warnings_once_in_the_repls_spelling()
    {
        // It showed none: the REPL said them once in its log, which scrolls on as the job runs.
        static Protos.V1.TrainingWarning.Types.Part Words(string text) => new() { Text = text };
        static Protos.V1.TrainingWarning.Types.Part Setting(string name, params string[] values) => new() { Setting = name, Values = { values } };
        const string Server = "epochs = 10 stops mid-cycle (epochs = 7 or 15 ends at a cycle's end).";
        _window.Monitor.Attach(new Protos.V1.Job
        {
            Id = "j-warn", ModelName = "m", State = Protos.V1.Job.Types.State.Queued, TotalSteps = 100, Warnings = { Server },
            WarningParts = { new Protos.V1.TrainingWarning { Parts = { Setting("epochs", "10"), Words(" stops mid-cycle ("), Setting("epochs", "7 or 15"), Words(" ends at a cycle's end).") } } },
        });
        // The queued and started events repeat them, in the server's words.
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-warn", Queued = new Protos.V1.JobEvent.Types.Queued { Position = 1, Warnings = { Server } } });
        _window.Monitor.Add(new Protos.V1.JobEvent { JobId = "j-warn", Started = new Protos.V1.JobEvent.Types.Started { TotalSteps = 100, Device = "cpu", Warnings = { Server } } });
        _window.Show(_window.Training);
        const string Repl = "warning: epochs=10 stops mid-cycle (epochs=7 or 15 ends at a cycle's end).";
        PumpUntil(() => Screen.Contains(Repl), "the warning on the train screen");
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(Screen, "stops mid-cycle"));
        Assert.DoesNotContain("epochs = 10", Screen);
        // Another job without warnings shows none of the last one's.
        _window.Monitor.Attach(new Protos.V1.Job { Id = "j-calm", ModelName = "m2", State = Protos.V1.Job.Types.State.Running, TotalSteps = 100 });
        PumpUntil(() => Screen.Contains("job j-calm"), "the next job's line");
        Assert.DoesNotContain("stops mid-cycle", Screen);
    }
}
