using CharRnn.Protos.V1;
using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>The REPL's commands against the embedded server, their output recorded.</summary>
[Collection(TuiCollection.Name)]
public sealed class CommandRunnerTests(TuiFixture fixture) : IAsyncDisposable
{
    private readonly RecordingReplOutput _output = new();
    private CommandRunner? _runner;
    private CommandRunner Runner => _runner ??= new CommandRunner(fixture.Client, _output, interactive: true);

    /// <summary>Runs a line that must fail with an error starting with <paramref name="start"/>.</summary>
    private async Task Refused(string line, string start)
    {
        await Runner.RunLineAsync(line);
        Assert.Contains(_output.Errors, e => e.StartsWith(start, StringComparison.Ordinal));
    }

    /// <summary>
    /// A line break ends a command at the prompt, so a prime pasted with one where the terminal does not mark pastes arrives as a half line with an unclosed quote: its
    /// refusal says so and how a prime writes a line break (not --exec's, where a line break does not end a command).
    /// </summary>
    [Fact]
    public async Task An_unclosed_quote_at_the_prompt_says_a_line_break_ends_a_command_and_a_prime_writes_one_as_backslash_n()
    {
        await Runner.RunLineAsync("gen 20 \"the first line");
        Assert.Equal(["Unclosed \" quote in: gen 20 \"the first line. A line break ends a command here (a terminal that does not mark a paste " +
                      "as one sends each of its lines as a command of its own): write one in a prime as \\n inside double quotes, gen \"first line\\nsecond\"."], _output.Errors);
        Assert.Empty(_output.Lines);
    }

    private async Task<int> ActiveSessions() => (await fixture.Client.Catalog.GetServerInfoAsync(new GetServerInfoRequest())).ActiveSessions;

    [Fact]
    public async Task Train_without_a_name_names_the_model_as_the_models_form_does()
    {
        var request = await Runner.TrainRequest(CommandParser.ParseMany("train stateful-gru n_hidden=16")[0], CancellationToken.None);
        Assert.Equal("stateful-gru-1", request.ModelName); // the fixture has no stateful-gru-1
        Assert.Equal("stateful-gru-2", ModelNames.Free("stateful-gru", ["gru", "Stateful-GRU-1"])); // names may not differ only in case
    }

    [Fact]
    public void A_default_name_from_a_long_base_is_shortened_to_fit_the_name_limit_and_stays_free()
    {
        // A 64-character source name: SOURCE-tuned-N would be 72 and refused by the server; the base is cut instead.
        var source = new string('m', 64);
        var first = ModelNames.Free($"{source}-tuned", []);
        Assert.Equal(new string('m', 62) + "-1", first);
        CharRnn.ModelServer.TrainedModels.ModelNames.ValidateNew(first);
        var taken = Enumerable.Range(1, 9).Select(n => new string('m', 62) + "-" + n).ToList();
        Assert.Equal(new string('m', 61) + "-10", ModelNames.Free($"{source}-tuned", taken)); // two digits: one character less of the base
        Assert.Equal("gru-tuned-1", ModelNames.Free("gru-tuned", [])); // a short base is left whole
        Assert.Equal(new string('m', 52) + "-1207-040506", ModelNames.Stamped($"{source}-tuned", new DateTime(2026, 12, 7, 4, 5, 6))); // the last resort fits too
    }

    [Fact]
    public async Task Train_init_from_starts_a_new_model_from_a_models_weights_and_info_says_where_it_started()
    {
        // Its architecture is the source's, its hyperparameter keys checked by that spec; the name defaults to SOURCE-tuned-N.
        var request = await Runner.TrainRequest(CommandParser.ParseMany("train init_from=gru n_hidden=16 epochs=2")[0], CancellationToken.None);
        Assert.Equal(("gru", "", "gru-tuned-1", 16.0, 2), (request.InitFrom, request.Architecture, request.ModelName, request.Hyperparameters["n_hidden"], request.Options.Epochs));
        await Refused("train init_from=gru recipe=lesson", "recipe= sets an architecture and its settings, and init_from= takes them from 'gru'");

        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(fixture.Client, output, interactive: false); // as --exec runs a line
        await runner.RunLineAsync("train init_from=gru corpus=tiny name=gru-ft max_steps=1 sample_chars=0");
        Assert.Empty(output.Errors);
        Assert.Contains(output.Lines, l => l.Contains(": stateful-gru from gru's weights → model gru-ft", StringComparison.Ordinal));
        await runner.RunLineAsync("info gru-ft");
        Assert.Contains(output.Lines, l => l.StartsWith("  started from gru (best.ckpt, epoch ", StringComparison.Ordinal));
        Assert.Contains(output.Lines, l => l.StartsWith("  training: 1 step into epoch 1 · ", StringComparison.Ordinal)); // stopped by max_steps before its first epoch ended: not '0 epoch(s), 1 steps'
        await runner.RunLineAsync("delete gru-ft");
        Assert.Empty(output.Errors);
    }

    [Fact]
    public async Task Train_recipe_lesson_fills_the_lessons_settings_and_keys_beside_it_override_them()
    {
        // As charrnn train --recipe lesson: the architecture comes from the recipe, the keys given win over it.
        var request = await Runner.TrainRequest(CommandParser.ParseMany("train recipe=lesson epochs=2 name=recipe-test")[0], CancellationToken.None);
        Assert.Equal("stateful-lstm", request.Architecture);
        Assert.Equal(2, request.Options.Epochs);
        Assert.True(request.Options.Lowercase);
        Assert.Equal("constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2", request.Options.Schedule);
        Assert.Equal(3, request.Options.MinFreq);
        var same = await Runner.TrainRequest(CommandParser.ParseMany("train stateful-lstm recipe=lesson lower=false")[0], CancellationToken.None);
        Assert.Equal(80, same.Options.Epochs);
        Assert.False(same.Options.Lowercase);
        // The keys the recipe stands for, as its messages print them, paste back into the prompt as the same settings:
        // the phased schedule holds ';', which would otherwise end the command.
        var pasted = CommandParser.ParseMany($"train stateful-lstm {Cli.TrainingRecipe.Lesson.Keys} name=pasted");
        Assert.Single(pasted);
        var typed = await Runner.TrainRequest(pasted[0], CancellationToken.None);
        Assert.Equal((request.Options.Lowercase, 80, request.Options.Schedule, request.Options.MinFreq),
                     (typed.Options.Lowercase, typed.Options.Epochs, typed.Options.Schedule, typed.Options.MinFreq));
    }

    [Fact]
    public async Task Train_refuses_an_unknown_recipe_or_another_architecture_with_one_saying_what_is_allowed()
    {
        await Refused("train recipe=lessn", "recipe=lessn is not a recipe; known: lesson (stateful-lstm lower=true epochs=80 schedule='constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2' min_freq=3). Did you mean");
        // Matched exactly, as architectures are here and as charrnn train --recipe matches it: Lesson is not lesson.
        await Refused("train recipe=Lesson", "recipe=Lesson is not a recipe; known: lesson (stateful-lstm lower=true epochs=80 schedule='constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2' min_freq=3). Did you mean 'lesson'?");
        await Refused("train stateful-gru recipe=lesson", "recipe=lesson is for stateful-lstm, not stateful-gru; drop the architecture, or drop recipe= and give stateful-gru the settings as keys: lower=true epochs=80 schedule='constant,epochs=2; ");
    }

    [Fact]
    public async Task A_gen_that_ends_on_its_own_says_how_many_chars_and_whether_its_stop_string_ended_it()
    {
        await Runner.RunLineAsync("use gru t=0; gen 20");
        Assert.Empty(_output.Errors);
        Assert.Contains("generated 20 chars", _output.Lines);
        var text = _output.Text;
        var stop = text.Substring(10, 2); // greedy from a reset state: the same text again, ended where this first shows
        await Runner.RunLineAsync($"reset; gen 200 stop=\"{stop}\"");
        Assert.Empty(_output.Errors);
        Assert.Equal(text, _output.Text[..20]);
        Assert.Contains($"generated {text.IndexOf(stop, StringComparison.Ordinal) + 2} chars, up to stop=\"{stop}\"", _output.Lines);
    }

    [Fact]
    public async Task Sessions_lists_the_session_in_use_and_closes_another_by_id_but_not_the_one_in_use()
    {
        await Runner.RunLineAsync("use gru t=0; gen 5");
        var inUse = Runner.Session!.Id;
        var other = await fixture.Client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = "gru" });
        await Runner.RunLineAsync("sessions");
        Assert.Empty(_output.Errors);
        Assert.Matches(@"^ID\s+MODEL\s+OWNER\s+CHARS\s+OPENED\s+IDLE\s+EXPIRES IN$", _output.Lines.First(l => l.StartsWith("ID", StringComparison.Ordinal)));
        Assert.Matches($@"^{inUse}\s+gru\s+local\s+5\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\s+\S+\s+\S+\s+\(in use here\)$", Assert.Single(_output.Lines, l => l.StartsWith(inUse, StringComparison.Ordinal)));
        Assert.Single(_output.Lines, l => l.StartsWith(other.Id, StringComparison.Ordinal) && !l.Contains("in use"));

        await Runner.RunLineAsync($"sessions close {other.Id}");
        Assert.Contains($"session {other.Id} closed", _output.Lines);
        Assert.DoesNotContain((await fixture.Client.Generation.ListSessionsAsync(new ListSessionsRequest())).Sessions, s => s.Id == other.Id);
        await Refused($"sessions close {other.Id}", $"No session '{other.Id}': it was closed"); // the server's NOT_FOUND, as for any other call
        Assert.Matches(@" Open a new session\. \(request [0-9a-f]{8}\)$", _output.Errors.Last()); // the id the server's log line for it names
        await Refused($"sessions close {inUse}", $"Session '{inUse}' is the one in use here; use another model, back or quit to close it.");
        await Refused("sessions open", "sessions takes nothing, or close ID; 'open' is neither (usage: sessions [close ID]).");
        Assert.NotNull(await fixture.Client.Generation.GetSessionAsync(new GetSessionRequest { SessionId = inUse }));
    }

    [Fact]
    public void The_sessions_tables_idle_time_is_the_servers_count_not_this_machines_clock_against_the_servers()
    {
        // The server's clock says the session was last used 2 minutes ago; this machine's clock is 5 minutes behind it.
        var serverNow = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var session = new Session
        {
            Id = "s-1", ModelName = "gru", Owner = "alice", CharactersSeen = 5, Created = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(serverNow.AddMinutes(-10)),
            LastUsed = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(serverNow.AddMinutes(-2)), IdleTimeoutSeconds = 600, IdleSecondsLeft = 480,
        };
        var row = CommandRunner.SessionsTable([session], serverNow.AddMinutes(-5), inUse: null).Last();
        Assert.Matches(@"^s-1\s+gru\s+alice\s+5\s+\S+ \S+\s+2m00s\s+8m00s$", row);
        // One already due (none left) has been idle at least its timeout, whatever the clocks say.
        session.IdleSecondsLeft = 0;
        Assert.Matches(@"\s10m00s\s+0\.0s$", CommandRunner.SessionsTable([session], serverNow.AddMinutes(-5), inUse: null).Last());
    }

    [Fact]
    public void The_jobs_table_sizes_each_column_to_its_widest_value()
    {
        var lines = CommandRunner.JobsTable([
            new Job { Id = "j-1", State = Job.Types.State.Running, ModelName = "a", Architecture = "stateful-gru-cell", Step = 726, TotalSteps = 887 },
            new Job { Id = "j-22", State = Job.Types.State.Finished, ModelName = "a-much-longer-model-name-here", Architecture = "rnn", Step = 5, Reason = "reached max_steps = 5" },
        ]).ToList();
        // A header row in the style of models' and sessions': REASON only where a job has one.
        Assert.Equal("ID    STATE     MODEL                          ARCH               PROGRESS      REASON", lines[0]);
        Assert.Equal("j-1   running   a                              stateful-gru-cell  step 726/887", lines[1]);
        Assert.Equal("j-22  finished  a-much-longer-model-name-here  rnn                step 5        reached max_steps=5", lines[2]); // the REPL's spelling, not the server's max_steps = 5
    }

    [Fact]
    public void The_jobs_table_calls_the_jobs_validation_loss_the_best_not_the_result()
    {
        // Job.best_valid_loss is best.ckpt's, the model's best (a resume's earlier epochs included), not the job's
        // final_valid_loss: a bare "val" beside the step read as the job's result.
        var lines = CommandRunner.JobsTable([
            new Job { Id = "j-1", State = Job.Types.State.Finished, ModelName = "a", Architecture = "rnn", Step = 9, BestValidLoss = 3.15564 },
        ]).ToList();
        Assert.Equal("j-1  finished  a      rnn   step 9 best val 3.1556", lines[1]);
    }

    [Fact]
    public void A_fine_tune_says_the_model_it_starts_from_in_the_jobs_table_the_attach_line_and_its_start()
    {
        var lines = CommandRunner.JobsTable([
            new Job { Id = "j-1", State = Job.Types.State.Running, ModelName = "letters", Architecture = "stateful-lstm", InitFrom = "lstm", Step = 7, TotalSteps = 9 },
            new Job { Id = "j-2", State = Job.Types.State.Finished, ModelName = "gru", Architecture = "stateful-gru", Step = 9 },
        ]).ToList();
        Assert.Equal("j-1  running   letters  stateful-lstm from lstm  step 7/9", lines[1]);
        Assert.Equal("j-2  finished  gru      stateful-gru             step 9", lines[2]);

        var stdout = new StringWriter();
        var output = new ConsoleReplOutput(stdout, new StringWriter());
        output.JobAttached(new Job { Id = "j-1", ModelName = "letters", InitFrom = "lstm" });
        output.JobAttached(new Job { Id = "j-2", ModelName = "gru" });
        output.JobEvent(new JobEvent { Started = new JobEvent.Types.Started { Device = "cpu", ParameterCount = 1234, TotalSteps = 9, InitFrom = "lstm" } });
        output.JobEvent(new JobEvent { Started = new JobEvent.Types.Started { Device = "cpu", ParameterCount = 1234, TotalSteps = 9 } });
        Assert.Equal(["watching job j-1 (letters, from lstm)", "watching job j-2 (gru)",
            "started on cpu: 1,234 parameters, 9 steps, from lstm's weights", "started on cpu: 1,234 parameters, 9 steps", ""],
            stdout.ToString().Split(Environment.NewLine));
    }

    [Fact]
    public void The_jobs_table_of_several_keys_says_whose_each_job_is()
    {
        var lines = CommandRunner.JobsTable([
            new Job { Id = "j-1", State = Job.Types.State.Running, ModelName = "a", Owner = "alice", Architecture = "rnn", Step = 7, TotalSteps = 9 },
            new Job { Id = "j-2", State = Job.Types.State.Queued, ModelName = "b", Owner = "root", Architecture = "rnn", Step = 0, TotalSteps = 9 },
        ]).ToList();
        Assert.Equal("ID   STATE    MODEL  OWNER  ARCH  PROGRESS", lines[0]);
        Assert.Equal("j-1  running  a      alice  rnn   step 7/9", lines[1]);
        Assert.Equal("j-2  queued   b      root   rnn", lines[2]);
    }

    [Fact]
    public void Feed_and_gen_name_the_chars_the_server_skipped_and_count_those_an_older_server_only_counted()
    {
        SkippedChar[] named = [new() { Character = "é", Count = 2 }, new() { Character = "☃", Count = 1 }];
        Assert.Equal(" · 3 unknown char(s) skipped ('é' (U+00E9) ×2, '☃' (U+2603)) from the text",
            CommandRunner.SkippedNote(CommandRunner.SkippedOf(named, 3), "the text"));
        // A server older than skipped_chars sends unknown_chars_skipped alone: the chars are said, unnamed, and not counted as fed.
        var counted = CommandRunner.SkippedOf([], 2).ToList();
        Assert.Equal(" · 2 unknown char(s) skipped from the prime", CommandRunner.SkippedNote(counted, "the prime"));
        Assert.Equal(2, counted.Sum(c => c.Count));
        Assert.Equal("", CommandRunner.SkippedNote(CommandRunner.SkippedOf([], 0), "the text"));
    }

    [Fact]
    public void A_keys_jobs_list_says_what_unlisted_jobs_of_other_keys_its_first_queued_job_waits_for()
    {
        // Bob's list: his queued job is 3rd, behind another key's running job and two queued ones he cannot see.
        Job Queued(string id, int position) => new() { Id = id, State = Job.Types.State.Queued, ModelName = id, Architecture = "rnn", QueuePosition = position };
        Assert.Equal("j-b waits for another key's running job to end and 2 queued jobs of other keys to start: a running job is not interrupted for a queued one.",
            CommandRunner.UnlistedAhead([Queued("j-c", 4), Queued("j-b", 3)], runningJobs: 1));
        Assert.Equal("j-b waits for another key's running job to end: a running job is not interrupted for a queued one.",
            CommandRunner.UnlistedAhead([Queued("j-b", 1)], runningJobs: 1));
        Assert.Equal("j-b waits for 1 queued job of other keys to start: a running job is not interrupted for a queued one.",
            CommandRunner.UnlistedAhead([Queued("j-b", 2)], runningJobs: 0)); // being started
        // Nothing unlisted ahead: its own running job (listed), or an admin's list of every job.
        Assert.Null(CommandRunner.UnlistedAhead([new Job { Id = "j-a", State = Job.Types.State.Running }, Queued("j-b", 1)], runningJobs: 1));
        Assert.Null(CommandRunner.UnlistedAhead([new Job { Id = "j-a", State = Job.Types.State.Finished }], runningJobs: 1));
    }

    [Fact]
    public void The_jobs_table_says_where_each_queued_job_is_in_the_queue()
    {
        // As ListJobs gives them: queued jobs in the order they will start (keys taking turns, so j-4, queued after
        // j-3 by another key, starts before it); the place says when each runs, where ids alone do not.
        var lines = CommandRunner.JobsTable([
            new Job { Id = "j-1", State = Job.Types.State.Running, ModelName = "a", Architecture = "rnn", Step = 7, TotalSteps = 9 },
            new Job { Id = "j-2", State = Job.Types.State.Queued, ModelName = "b", Architecture = "rnn", TotalSteps = 9, QueuePosition = 1 },
            new Job { Id = "j-4", State = Job.Types.State.Queued, ModelName = "d", Architecture = "rnn", TotalSteps = 9, QueuePosition = 2 },
            new Job { Id = "j-3", State = Job.Types.State.Queued, ModelName = "c", Architecture = "rnn", TotalSteps = 9, QueuePosition = 3 },
        ]).ToList();
        Assert.Equal("j-1  running       a      rnn   step 7/9", lines[1]);
        // A queued job has no step yet (Job.step is 0 while queued, a resume's too: played, 'resume l1' of a model 3233 steps in listed 'step 0').
        Assert.Equal("j-2  queued (1st)  b      rnn", lines[2]);
        Assert.Equal("j-4  queued (2nd)  d      rnn", lines[3]);
        Assert.Equal("j-3  queued (3rd)  c      rnn", lines[4]);
        Assert.Equal(["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "102nd"], new[] { 1, 2, 3, 4, 11, 12, 13, 21, 102 }.Select(CommandRunner.Ordinal));
    }

    [Fact]
    public async Task Arch_describes_time_budget_as_the_prompt_takes_it()
    {
        await Runner.RunLineAsync("arch stateful-gru");
        Assert.Empty(_output.Errors);
        var line = Assert.Single(_output.Lines, l => l.TrimStart().StartsWith("time_budget ", StringComparison.Ordinal));
        Assert.Contains("above 0, at most 366 days; leave it out for no limit", line);
        Assert.DoesNotContain("0: no limit", line); // time_budget=0 is refused at the prompt
        await Refused("train stateful-gru name=x time_budget=0", "time_budget: '0' is not a duration");
        // Large bounds written out, as charrnn train's refusals write them ("up to 1000000000000"), not 1e12.
        Assert.Matches(@"^  max_steps +default 0 +0 to 1000000000000 ", Assert.Single(_output.Lines, l => l.TrimStart().StartsWith("max_steps ", StringComparison.Ordinal)));
        Assert.Matches(@"^  clip +default 0 +0 to 1000000 ", Assert.Single(_output.Lines, l => l.TrimStart().StartsWith("clip ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Arch_shows_the_architectures_own_defaults_and_says_which_caps_are_the_servers()
    {
        await Runner.RunLineAsync("arch stateful-lstm");
        Assert.Empty(_output.Errors);
        string Row(string key) => Assert.Single(_output.Lines, l => l.TrimStart().StartsWith(key + " ", StringComparison.Ordinal));
        Assert.Contains("default 0.01 ", Row("lr")); // not the 0.001 of the architectures without defaults of their own
        Assert.Contains("default 1e-5 ", Row("wd"));
        Assert.Contains("1 to 2048 (server limit)", Row("n_hidden")); // the engine takes 4096; this server caps it
        Assert.DoesNotContain("server limit", Row("dropout"));
        Assert.Contains("1 to 10000 (server limit)", Row("epochs")); // a training option the server caps (max_epochs): the note follows capped_by_server
        Assert.DoesNotContain(_output.Lines, l => l.Contains("lr default", StringComparison.Ordinal)); // said once, in its row
    }

    [Fact]
    public async Task Archs_and_arch_name_the_lessons_class()
    {
        // The notebook's class names (CharSeqStatefulRnn2) are what a learner following it knows the models by.
        await Runner.RunLineAsync("archs");
        await Runner.RunLineAsync("arch stateful-rnn-cell");
        Assert.Empty(_output.Errors);
        Assert.Contains("char3              Three chars in, the fourth out; the recurrence unrolled by hand. The lesson's Char3Model.", _output.Lines);
        Assert.Contains(_output.Lines, l => l.StartsWith("stateful-lstm ", StringComparison.Ordinal) && l.EndsWith(" The lesson's CharSeqStatefulLSTM.", StringComparison.Ordinal));
        Assert.Contains("stateful-rnn-cell: Stateful RNN with the recurrence written by hand from an RNN cell. The lesson's CharSeqStatefulRnn2.", _output.Lines);
    }

    /// <summary>
    /// The lesson's class is the one the server names (Architecture.lesson_class), not the client's own engine's: an older
    /// server that names none gets no note (the client's table gave char3 "The lesson's Char3Model." whatever the server
    /// said), and a server's own class for an architecture is shown as it sends it.
    /// </summary>
    [Fact]
    public async Task Archs_and_arch_name_the_lesson_class_the_server_sends_and_none_where_it_sends_none()
    {
        static Architecture Arch(string name, string lessonClass) => new()
        {
            Name = name, Summary = "Its summary.", LessonClass = lessonClass,
            Hyperparameters = { new HyperParameterSpec { Name = "n_hidden", Type = HyperParameterSpec.Types.Type.Int, Min = 1, Max = 8, DefaultValue = 4, Doc = "Width." } },
        };
        var list = new ListArchitecturesResponse { Architectures = { Arch("char3", ""), Arch("stateful-lstm", "CharSeqStatefulLSTMv2") } };
        using var client = new CharRnn.Tui.Client.CharRnnClient(new CannedArchitecturesInvoker(list), new Uri("http://canned"));
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(client, output, interactive: true);
        await runner.RunLineAsync("archs");
        await runner.RunLineAsync("arch char3");
        await runner.RunLineAsync("arch stateful-lstm");
        Assert.Empty(output.Errors);
        Assert.Contains("char3              Its summary.", output.Lines);
        Assert.Contains("stateful-lstm      Its summary. The lesson's CharSeqStatefulLSTMv2.", output.Lines);
        Assert.Contains("char3: Its summary.", output.Lines);
        Assert.Contains("stateful-lstm: Its summary. The lesson's CharSeqStatefulLSTMv2.", output.Lines);
        // The lesson's name typed is answered with the server's: the client's own table named CharSeqStatefulLSTM, not this one.
        await runner.RunLineAsync("arch charseqstatefullstmv2");
        await runner.RunLineAsync("arch Char3Model");
        Assert.Equal(["No architecture 'charseqstatefullstmv2'. Known: char3, stateful-lstm. The lesson's CharSeqStatefulLSTMv2 is stateful-lstm here.",
                      "No architecture 'Char3Model'. Known: char3, stateful-lstm."], output.Errors);
    }

    [Fact]
    public async Task Arch_starts_every_rows_description_in_one_column()
    {
        // A capped range's " (server limit)" was wider than its column: those rows' descriptions started a column late, after one space.
        var list = await fixture.Client.Catalog.ListArchitecturesAsync(new ListArchitecturesRequest());
        var gru = list.Architectures.Single(a => a.Name == "stateful-gru");
        var specs = gru.Hyperparameters.Concat(list.TrainingOptions).Where(p => !p.Name.EndsWith("_seconds", StringComparison.Ordinal)).ToList();
        Assert.Contains(specs, p => p.CappedByServer);
        Assert.Contains(specs, p => !p.CappedByServer);
        await Runner.RunLineAsync("arch stateful-gru");
        Assert.Empty(_output.Errors);
        var columns = specs.Select(p => Assert.Single(_output.Lines, l => l.StartsWith($"  {p.Name} ", StringComparison.Ordinal)) is var row && row.EndsWith(" " + p.Doc, StringComparison.Ordinal)
            ? row.Length - p.Doc.Length : -1).Distinct().ToList();
        Assert.Single(columns);
        Assert.True(columns[0] > 0, "a row does not end with its description");
        var budget = Assert.Single(_output.Lines, l => l.StartsWith("  time_budget ", StringComparison.Ordinal));
        Assert.Equal(columns[0], budget.IndexOf("Stop after", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Models_labels_its_loss_column_as_the_best_epochs()
    {
        await Runner.RunLineAsync("models");
        Assert.Matches(@"^NAME +ARCH +PARAMS +EPOCHS +BEST VAL ", _output.Lines.First()); // not the latest epoch's, which EPOCHS beside it counts
    }

    [Fact]
    public async Task Keys_a_command_does_not_take_and_numbers_out_of_range_are_errors()
    {
        await Runner.RunLineAsync("set tmp=0.5");
        Assert.Contains(_output.Errors, e => e.Contains("set does not take tmp=", StringComparison.Ordinal) && e.Contains("t=", StringComparison.Ordinal));
        // The allowed range is written as it must be typed, without separators.
        await Refused("set k=1,000", "k=1,000 is not a whole number; give 0 (off) or a number of characters up to 2147483647 (one at or above the model's vocabulary size keeps them all, as 0 does), in digits only (no separators, no decimals).");
        await Refused("set k=-1", "k=-1 is not allowed; give 0 (off) or a number of characters up to 2147483647 (one at or above the model's vocabulary size keeps them all, as 0 does).");
        await Runner.RunLineAsync("set k=4294967299");
        Assert.Contains(_output.Errors, e => e.Contains("k=4294967299 is not allowed", StringComparison.Ordinal));
        await Refused("set top_k=-1", "top_k=-1 is not allowed; give 0 (off)"); // named as typed
        await Runner.RunLineAsync("status x=1");
        Assert.Contains(_output.Errors, e => e.Contains("status takes no key=value options", StringComparison.Ordinal));
        await Runner.RunLineAsync("set temperature=0.2"); // the long name works as t= does
        Assert.Contains(_output.Lines, l => l.StartsWith("t=0.2", StringComparison.Ordinal));
        await Runner.RunLineAsync("train stateful-gru name=x time_budget=999999999h");
        Assert.Contains(_output.Errors, e => e.Contains("too long a duration", StringComparison.Ordinal));
        await Runner.RunLineAsync("train stateful-gru name=x budget=999999999h"); // an alias is checked as its key
        Assert.Equal(2, _output.Errors.Count(e => e.Contains("too long a duration", StringComparison.Ordinal)));
        await Runner.RunLineAsync("resume gru lowercase=1"); // what a resume cannot change is refused before it reaches the server
        Assert.Contains(_output.Errors, e => e.Contains("resume does not take lowercase=", StringComparison.Ordinal) && e.Contains("max_steps=", StringComparison.Ordinal));
        await Refused("train stateful-gru name=x lr=0.01,20,0.01", "lr=20 is not allowed; give 0 to 10"); // named as typed, against the server's ranges
        await Refused("train stateful-gru name=x val_fraction=0.9 n_hidden=64", "val_fraction=0.9 is not allowed; give 0.01 to 0.5");
        await Refused("resume gru epochs=20000", "epochs=20000 is not allowed; give 1 to 10");
        await Runner.RunLineAsync("resume gru steps=abc");
        Assert.Contains(_output.Errors, e => e.Contains("steps=abc is not a whole number", StringComparison.Ordinal));
        await Refused("train stateful-gru name=x epochs=0", "epochs=0 is not allowed; give 1 to 10"); // the spec's range, not int's
        await Refused("train stateful-gru name=x lower=maybe", "lower=maybe is not allowed; give true or false (yes/no, on/off and 1/0 too).");
        await Refused("train stateful-gru name=x n_hidden=many", "n_hidden=many is not a whole number; give 1 to ");
        // Not a number, or not a whole one, the range named is the server's too, not the parser's 1 to 2147483647.
        await Refused("train stateful-gru name=x epochs=two", "epochs=two is not a whole number; give 1 to 10");
        await Refused("resume gru epochs=1.5", "epochs=1.5 is not a whole number; give 1 to 10");
        await Refused("train stateful-gru name=x sample_chars=x", "sample_chars=x is not a whole number; give 0 to 10000, in digits only (no separators, no decimals).");
        await Refused("train stateful-gru name=x n_hidden=1.5", "n_hidden=1.5 is not a whole number; give 1 to ");
        await Refused("train stateful-gru name=x clip=x", "clip=x is not a number; give 0 to 1000000, like 0.5 or 2e-3.");
        await Refused("train stateful-gru name=x patience=1001", "patience=1001 is not allowed; give 0 (off) or 1 to 1000 epochs."); // the words charrnn train and the server use
        await Refused("resume gru patience=-1", "patience=-1 is not allowed; give 0 (off) or 1 to 1000 epochs.");
        await Refused("resume gru patience=soon", "patience=soon is not a whole number; give 0 (off) or 1 to 1000 epochs, in digits only (no separators, no decimals).");
        await Refused("train stateful-gru name=x patience=2 min_delta=2", "min_delta=2 is not allowed; give 0 (any drop counts) to 1 nats/char.");
        await Refused("resume gru min_delta=lots", "min_delta=lots is not a number; give 0 (any drop counts) to 1 nats/char, like 0.5 or 2e-3.");
        await Refused("train stateful-gru name=x time_budget=0", "time_budget: '0' is not a duration");
        await Refused("stop", "No job is being watched to stop: name one, stop JOB|MODEL (jobs lists them).");
        await Refused("attach some-job from=abc", "from=abc is not a whole number; give 0 (the job's first event, the default) or a later step, in digits only (no separators, no decimals).");
        await Refused("attach some-job from=-3", "from=-3 is not allowed; give 0 (the job's first event, the default) or a later step.");
        await Refused("stop no-such-model", "No running or queued job for 'no-such-model'; stop takes a job's id, or the name of a model a job is training or waiting to train (jobs lists them).");
        // Every key use takes, as help use and set's usage show them (unknown= was left out).
        await Refused("use", "Which model? use MODEL [t=0.8] [k=N] [p=X] [min_p=X] [seed=N] [unknown=skip|refuse] (models lists them).");
    }

    [Theory]
    [InlineData(86400, "a job trains at most 24 h a run")]
    [InlineData(5400, "a job trains at most 1.5 h a run")]
    [InlineData(0, "no cap on a job's training time")]
    public void Status_says_the_servers_cap_on_a_jobs_training_time(double seconds, string said) =>
        Assert.Equal(said, CommandRunner.JobTimeCapText(seconds));

    [Fact]
    public async Task Status_names_the_quotas_a_key_has_on_the_server_and_what_it_uses_of_them()
    {
        await Runner.RunLineAsync("status");
        Assert.Contains(_output.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^limits on the server: [\d,]+ sessions · [\d,]+ queued jobs · 4 model exports \(downloads\) at once · 2 model imports \(uploads of up to 1 GB\) at once · no cap on a job's training time$"));
        Assert.Contains(_output.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l,
            @"^limits per key: 256 sessions · 4 running or queued jobs · 100 models · 20 uploaded corpora of up to 64 MB each · 2 model exports \(downloads\) at once · 1 model import\(s\) at once · 2,000,000 generated or fed chars a minute; a job may need up to [\d.]+ [GM]B of memory$"));
        // What the key uses of them (without keys, the one local key; an admin of a keyed server sees every key's row).
        Assert.Contains(_output.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^key local: \d+/256 sessions · \d+/4 jobs · \d+/100 models · \d+/20 uploaded corpora · [\d,]+/2,000,000 chars in the last minute$"));
    }

    [Fact]
    public async Task Status_says_what_the_server_and_the_sessions_model_generate_in()
    {
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(fixture.Client, output, interactive: true);
        await runner.RunLineAsync("use gru; status");
        Assert.Empty(output.Errors);
        Assert.Contains(output.Lines, l => l.StartsWith("using gru (stateful-gru) · ", StringComparison.Ordinal)); // float32, the default: not said at every use
        Assert.Contains(output.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^server \S+ · cpu · .* · generation in float32 · \d+ session\(s\) · "));
        Assert.Contains(output.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^session \S+ on gru \(float32 generation\) · t="));
    }

    [Fact]
    public async Task Set_without_a_seed_goes_on_with_the_sessions_random_sequence_and_status_says_when_no_seed_is_pinned()
    {
        // Two sessions with one seed: one generates on, the other is `set` between its two gens. Sending the
        // session's seed back with the setting would restart its random sequence, and the second texts differ.
        async Task<(string First, string Second)> Run(string between)
        {
            var output = new RecordingReplOutput();
            await using var runner = new CommandRunner(fixture.Client, output, interactive: true);
            await runner.RunLineAsync("use gru t=1 seed=5");
            await runner.RunLineAsync("gen 30 \"the \"");
            var first = output.Text;
            await runner.RunLineAsync(between);
            await runner.RunLineAsync("gen 30");
            Assert.Empty(output.Errors);
            return (first, output.Text[first.Length..]);
        }
        var straight = await Run("status");
        var set = await Run("set t=1");
        Assert.Equal(straight, set);
        Assert.Equal(30, set.Second.Length);

        await Runner.RunLineAsync("set seed=random");
        Assert.Contains(_output.Lines, l => l.EndsWith("seed=random", StringComparison.Ordinal)); // not seed=0, a seed of its own
    }

    [Fact]
    public async Task Server_errors_name_the_keys_and_commands_typed_here()
    {
        await Refused("use nosuch", "No model 'nosuch' on this server; models lists them.");
        await Refused("gne 5", "Unknown command 'gne'. Commands: help, archs,");
        Assert.EndsWith("Try: help. Did you mean 'gen'?", _output.Errors.Last());
        await Refused("help trian", "No command 'trian'; help alone lists them. Did you mean 'train'?"); // as an unknown command is answered
        await Refused("use gru; gen -5", "gen count -5 is not allowed; give 1 to 100000, what this server gives per gen (its max_chars_per_call).");
        await Refused("use gr", "No model 'gr' on this server; models lists them. Did you mean 'gru'?"); // the server's guess, among the models this key may read
        await Refused("train stateful-gru name=x epoch=2", "'epoch' is not an option here; stateful-gru takes ");
        Assert.EndsWith("Did you mean 'epochs'?", _output.Errors.Last());
        await Refused("train CharSeqRnn name=x", "No architecture 'CharSeqRnn'. Known: char3, loop, "); // the lesson's names, answered with this project's
        Assert.EndsWith("stateful-lstm. The lesson's CharSeqRnn is seq-rnn here.", _output.Errors.Last());
        await Refused("arch GRUCell", "No architecture 'GRUCell'. Known: char3, ");
        Assert.EndsWith("The lesson's GRUCell is stateful-gru-cell here.", _output.Errors.Last());
        await Refused("train seq-rnn name=x cs=8", "'cs' is not an option here; seq-rnn takes ");
        Assert.EndsWith("The lesson's cs is context here (a windowed model's window; a stateful one reads bptt characters a step).", _output.Errors.Last());
        await Refused("delete nosuch", "No model 'nosuch' on this server; models lists them.");
        await Refused("train stateful-gru corpus=tiny name=x n_hidden=8 schedule=bogus", "schedule 'bogus' is not known; use constant | ");
        Assert.DoesNotContain(_output.Errors, e => e.Contains("options.", StringComparison.Ordinal) || e.Contains("NotFound", StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Client.Catalog.ListModels(new ListModelsRequest()).Models, m => m.Name == "x");
    }

    [Fact]
    public async Task Corpora_are_listed_with_their_size_before_any_job_loads_them()
    {
        await Runner.RunLineAsync("corpora");
        Assert.Contains(_output.Lines, l => l.StartsWith("tiny ", StringComparison.Ordinal) && l.Contains($"{TuiFixture.TinyText.Length:N0} chars", StringComparison.Ordinal));
    }

    /// <summary>A folder of its own for a test's files to upload, under the fixture's root.</summary>
    private string UploadFolder()
    {
        var folder = Path.Combine(fixture.Root, "to-upload-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>A file of random letters to upload: nothing in its training text predicts its validation text, so the loss soon stops improving.</summary>
    private string NoiseFile()
    {
        var random = new Random(3);
        var file = Path.Combine(UploadFolder(), "noise.txt");
        File.WriteAllText(file, new string(Enumerable.Range(0, 1200).Select(_ => (char)('a' + random.Next(8))).ToArray()));
        return file;
    }

    [Fact]
    public async Task Train_with_a_min_delta_sends_it_and_info_shows_it()
    {
        var file = NoiseFile();
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(fixture.Client, output, interactive: false);
        await runner.RunLineAsync($"upload {file} name=noise-delta");
        // No epoch on random letters beats the first by half a nat: patience 2 ends the job at epoch 3.
        await runner.RunLineAsync("train stateful-gru corpus=noise-delta name=delta n_hidden=32 n_fac=8 bs=8 bptt=8 lr=0.03 epochs=40 patience=2 min_delta=0.5 sample_chars=0");
        Assert.Empty(output.Errors);
        Assert.Equal(3, output.Events.Count(e => e.EventCase == JobEvent.EventOneofCase.EpochEnd));
        Assert.Contains("by more than 0.5 for 2 epochs (patience=2, min_delta=0.5)", Client.JobEndText.Of(output.Events.Last()));
        await runner.RunLineAsync("info delta");
        Assert.Contains(output.Lines, l => l.StartsWith("  training: ", StringComparison.Ordinal) && l.Contains(" · patience 2 · min_delta 0.5", StringComparison.Ordinal));
        // Without a patience it would do nothing: the server refuses it, saying so (its field names as the REPL's keys).
        await runner.RunLineAsync("resume delta patience=0 min_delta=0.1");
        Assert.Contains(output.Errors, e => e.StartsWith("min_delta=0.1 only counts with early stopping, and patience is 0 (off); set patience to", StringComparison.Ordinal)); // in the REPL's words
        await runner.RunLineAsync("delete delta; delete-corpus noise-delta");
    }

    [Fact]
    public async Task Train_with_patience_ends_the_job_early_saying_why()
    {
        var file = NoiseFile();
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(fixture.Client, output, interactive: false); // as --exec runs a line: to the job's end
        await runner.RunLineAsync($"upload {file} name=noise-patience");
        await runner.RunLineAsync("train stateful-gru corpus=noise-patience name=patient n_hidden=32 n_fac=8 bs=8 bptt=8 lr=0.03 epochs=40 patience=2 sample_chars=0");
        Assert.Empty(output.Errors);
        var end = output.Events.Last();
        Assert.True(end.Finished.StoppedEarly);
        Assert.True(output.Events.Count(e => e.EventCase == JobEvent.EventOneofCase.EpochEnd) < 40);
        Assert.StartsWith("stopped early: validation loss has not improved on ", Client.JobEndText.Of(end)); // the line the REPL prints
        Assert.Equal(2, (await fixture.Client.Catalog.GetModelAsync(new GetModelRequest { Name = "patient" })).TrainingOptions.Patience);
        await runner.RunLineAsync("info patient");
        Assert.Contains(output.Lines, l => l.StartsWith("  training: ", StringComparison.Ordinal) && l.Contains(" · patience 2", StringComparison.Ordinal));
        await runner.RunLineAsync("delete patient; delete-corpus noise-patience");
    }

    [Fact]
    public async Task Upload_stores_a_file_as_a_corpus_that_train_names_and_delete_corpus_removes_it()
    {
        var file = Path.Combine(UploadFolder(), "cats.txt");
        File.WriteAllText(file, TuiFixture.TinyText);
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(fixture.Client, output, interactive: false); // as --exec runs a line
        await runner.RunLineAsync($"upload {file}");
        Assert.Empty(output.Errors);
        Assert.Contains($"uploaded cats: {TuiFixture.TinyText.Length:N0} chars ({TuiFixture.TinyText.Length:N0} bytes); train on it with corpus=cats", output.Lines);
        await runner.RunLineAsync("corpora");
        Assert.Contains(output.Lines, l => l.StartsWith("cats ", StringComparison.Ordinal) && l.Contains($"{TuiFixture.TinyText.Length:N0} chars  uploaded", StringComparison.Ordinal));
        Assert.DoesNotContain(output.Lines, l => l.Contains("OWNER", StringComparison.Ordinal)); // no keys: every upload is the one user's

        await runner.RunLineAsync("train stateful-gru corpus=cats name=on-cats n_hidden=8 bs=8 max_steps=1 sample_chars=0");
        Assert.Empty(output.Errors);
        Assert.Equal("cats", (await fixture.Client.Catalog.GetModelAsync(new GetModelRequest { Name = "on-cats" })).Summary.CorpusName);

        await runner.RunLineAsync($"upload {file}");
        Assert.Equal("Corpus 'cats' exists; set replace to store this text in its place (replace=true in the REPL), delete it first, or choose another name.", StripRequestId(output.Errors.Last()));
        File.WriteAllText(file, "a new text");
        await runner.RunLineAsync($"upload {file} replace=true");
        Assert.Contains("stored cats: 10 chars (10 bytes); train on it with corpus=cats", output.Lines);
        await runner.RunLineAsync($"upload {file} name=dogs");
        Assert.Contains("uploaded dogs: 10 chars (10 bytes); train on it with corpus=dogs", output.Lines);

        File.WriteAllText(file, "the 😀 sat\n"); // an emoji beyond U+FFFF: one char, two UTF-16 units
        await runner.RunLineAsync($"upload {file} name=emoji");
        Assert.Contains("uploaded emoji: 10 chars (13 bytes); train on it with corpus=emoji", output.Lines);
        await runner.RunLineAsync("corpora");
        Assert.Contains(output.Lines, l => l.StartsWith("emoji ", StringComparison.Ordinal) && l.Contains("          10 chars  uploaded", StringComparison.Ordinal));

        await runner.RunLineAsync("delete on-cats; delete-corpus cats; delete-corpus dogs; delete-corpus emoji");
        Assert.Contains("deleted corpus cats", output.Lines);
        Assert.Contains("deleted corpus dogs", output.Lines);
        Assert.DoesNotContain((await fixture.Client.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora, c => c.Name is "cats" or "dogs");
    }

    /// <summary>An error line without its request id (" (request 1a2b3c4d)"), which differs each call.</summary>
    private static string StripRequestId(string error) => System.Text.RegularExpressions.Regex.Replace(error, @" \(request [0-9a-f]{8}\)", "");

    [Fact]
    public async Task Upload_refuses_a_missing_folder_empty_or_oversized_file_before_sending_anything()
    {
        var folder = UploadFolder();
        await Refused($"upload {Path.Combine(folder, "none.txt")}", $"No file {Path.Combine(folder, "none.txt")}; give the path of a UTF-8 text file.");
        await Refused($"upload {folder}", $"{folder} is a folder; upload takes a text file.");
        File.WriteAllText(Path.Combine(folder, "empty.txt"), "");
        await Refused($"upload {Path.Combine(folder, "empty.txt")}", $"{Path.Combine(folder, "empty.txt")} is empty; a corpus needs some text to learn from.");
        File.WriteAllText(Path.Combine(folder, "long.txt"), "0123456789A");
        var saved = fixture.Options.Limits.MaxCorpusBytes;
        fixture.Options.Limits.MaxCorpusBytes = 10;
        try { await Refused($"upload {Path.Combine(folder, "long.txt")}", $"{Path.Combine(folder, "long.txt")} has 11 bytes; this server stores corpora of up to 10 bytes (max_corpus_bytes, charrnn serve --max-corpus-mb)."); }
        finally { fixture.Options.Limits.MaxCorpusBytes = saved; }
        await Refused("upload", "Usage: upload FILE [name=NAME] [replace=true]");
        // A name the server refuses, here the file's own (nul.txt: NUL is a device name on Windows), in upload's terms: name=, not header.name.
        File.WriteAllText(Path.Combine(folder, "nul.txt"), "some text");
        await Refused($"upload {Path.Combine(folder, "nul.txt")}", "name 'nul' is not allowed: NUL is a device name on Windows");
        Assert.DoesNotContain((await fixture.Client.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora, c => c.Name is "none" or "empty" or "long");
        // --exec refuses a line whose upload has no file before it runs anything of it.
        Assert.Throws<CommandException>(() => CommandRunner.Check(CommandParser.ParseMany($"upload {Path.Combine(folder, "none.txt")}")[0]));
    }

    [Fact]
    public async Task A_file_that_changes_while_it_is_uploaded_is_not_stored()
    {
        var file = Path.Combine(UploadFolder(), "changing.txt");
        File.WriteAllText(file, string.Concat(Enumerable.Repeat(TuiFixture.Pattern, 60_000))); // over 1 MiB: progress lines
        var size = new FileInfo(file).Length;
        var output = new RecordingReplOutput();
        output.OnLine = line => { if (line.StartsWith("upload changing: ", StringComparison.Ordinal)) File.AppendAllText(file, "written meanwhile. "); };
        await using var runner = new CommandRunner(fixture.Client, output, interactive: false);
        await runner.RunLineAsync($"upload {file}");
        Assert.Equal($"{file} changed while it was being uploaded ({size:N0} bytes when it began); nothing was stored. Upload it again once it is written.", Assert.Single(output.Errors));
        Assert.DoesNotContain((await fixture.Client.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora, c => c.Name == "changing");
    }

    [Fact]
    public async Task A_large_upload_shows_its_progress_and_its_pieces_arrive_whole()
    {
        var file = Path.Combine(UploadFolder(), "large.txt");
        var text = string.Concat(Enumerable.Repeat("été " + TuiFixture.Pattern, 46_000)); // 1.3 MB, "é" split across pieces somewhere
        File.WriteAllText(file, text);
        var size = new FileInfo(file).Length;
        await Runner.RunLineAsync($"upload {file}");
        Assert.Empty(_output.Errors);
        Assert.Contains($"upload large: {size:N0} of {size:N0} bytes (100%)", _output.Lines);
        Assert.True(_output.Lines.Count(l => l.StartsWith("upload large: ", StringComparison.Ordinal)) >= 2);
        var listed = (await fixture.Client.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora.Single(c => c.Name == "large");
        Assert.Equal(text.Length, listed.Characters);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file))), listed.Sha256);
        await fixture.Client.Catalog.DeleteCorpusAsync(new DeleteCorpusRequest { Name = "large" });
    }

    [Fact]
    public async Task Delete_corpus_at_the_prompt_asks_first_and_refuses_the_servers_own()
    {
        var file = Path.Combine(UploadFolder(), "asked.txt");
        File.WriteAllText(file, "some text to keep");
        await Runner.RunLineAsync($"upload {file}; delete-corpus asked");
        Assert.Contains("delete-corpus asked removes the uploaded text (17 chars) for good; models trained on it still generate, but cannot be resumed until the same text is uploaded again under this name: type delete-corpus asked again within 2 minutes to confirm.", _output.Lines); // the window: one typed later asks again
        Assert.Contains((await fixture.Client.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora, c => c.Name == "asked");
        await Runner.RunLineAsync("delete-corpus asked");
        Assert.Contains("deleted corpus asked", _output.Lines);
        Assert.DoesNotContain((await fixture.Client.Catalog.ListCorporaAsync(new ListCorporaRequest())).Corpora, c => c.Name == "asked");
        await Refused("delete-corpus tiny", "Corpus 'tiny' is one of the server's own, not an upload; its operator removes it from the server's corpora folder.");
        await Refused("delete-corpus nosuch", "No uploaded corpus 'nosuch' for this key; corpora lists the ones there are.");
    }

    [Fact]
    public async Task Corpora_shows_whose_each_upload_is_on_a_server_with_keys()
    {
        var root = Directory.CreateTempSubdirectory("charrnn-owners-").FullName;
        try
        {
            var keysFile = Path.Combine(root, "keys.json");
            var keys = ModelServer.Security.ApiKeyStore.Load(keysFile);
            var (alice, admin) = (keys.Add("alice", admin: false), keys.Add("root", admin: true));
            Directory.CreateDirectory(Path.Combine(root, "corpora"));
            File.WriteAllText(Path.Combine(root, "corpora", "tiny.txt"), TuiFixture.TinyText);
            var file = Path.Combine(root, "alices.txt");
            File.WriteAllText(file, "alice's own text");
            await using var server = await Client.EmbeddedServer.StartAsync(new ModelServer.Hosting.ServerOptions
            {
                ModelsDirectory = Path.Combine(root, "models"), CorporaDirectory = Path.Combine(root, "corpora"), KeysFile = keysFile, Device = "cpu", Threads = 1,
            });
            using (var asAlice = new Client.CharRnnClient(server.Address, alice))
            {
                var output = new RecordingReplOutput();
                await using var runner = new CommandRunner(asAlice, output, interactive: false);
                await runner.RunLineAsync($"upload {file}");
                Assert.Empty(output.Errors);
            }
            using var asAdmin = new Client.CharRnnClient(server.Address, admin);
            var admins = new RecordingReplOutput();
            await using (var runner = new CommandRunner(asAdmin, admins, interactive: false))
                await runner.RunLineAsync("corpora");
            Assert.Empty(admins.Errors);
            var lines = admins.Lines.ToList();
            Assert.Equal("NAME           OWNER             CHARS        DESCRIPTION", lines[0]);
            Assert.Contains(lines, l => l.StartsWith("alices         alice                16 chars  uploaded (16 bytes)", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("tiny           -         ", StringComparison.Ordinal));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task A_line_that_uploads_a_corpus_may_train_on_it_after()
    {
        var file = Path.Combine(UploadFolder(), "fresh.txt");
        File.WriteAllText(file, TuiFixture.TinyText);
        Assert.True(await Runner.CheckWithServerAsync(CommandParser.ParseMany($"upload {file}; train stateful-gru corpus=fresh name=on-fresh n_hidden=8"), CancellationToken.None));
        Assert.False(await Runner.CheckWithServerAsync(CommandParser.ParseMany("delete-corpus tiny2; train stateful-gru corpus=fresh name=on-fresh n_hidden=8"), CancellationToken.None));
        Assert.Equal("No corpus 'fresh' on this server; corpora lists the ones there are.", _output.Errors.Last());
    }

    [Fact]
    public async Task A_quoted_number_is_the_prime_and_an_unquoted_one_the_count()
    {
        await Runner.RunLineAsync("use gru t=0; gen 5 \"1984\"");
        Assert.Equal("1984", _output.Primes.Last());
        // The tiny model has never seen a digit: the server refuses the prime, which shows it was sent as one.
        Assert.Contains(_output.Errors, e => e.StartsWith("prime: ", StringComparison.Ordinal) && e.Contains("'1'", StringComparison.Ordinal));
        await Runner.RunLineAsync("gen 5 \"the c\"");
        Assert.Equal("the c", _output.Primes.Last());
        Assert.Equal(5, _output.Chars);
        await Runner.RunLineAsync("gen \"the c\" 7"); // the count after the prime
        Assert.Equal("the c", _output.Primes.Last());
        Assert.Equal(12, _output.Chars);
        await Runner.RunLineAsync("gen 99999999999");
        Assert.Contains(_output.Errors, e => e == "gen count 99999999999 is not allowed; give 1 to 100000, what this server gives per gen (its max_chars_per_call).");
        await Runner.RunLineAsync("gen 100001"); // over the server's max_chars_per_call, refused as typed
        Assert.Contains(_output.Errors, e => e == "gen count 100001 is not allowed; give 1 to 100000, what this server gives per gen (its max_chars_per_call).");
        // Over the REPL's own 1000000 too: the server's range, not "ask for 1 to 1000000", which the server then refused.
        await Runner.RunLineAsync("gen 2000000");
        Assert.Equal("gen count 2000000 is not allowed; give 1 to 100000, what this server gives per gen (its max_chars_per_call).", _output.Errors.Last());
        await Runner.RunLineAsync("compare 2000000 t=1");
        Assert.Equal("compare count 2000000 is not allowed; give 1 to 100000, what this server gives per gen (its max_chars_per_call).", _output.Errors.Last());
        foreach (var count in new[] { "1,000", "1e3", "500." }) // a count written another way is refused, not sent as the prime
        {
            await Runner.RunLineAsync($"gen {count}");
            Assert.Contains(_output.Errors, e => e.StartsWith($"gen count '{count}' is not a whole number; give 1 to 100000, what this server gives per gen (its max_chars_per_call), in digits only", StringComparison.Ordinal));
        }
        Assert.Equal(12, _output.Chars);
    }

    [Fact]
    public async Task A_new_command_stops_a_streaming_generation_and_runs_after_it()
    {
        await Runner.RunLineAsync("use gru");
        var sessions = await ActiveSessions();
        var gen = Runner.SubmitAsync("gen 90000");
        await StreamingStarted(gen);
        var use = Runner.SubmitAsync("use gru t=0");
        await Task.WhenAll(gen, use).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(_output.Lines.Contains("stopped") && _output.Errors.IsEmpty,
            $"lines: {string.Join(" | ", _output.Lines)}; errors: {string.Join(" | ", _output.Errors)}");
        Assert.True(_output.Chars < 90000);
        Assert.Equal(sessions, await ActiveSessions()); // the old session closed, one new one open: nothing leaked
        Assert.Equal(0, Runner.Sampling.Temperature); // the second command ran, after the first
    }

    [Fact]
    public async Task A_use_that_fails_keeps_the_session_in_use_and_its_settings()
    {
        await Runner.RunLineAsync("use gru t=0; gen 5 \"the c\"");
        var session = Runner.Session!.Id;
        var sessions = await ActiveSessions();
        await Runner.RunLineAsync("use gruu"); // a typo
        Assert.Contains(_output.Errors, e => e.Contains("gruu", StringComparison.Ordinal));
        await Refused("use gru t=20", "t=20 is not allowed; give 0 (greedy) to 10.");
        await Refused("set p=0", "p=0 is not allowed; give a number above 0 and at most 1 (1: off).");
        Assert.Equal(session, Runner.Session?.Id);
        Assert.Equal(0, Runner.Sampling.Temperature);
        Assert.Equal(sessions, await ActiveSessions());
        var errors = _output.Errors.Count;
        await Runner.RunLineAsync("gen 5");
        Assert.Equal(errors, _output.Errors.Count);
        Assert.Equal(10, _output.Chars);
    }

    [Fact]
    public async Task A_compare_whose_other_model_cannot_be_opened_leaves_no_session_behind()
    {
        await Runner.RunLineAsync("use gru");
        var sessions = await ActiveSessions();
        await Runner.RunLineAsync("compare nosuch 5");
        Assert.Contains(_output.Errors, e => e.Contains("nosuch", StringComparison.Ordinal));
        Assert.Equal(sessions, await ActiveSessions());
        await Runner.RunLineAsync("compare seed=7 k=3 5"); // the same model under other sampling
        Assert.Single(_output.Errors);
        Assert.Equal(sessions, await ActiveSessions());
    }

    [Fact]
    public void A_compare_of_models_that_skip_different_chars_of_the_prime_says_each_ones()
    {
        SkippedChar[] tick = [new() { Character = "\u2713", Count = 1 }], none = [];
        Assert.Equal(" · 1 unknown char(s) skipped ('\u2713' (U+2713)) from the prime", CommandRunner.PrimeSkippedNote(("gru", tick), ("lstm", tick)));
        Assert.Equal(" · 1 unknown char(s) skipped ('\u2713' (U+2713)) from lstm's prime", CommandRunner.PrimeSkippedNote(("gru", none), ("lstm", tick)));
        Assert.Equal("", CommandRunner.PrimeSkippedNote(("gru", none), ("lstm", none)));
    }

    [Fact]
    public async Task A_compare_that_ends_on_its_own_says_so_as_gen_does()
    {
        // Its echo was the log's last line: nothing told a finished compare from one still streaming.
        await Runner.RunLineAsync("use gru; compare 7 \"the \" t=1.2");
        Assert.Empty(_output.Errors);
        Assert.Matches(@"^compared 7 chars each: gru t=0\.8 seed=\d+ and gru t=1\.2 seed=\d+$", _output.Lines.Last());
    }

    [Fact]
    public async Task Min_p_is_taken_shown_and_checked_as_the_other_sampling_keys_are()
    {
        await Runner.RunLineAsync("use gru t=1.5 min_p=0.2 seed=4");
        Assert.Empty(_output.Errors);
        Assert.Equal(0.2, Runner.Session!.Sampling.MinP); // sent to the server, which echoes it
        Assert.Matches(@"^using gru \(.+\) · t=1\.5 min_p=0\.2 seed=4$", _output.Lines.Last());
        await Runner.RunLineAsync("set min_p=0.05");
        Assert.Equal(0.05, Runner.Session.Sampling.MinP);
        Assert.Equal("t=1.5 min_p=0.05 seed=4", _output.Lines.Last());
        await Runner.RunLineAsync("gen 5 min_p=0; status");
        Assert.Empty(_output.Errors);
        Assert.Equal(0, Runner.Session.Sampling.MinP);
        Assert.Contains(_output.Lines, l => l.StartsWith("session ", StringComparison.Ordinal) && l.EndsWith(" · t=1.5 seed=4", StringComparison.Ordinal)); // 0: off, unsaid
        await Runner.RunLineAsync("compare 5 \"the \" min_p=0.5");
        Assert.Empty(_output.Errors);
        Assert.Matches(@"^compared 5 chars each: gru t=1\.5 seed=4 and gru t=1\.5 min_p=0\.5 seed=4$", _output.Lines.Last());
        await Refused("set min_p=1", "min_p=1 is not allowed; give a number from 0 (off) up to, not including, 1.");
        await Refused("gen 5 min_p=abc", "min_p=abc is not a number; give a number from 0 (off) up to, not including, 1, like 0.5 or 2e-3.");
        Assert.Equal(0, Runner.Session.Sampling.MinP); // nothing refused was kept
    }

    [Fact]
    public void A_servers_min_p_refusal_reads_in_the_repls_key()
    {
        Assert.Equal("min_p=1 is not allowed; use a number from 0 (off) up to, not including, 1.", // as set min_p=1 is typed
            CharRnn.Tui.Client.ErrorText.InClientTerms("sampling.min_p = 1 is not allowed; use a number from 0 (off) up to, not including, 1."));
    }

    [Fact]
    public async Task A_compare_with_nothing_to_set_against_the_current_model_says_what_it_needs()
    {
        await Runner.RunLineAsync("use gru");
        await Refused("compare 30 \"the \"", "compare needs something to set against gru as it samples now: another model (compare OTHER_MODEL 30 \"the \") or other sampling (compare 30 \"the \" t=1.2). Usage: compare [MODEL]");
    }

    [Fact]
    public async Task A_max_steps_the_epochs_end_first_says_which_limit_ended_the_run()
    {
        var headless = new CommandRunner(fixture.Client, _output, interactive: false); // waits on its job
        await headless.RunLineAsync("train stateful-rnn name=epochs-first corpus=tiny max_steps=100000 n_hidden=16 bs=8 sample_chars=0"); // epochs: 1 by default
        Assert.Empty(_output.Errors);
        var reason = _output.Events.Single(e => e.EventCase == JobEvent.EventOneofCase.Finished).Finished.Reason;
        // Every setting it names is `field = value`, the form each client writes in its own names: none is left bare.
        Assert.Matches(@"^finished 1 epoch\(s\) \(epochs = 1\) at step \d+, before max_steps = 100000: ask for more epochs to train that far$", reason);
        // The line the REPL prints names them as its keys are typed, charrnn train's as its flags.
        Assert.Matches(@"^finished 1 epoch\(s\) \(epochs=1\) at step \d+, before max_steps=100000: ask for more epochs to train that far( · |$)", Client.JobEndText.Of(_output.Events.Last()));
        Assert.Matches(@"^finished 1 epoch\(s\) \(--epochs 1\) at step \d+, before --max-steps 100000: ask for more epochs to train that far$",
            Client.JobReasonText.Of(reason, Client.JobReasonText.CommandLine));
        await headless.DisposeAsync();
    }

    [Fact]
    public async Task A_train_whose_epochs_stop_an_sgdr_cycle_midway_is_warned_as_charrnn_train_warns()
    {
        // The lesson's epoch 10 is its first SGDR's 8th, mid-way through the cycle from 7 to 15.
        await Runner.RunLineAsync("train recipe=lesson epochs=10 name=mid-cycle corpus=tiny max_steps=100000 n_hidden=16 bs=8 sample_chars=0");
        var job = Runner.WatchedJob;
        Assert.NotNull(job);
        Assert.Contains("warning: cycles end after epochs 3, 5, 9, 17; epochs=10 stops mid-cycle, the rate still at 96% of its peak " +
                        "(epochs=9 or 17 ends at a cycle's end).", _output.Lines);
        await Runner.RunLineAsync($"stop {job}");
    }

    [Fact]
    public async Task A_train_whose_every_rate_is_0_is_warned_as_charrnn_train_warns()
    {
        var headless = new CommandRunner(fixture.Client, _output, interactive: false); // waits on each job
        const string small = "corpus=tiny n_hidden=8 n_fac=4 bs=4 bptt=4 sample_chars=0 max_steps=1";
        await headless.RunLineAsync($"train stateful-gru name=zero-rate lr=0,0,0 {small}");
        Assert.Contains("warning: lr=0: no weight will change, every layer group's rate being 0 (0 freezes a group, as lr=0,1e-3,1e-3 does the embedding); give a rate above 0 to train.", _output.Lines);
        _output.Lines.Clear();
        await headless.RunLineAsync($"train stateful-gru name=frozen-embedding lr=0,1e-3,1e-3 {small}"); // one group frozen: the rest trains
        Assert.DoesNotContain(_output.Lines, l => l.Contains("no weight will change", StringComparison.Ordinal));
        Assert.Empty(_output.Errors);
        await headless.DisposeAsync();
    }

    [Fact]
    public async Task Attach_says_a_jobs_warnings_once_for_a_job_another_client_started_and_not_again_right_after_train()
    {
        const string zeroRate = "warning: lr=0: no weight will change, every layer group's rate being 0 (0 freezes a group, as lr=0,1e-3,1e-3 does the embedding); give a rate above 0 to train.";
        var other = await fixture.Client.Training.StartJobAsync(new StartJobRequest
        {
            ModelName = "attach-warned", Architecture = "stateful-gru", CorpusName = "tiny",
            Hyperparameters = { ["n_hidden"] = 8, ["n_fac"] = 4, ["bs"] = 4, ["bptt"] = 4 },
            Options = new Protos.V1.TrainingOptions { LearningRate = { 0 }, MaxSteps = 1_000_000, Epochs = 10_000, SampleChars = 0 },
        });
        await Runner.RunLineAsync($"attach {other.Id}");
        Assert.Single(_output.Lines, zeroRate); // in the REPL's spelling, lr=0, not the proto's learning_rate = 0
        await Runner.RunLineAsync($"stop {other.Id}");

        _output.Lines.Clear();
        await Runner.RunLineAsync("train stateful-gru name=attach-warned-2 lr=0 corpus=tiny n_hidden=8 n_fac=4 bs=4 bptt=4 sample_chars=0 max_steps=1000000 epochs=10000");
        var job = Runner.WatchedJob;
        Assert.NotNull(job);
        await Runner.RunLineAsync($"attach {job}"); // train said them just now
        Assert.Single(_output.Lines, zeroRate);
        await Runner.RunLineAsync($"stop {job}");
        Assert.Empty(_output.Errors);
    }

    [Fact]
    public async Task Attach_says_a_jobs_warnings_once_a_session_though_another_jobs_were_said_since()
    {
        const string zeroRate = "warning: lr=0: no weight will change, every layer group's rate being 0 (0 freezes a group, as lr=0,1e-3,1e-3 does the embedding); give a rate above 0 to train.";
        const string settings = "lr=0 corpus=tiny n_hidden=8 n_fac=4 bs=4 bptt=4 sample_chars=0 max_steps=1000000 epochs=10000";
        await Runner.RunLineAsync($"train stateful-gru name=warned-once-a {settings}");
        var first = Runner.WatchedJob;
        await Runner.RunLineAsync($"train stateful-gru name=warned-once-b {settings}");
        var second = Runner.WatchedJob;
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.NotEqual(first, second);
        Assert.Equal(2, _output.Lines.Count(l => l == zeroRate)); // each train said its own

        // The first job's warnings were said before the second's: attaching back to either, as often as asked, says none again.
        foreach (var job in new[] { first, second, first, second })
            await Runner.RunLineAsync($"attach {job}");
        Assert.Equal(2, _output.Lines.Count(l => l == zeroRate));
        await Runner.RunLineAsync($"stop {first}");
        await Runner.RunLineAsync($"stop {second}");
        Assert.Empty(_output.Errors);
    }

    [Fact]
    public async Task A_resume_whose_every_rate_is_0_is_warned_by_the_line_or_by_the_models_stored_rate()
    {
        var headless = new CommandRunner(fixture.Client, _output, interactive: false); // waits on each job
        await headless.RunLineAsync("train stateful-gru name=zero-rate-resume lr=0 corpus=tiny n_hidden=8 n_fac=4 bs=4 bptt=4 sample_chars=0 max_steps=1");
        _output.Lines.Clear();
        await headless.RunLineAsync("resume zero-rate-resume max_steps=2"); // no lr=: the model's stored 0
        Assert.Contains("warning: the model's stored learning rate is 0: no weight will change, every layer group's rate being 0; " +
                        "give a rate above 0 on the resume (lr=1e-3, or one per group as lr=0,1e-3,1e-3) to train.", _output.Lines);
        _output.Lines.Clear();
        await headless.RunLineAsync("resume zero-rate-resume max_steps=3 lr=0,0,0");
        Assert.Contains("warning: lr=0: no weight will change, every layer group's rate being 0 (0 freezes a group, as lr=0,1e-3,1e-3 does the embedding); give a rate above 0 to train.", _output.Lines);
        _output.Lines.Clear();
        await headless.RunLineAsync("resume zero-rate-resume max_steps=4 lr=1e-3");
        Assert.DoesNotContain(_output.Lines, l => l.Contains("no weight will change", StringComparison.Ordinal));
        Assert.Empty(_output.Errors);
        await headless.DisposeAsync();
    }

    [Fact]
    public async Task A_resume_whose_epochs_stop_an_sgdr_cycle_midway_is_warned_as_charrnn_resume_warns()
    {
        var headless = new CommandRunner(fixture.Client, _output, interactive: false); // waits on each job
        const string small = "corpus=tiny n_hidden=8 n_fac=4 bs=4 bptt=4 sample_chars=0";
        await headless.RunLineAsync($"train stateful-gru name=resume-mid epochs=10 schedule=sgdr:cycle_len=1,cycle_mult=2 max_steps=1 {small}");
        _output.Lines.Clear();
        // Neither epochs nor schedule given: the model's stored ones, 10 epochs of the SGDR it was trained with.
        await headless.RunLineAsync("resume resume-mid max_steps=2");
        Assert.Contains("warning: cycles end after epochs 1, 3, 7, 15; epochs=10 stops mid-cycle, the rate still at 69% of its peak " +
                        "(epochs=7 or 15 ends at a cycle's end).", _output.Lines);
        _output.Lines.Clear();
        await headless.RunLineAsync("resume resume-mid max_steps=3 epochs=7"); // a cycle's end
        Assert.DoesNotContain(_output.Lines, l => l.Contains("mid-cycle", StringComparison.Ordinal));
        await headless.RunLineAsync("resume resume-mid max_steps=4 epochs=20 schedule='constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2'");
        Assert.Contains(_output.Lines, l => l.StartsWith("warning: cycles end after epochs 3, 5, 9, 17, 33; epochs=20 stops mid-cycle", StringComparison.Ordinal));
        Assert.Empty(_output.Errors);
        await headless.DisposeAsync();
    }

    [Fact]
    public async Task A_two_layer_gru_trained_by_keys_is_shown_generates_and_resumes()
    {
        var headless = new CommandRunner(fixture.Client, _output, interactive: false); // waits on each job
        await headless.RunLineAsync("train stateful-gru name=gru-layers layers=2 dropout=0.2 corpus=tiny n_hidden=8 n_fac=4 bs=4 bptt=4 max_steps=2 sample_chars=0");
        await headless.RunLineAsync("info gru-layers");
        Assert.Contains(_output.Lines, l => l.StartsWith("  hyperparameters: ", StringComparison.Ordinal) && l.Contains("dropout 0.2") && l.Contains("layers 2"));
        await headless.RunLineAsync("use gru-layers t=0; gen 20");
        Assert.Equal(20, _output.Text.Length);
        await headless.RunLineAsync("resume gru-layers max_steps=3");
        Assert.Empty(_output.Errors);
        var details = await fixture.Client.Catalog.GetModelAsync(new GetModelRequest { Name = "gru-layers" });
        Assert.Equal(2, details.Hyperparameters["layers"]);
        Assert.Equal(3, details.Summary.StepsTrained);
        await headless.DisposeAsync();
    }

    [Fact]
    public async Task A_train_or_resume_whose_patience_is_shorter_than_an_sgdr_cycle_is_warned_as_charrnn_train_warns()
    {
        var headless = new CommandRunner(fixture.Client, _output, interactive: false); // waits on each job
        const string small = "corpus=tiny n_hidden=8 n_fac=4 bs=4 bptt=4 sample_chars=0";
        await headless.RunLineAsync($"train stateful-gru name=patience-cycle epochs=7 schedule=sgdr:cycle_len=1,cycle_mult=2 patience=2 max_steps=1 {small}");
        Assert.Contains(_output.Lines, l => l.StartsWith("warning: patience=2 is shorter than the SGDR cycle of epochs 4 to 7 (4 epochs): ", StringComparison.Ordinal));
        _output.Lines.Clear();
        await headless.RunLineAsync("resume patience-cycle max_steps=2 epochs=15"); // the stored patience, the line's epochs
        Assert.Contains(_output.Lines, l => l.StartsWith("warning: patience=2 is shorter than the SGDR cycle of epochs 8 to 15 (8 epochs): ", StringComparison.Ordinal));
        _output.Lines.Clear();
        await headless.RunLineAsync("resume patience-cycle max_steps=3 patience=8");
        Assert.DoesNotContain(_output.Lines, l => l.Contains("patience = ", StringComparison.Ordinal));
        Assert.Empty(_output.Errors);
        await headless.DisposeAsync();
    }

    [Fact]
    public async Task Detach_names_the_job_it_leaves_and_a_second_detach_says_there_is_none()
    {
        await Runner.RunLineAsync("train stateful-gru name=detached corpus=tiny max_steps=100000 epochs=1000 n_hidden=16 bs=8 sample_chars=0");
        var job = Runner.WatchedJob;
        Assert.NotNull(job);
        await Runner.RunLineAsync("detach");
        Assert.Contains($"Detached from job {job}; it keeps training (attach {job} to watch again).", _output.Lines);
        await Runner.RunLineAsync("detach");
        Assert.Contains("Not watching a job.", _output.Lines);
        await Runner.RunLineAsync($"stop {job}");
        Assert.Empty(_output.Errors);
    }

    [Fact]
    public async Task Attach_by_model_name_replays_and_a_second_attach_ends_the_first_watch()
    {
        await Runner.RunLineAsync("train stateful-gru name=attached corpus=tiny max_steps=100000 epochs=1000 n_hidden=16 bs=8 sample_chars=0");
        var first = Runner.WatchedJob!;
        await Runner.RunLineAsync("detach");
        _output.Events.Clear();
        await Runner.RunLineAsync("attach attached"); // a running job, found by its model's name, its history replayed
        Assert.Equal(first, Runner.WatchedJob);
        await Until(() => _output.Events.Any(e => e.JobId == first && e.EventCase == JobEvent.EventOneofCase.Queued), "the replayed history");
        // Running, not queued behind another test's job on the shared server: the second then queues behind it.
        await Until(() => _output.Events.Any(e => e.JobId == first && e.EventCase == JobEvent.EventOneofCase.Started), "the first job to start");

        var second = (await fixture.Client.Training.StartJobAsync(new StartJobRequest
        {
            ModelName = "attached-next", Architecture = "stateful-gru", CorpusName = "tiny",
            Options = new TrainingOptions { MaxSteps = 3, Epochs = 1, SampleChars = 0 },
        })).Id; // queued behind the first
        try
        {
            await Runner.RunLineAsync("models"); // the queued job's model says so: it has not begun, so it is not training
            Assert.EndsWith(" (queued)", _output.Lines.Last(l => l.StartsWith("attached-next ", StringComparison.Ordinal)));
            Assert.EndsWith(" (training)", _output.Lines.Last(l => l.StartsWith("attached ", StringComparison.Ordinal)));
            await Runner.RunLineAsync("info attached-next"); // no checkpoint yet: the server says why, naming the queue
            Assert.Contains("which will make it, is queued (position ", _output.Errors.Last());
            _output.Errors.Clear();
            await Runner.RunLineAsync($"attach {second}");
            Assert.Equal(second, Runner.WatchedJob);
            await Until(() => _output.Events.Any(e => e.JobId == second), "the second job's events");
            var fromFirst = _output.Events.Count(e => e.JobId == first);
            await Task.Delay(1500); // the first job keeps training (progress every 0.5 s): a watch left running would add to its events
            Assert.Equal(fromFirst, _output.Events.Count(e => e.JobId == first));

            await Runner.RunLineAsync($"stop {first}");
            await Runner.RunLineAsync($"stop {second}");
            Assert.Empty(_output.Errors);
        }
        finally
        {
            // A failed assertion must not leave the first job (100,000 steps) holding the shared server's device.
            foreach (var id in new[] { first, second })
                try { await fixture.Client.Training.StopJobAsync(new StopJobRequest { JobId = id }); }
                catch (Grpc.Core.RpcException) { } // stopped already
        }
    }

    private static async Task Until(Func<bool> done, string what)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !done(); await Task.Delay(20))
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"waited a minute for {what}");
    }

    [Fact]
    public async Task Info_shows_a_model_its_hyperparameters_training_vocabulary_and_latest_epochs()
    {
        await Refused("info", "Usage: info MODEL (models lists them), or use MODEL first.");
        await Refused("info nope", "No model 'nope' on this server");
        await Runner.RunLineAsync("use gru");
        await Runner.RunLineAsync("info"); // the model in use
        var details = await fixture.Client.Catalog.GetModelAsync(new GetModelRequest { Name = "gru" });
        Assert.Contains(_output.Lines, l => l.StartsWith($"gru · stateful-gru · {details.Summary.ParameterCount:N0} parameters · corpus ", StringComparison.Ordinal));
        Assert.Contains(_output.Lines, l => l.StartsWith("  hyperparameters: bptt 8 · bs ", StringComparison.Ordinal) && l.Contains(" · random_bptt ", StringComparison.Ordinal)
                                             && !l.Contains("random_bptt 1", StringComparison.Ordinal) && !l.Contains("random_bptt 0", StringComparison.Ordinal)); // a switch reads true or false
        // gru stopped at max_steps inside an epoch: the steps past the last epoch's end are named as inside the next.
        var (epochs, steps, lastEnd) = (details.Summary.EpochsTrained, details.Summary.StepsTrained, details.History[^1].Step);
        Assert.True(epochs > 0 && details.History[^1].Epoch == epochs && steps > lastEnd, $"gru should stop inside an epoch: {epochs} epoch(s), {steps} steps");
        var training = Assert.Single(_output.Lines, l => l.StartsWith($"  training: {epochs} epoch(s) and {steps - lastEnd} steps into epoch {epochs + 1} ({steps} steps) · ", StringComparison.Ordinal));
        // Small numbers as the README and the train line write them (1e-5, not 1E-05), and the vocabulary's cut-off.
        Assert.Contains($" · wd {string.Join(",", details.TrainingOptions.WeightDecay.Select(Client.SpecText.Real))}", training);
        Assert.Contains($" · min_freq {details.TrainingOptions.MinFreq}", training);
        Assert.DoesNotContain("E-0", training);
        Assert.Contains(_output.Lines, l => l.StartsWith("  validation loss (nats/char): best ", StringComparison.Ordinal));
        var vocabulary = Assert.Single(_output.Lines, l => l.StartsWith("  vocabulary: ", StringComparison.Ordinal));
        // The count is of the characters listed, which leave out the padding symbol: "79 symbols" then 78 read as one lost.
        Assert.Equal($"  vocabulary: {details.Summary.VocabularySize - 1} characters + padding: {details.Vocabulary[1..].Replace("\n", "\\n", StringComparison.Ordinal).Replace(" ", "␠", StringComparison.Ordinal)}", vocabulary);
        Assert.Contains(_output.Lines, l => l.StartsWith("  epoch      step   train     val", StringComparison.Ordinal));
        Assert.Equal(@"a\nb\tc\u0007d␠", Client.VisibleText.Vocabulary("\0a\nb\tc\u0007d ")); // the padding left out, the rest visible
        Assert.DoesNotContain(_output.Lines, l => l.Contains("owner local", StringComparison.Ordinal)); // one user, no owner to name
    }

    [Fact]
    public async Task Share_shares_a_model_and_share_off_takes_it_back()
    {
        await Runner.RunLineAsync("share gru");
        Assert.Contains("gru is shared: every key may list it and generate from it, read-only (share gru off takes it back)", _output.Lines);
        Assert.True((await fixture.Client.Catalog.GetModelAsync(new GetModelRequest { Name = "gru" })).Summary.Shared);
        await Runner.RunLineAsync("models"); // an owner now (the key that shared it), so the list says whose each model is
        Assert.Contains(_output.Lines, l => l.StartsWith("NAME", StringComparison.Ordinal) && l.EndsWith(" OWNER", StringComparison.Ordinal));
        Assert.Contains(_output.Lines, l => l.StartsWith("gru ", StringComparison.Ordinal) && l.Contains(" local (shared)", StringComparison.Ordinal));
        await Runner.RunLineAsync("share gru off");
        Assert.Contains(_output.Lines, l => l.StartsWith("gru is no longer shared", StringComparison.Ordinal));
        Assert.False((await fixture.Client.Catalog.GetModelAsync(new GetModelRequest { Name = "gru" })).Summary.Shared);
        Assert.Empty(_output.Errors);
        await Runner.RunLineAsync("share gru please");
        Assert.Contains("'please' is not understood: share gru shares it, share gru off takes the share back.", _output.Errors);
        await Runner.RunLineAsync("share gru of"); // a slip of off: said so, as a mistyped command or key is
        Assert.Equal("'of' is not understood: share gru shares it, share gru off takes the share back. Did you mean 'off'?", _output.Errors.Last());
        await Runner.RunLineAsync("share gru; share gru OFF"); // off in any case, as yes/no words are
        Assert.Contains(_output.Lines, l => l.StartsWith("gru is no longer shared", StringComparison.Ordinal));
        Assert.Equal(2, _output.Errors.Count);
    }

    [Fact]
    public async Task Rename_gives_a_model_a_new_name_and_the_session_on_it_goes_on_under_that_name()
    {
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(fixture.Client, output, interactive: false); // as --exec runs a line: the train waits for its end
        await runner.RunLineAsync("train stateful-gru corpus=tiny name=rn-repl n_hidden=8 bs=8 max_steps=1 sample_chars=0; use rn-repl seed=1");
        await runner.RunLineAsync("rename rn-repl rn-repl2");
        Assert.Empty(output.Errors);
        Assert.Contains("renamed rn-repl to rn-repl2; the session on it goes on under the new name", output.Lines);
        Assert.Equal("rn-repl2", runner.Session!.ModelName); // what the prompt and the Generate tab show
        // compare opens a session on the current model by its name: the new one.
        await runner.RunLineAsync("gen 5; compare 5 t=0.5");
        Assert.Empty(output.Errors);
        var models = (await fixture.Client.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Select(m => m.Name).ToList();
        Assert.Contains("rn-repl2", models);
        Assert.DoesNotContain("rn-repl", models);

        await runner.RunLineAsync("rename rn-repl rn-repl3");
        Assert.StartsWith("No model 'rn-repl' on this server; models lists them.", output.Errors.Last());
        await runner.RunLineAsync("rename rn-repl2 gru");
        Assert.Equal("A model named 'gru' exists, and a rename never replaces one; choose another new name (or delete that model first).", StripRequestId(output.Errors.Last()));
        await runner.RunLineAsync("rename rn-repl2 rn-repl2");
        Assert.Equal("The new name 'rn-repl2' is the model's name already; give the name it should have.", StripRequestId(output.Errors.Last()));
        await runner.RunLineAsync("rename rn-repl2");
        Assert.Equal("rename rn-repl2 needs the name it should have, e.g. rename rn-repl2 rn-repl2-v2. Usage: rename MODEL NEW_NAME", output.Errors.Last());
        await runner.RunLineAsync("use gru; rename rn-repl2 rn-repl4"); // not the session's model: the session stays as it is
        Assert.Contains("renamed rn-repl2 to rn-repl4", output.Lines);
        Assert.Equal("gru", runner.Session!.ModelName);
        await runner.RunLineAsync("delete rn-repl4");
    }

    [Fact]
    public async Task Stopping_a_job_that_has_ended_says_so()
    {
        await Runner.RunLineAsync("train stateful-gru name=ended corpus=tiny max_steps=3 epochs=1 n_hidden=8 bs=8 sample_chars=0");
        var job = Runner.WatchedJob!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await fixture.Client.Training.GetJobAsync(new GetJobRequest { JobId = job })).State != Job.Types.State.Finished && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.Equal(Job.Types.State.Finished, (await fixture.Client.Training.GetJobAsync(new GetJobRequest { JobId = job })).State);
        await Runner.RunLineAsync($"stop {job}");
        Assert.Contains($"job {job} had already ended (finished): nothing to stop", _output.Lines);
        Assert.DoesNotContain(_output.Lines, l => l.Contains("is stopping", StringComparison.Ordinal));
    }

    /// <summary>Waits (bounded) until a gen has streamed some text; a command that failed instead is reported, not waited on for ever.</summary>
    private async Task StreamingStarted(Task command)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); Volatile.Read(ref _output.Chars) < 50; await Task.Delay(10))
            Assert.True(!command.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(60),
                $"the gen streamed {_output.Chars} chars; errors: {string.Join(" | ", _output.Errors)}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_runner != null) await _runner.DisposeAsync();
    }

    [Fact]
    public async Task Settings_then_gen_on_a_lost_session_reopen_it_as_the_Generate_tab_buttons_do()
    {
        await Runner.RunLineAsync("use gru");
        var lost = Runner.Session!.Id;
        await fixture.Client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = lost }); // as a restart or expiry would
        var chars = _output.Chars;
        await Runner.RunLineAsync("set t=0.5; gen 7");
        Assert.Empty(_output.Errors);
        Assert.NotEqual(lost, Runner.Session!.Id);
        Assert.Equal(0.5, Runner.Session.Sampling.Temperature);
        Assert.Equal(chars + 7, _output.Chars);

        lost = Runner.Session.Id; // and gen with its own settings, in one command
        await fixture.Client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = lost });
        await Runner.RunLineAsync("gen 5 t=0.3");
        Assert.Empty(_output.Errors);
        Assert.NotEqual(lost, Runner.Session!.Id);
        Assert.Equal(0.3, Runner.Session.Sampling.Temperature);
        Assert.Equal(chars + 12, _output.Chars);
    }

    [Fact]
    public async Task A_lost_session_reopens_with_a_new_seed_unless_one_was_chosen()
    {
        async Task<(ulong Before, ulong After)> LoseAndGen(string use)
        {
            await Runner.RunLineAsync(use);
            var lost = Runner.Session!;
            await fixture.Client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = lost.Id }); // as a restart or expiry would
            await Runner.RunLineAsync("gen 5");
            Assert.Empty(_output.Errors);
            Assert.NotEqual(lost.Id, Runner.Session!.Id);
            return (lost.Sampling.Seed, Runner.Session.Sampling.Seed);
        }
        var (drawn, reopened) = await LoseAndGen("use gru");
        Assert.NotEqual(drawn, reopened); // the server's seed sent back would give the same text as before
        Assert.Equal(reopened, Runner.Sampling.Seed);
        Assert.Equal((7UL, 7UL), await LoseAndGen("use gru seed=7"));
    }

    [Fact]
    public async Task Under_exec_a_gen_on_a_lost_session_says_so_on_a_line_of_its_own_and_starts_its_text_again()
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var output = new ConsoleReplOutput(stdout, stderr);
        await using var runner = new CommandRunner(fixture.Client, output, interactive: false);
        await runner.RunLineAsync("use gru");
        await fixture.Client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = runner.Session!.Id });
        await runner.RunLineAsync("gen 5 \"the \"");
        Assert.Equal("", stderr.ToString());
        var lines = stdout.ToString().Split('\n');
        var notice = Array.FindIndex(lines, l => l.Contains("The session is gone", StringComparison.Ordinal));
        // Not after the prime on its line; every way the server loses a session named, as its NOT_FOUND names them.
        Assert.Equal("The session is gone (closed by an admin or another client of your key, expired, or the server restarted); opening a new one on the same model.", lines[notice]);
        Assert.Equal("--- gru", lines[notice + 1]);
        Assert.StartsWith("the ", lines[notice + 2]);
        Assert.Equal(4 + 5, lines[notice + 2].Length);
    }

    [Fact]
    public async Task Under_exec_a_refused_prime_prints_only_its_error_and_compare_only_what_streamed()
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        await using var runner = new CommandRunner(fixture.Client, new ConsoleReplOutput(stdout, stderr), interactive: false);
        await runner.RunLineAsync("use gru t=0");
        var before = stdout.ToString();
        await runner.RunLineAsync("gen 5 \"1984\""); // digits the tiny model never saw
        Assert.Equal(before, stdout.ToString()); // no "--- gru" header, no prime as if it had been used
        Assert.StartsWith("error: prime: ", stderr.ToString(), StringComparison.Ordinal);
        await runner.RunLineAsync("compare 5 \"the c\" t=1");
        var shown = stdout.ToString()[before.Length..].Split('\n');
        Assert.Equal(2, shown.Count(l => l.StartsWith("--- gru", StringComparison.Ordinal)));
        Assert.Equal(2, shown.Count(l => l.StartsWith("the c", StringComparison.Ordinal) && l.Length == 10));
    }

    [Fact]
    public async Task Unknown_skip_on_use_or_set_drops_what_the_model_cannot_read_and_says_how_many()
    {
        await Runner.RunLineAsync("use gru t=0 unknown=skip");
        Assert.Equal(UnknownChars.Skip, Runner.Session!.UnknownChars);
        Assert.EndsWith("unknown=skip", _output.Lines.Last());
        await Runner.RunLineAsync("feed \"the 😀cat\"");
        Assert.Empty(_output.Errors);
        Assert.StartsWith("fed 7 chars (7 in the session) · 1 unknown char(s) skipped ('\U0001F600' (U+1F600)) from the text · ", _output.Lines.Last());
        await Runner.RunLineAsync("gen 5 \"✓ sat\"");
        Assert.Empty(_output.Errors);
        Assert.Equal("generated 5 chars · 1 unknown char(s) skipped ('\u2713' (U+2713)) from the prime", _output.Lines.Last());
        await Runner.RunLineAsync("compare 5 \"✓ sat\" t=1"); // both sessions skip it: said once, as gen says it
        Assert.Empty(_output.Errors);
        Assert.Matches(@"^compared 5 chars each: gru t=0 seed=\d+ and gru t=1 seed=\d+ · 1 unknown char\(s\) skipped \('\u2713' \(U\+2713\)\) from the prime$", _output.Lines.Last());
        await Runner.RunLineAsync("fork; set unknown=refuse");
        Assert.Equal(UnknownChars.Refuse, Runner.Session!.UnknownChars);
        Assert.DoesNotContain("unknown=", _output.Lines.Last());
        await Runner.RunLineAsync("feed \"😀\"");
        Assert.Contains(_output.Errors, e => e.StartsWith("text: ", StringComparison.Ordinal) && e.Contains("U+1F600", StringComparison.Ordinal));
        await Runner.RunLineAsync("back; set");
        Assert.EndsWith("unknown=skip", _output.Lines.Last()); // the original's policy, not the fork's
        var info = await fixture.Client.Generation.GetSessionAsync(new GetSessionRequest { SessionId = Runner.Session!.Id });
        Assert.Equal(UnknownChars.Skip, info.UnknownChars);
        await Refused("set unknown=drop", "unknown=drop is not allowed; give skip (drop the characters the model cannot read from fed text) or refuse (refuse such text, naming them; the default).");
        Assert.Equal(["skip", "refuse"], CommandCatalog.KnownValues("use", "unknown"));
    }

    [Fact]
    public async Task Under_exec_unknown_skip_says_on_stderr_which_chars_it_left_out_of_the_prime()
    {
        // As charrnn generate --skip-unknown says them: the interactive REPL's 'generated N chars · …' line is not written headless.
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var output = new ConsoleReplOutput(stdout, stderr);
        await using var runner = new CommandRunner(fixture.Client, output, interactive: false);
        await runner.RunLineAsync("use gru t=0 unknown=skip");
        await runner.RunLineAsync("gen 5 \"✓ sat\"");
        Assert.Equal("note: 1 unknown char(s) skipped ('\u2713' (U+2713)) from the prime\n", stderr.ToString().ReplaceLineEndings("\n"));
        await runner.RunLineAsync("compare 5 \"✓ sat\" t=1"); // both sessions skip it: said once
        await runner.RunLineAsync("gen 5 \"the\""); // nothing skipped: nothing said
        Assert.Equal(string.Concat(Enumerable.Repeat("note: 1 unknown char(s) skipped ('\u2713' (U+2713)) from the prime\n", 2)), stderr.ToString().ReplaceLineEndings("\n"));
        Assert.False(output.Failed);
        Assert.Contains("--- gru", stdout.ToString());
    }

    [Fact]
    public async Task Unknown_set_without_a_session_is_kept_for_the_next_use()
    {
        await Runner.RunLineAsync("set unknown=skip; use gru");
        Assert.Empty(_output.Errors);
        Assert.Equal(UnknownChars.Skip, Runner.Session!.UnknownChars);
        await Runner.RunLineAsync("use gru unknown=refuse");
        Assert.Equal(UnknownChars.Refuse, Runner.Session!.UnknownChars);
    }

    [Fact]
    public async Task Reset_fork_and_set_on_a_lost_session_reopen_it()
    {
        await Runner.RunLineAsync("use gru");
        var lost = Runner.Session!.Id;
        await fixture.Client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = lost });
        await Runner.RunLineAsync("reset");
        Assert.NotEqual(lost, Runner.Session!.Id);
        Assert.Contains("session reset", _output.Lines);
        lost = Runner.Session.Id;
        await fixture.Client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = lost });
        await Runner.RunLineAsync("fork; gen 5; back; gen 5");
        Assert.Empty(_output.Errors);
        Assert.Equal(10, _output.Chars);
        lost = Runner.Session.Id;
        await fixture.Client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = lost });
        await Runner.RunLineAsync("set unknown=skip"); // reopened with the policy asked for
        Assert.NotEqual(lost, Runner.Session!.Id);
        Assert.Equal(UnknownChars.Skip, Runner.Session!.UnknownChars);
    }

    [Fact]
    public async Task Esc_stops_the_generation_and_the_rest_of_its_line()
    {
        await Runner.RunLineAsync("use gru");
        var line = Runner.SubmitAsync("gen 90000; status");
        await StreamingStarted(line);
        Runner.StopGeneration();
        await line.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("stopped", _output.Lines);
        Assert.DoesNotContain(_output.Lines, l => l.StartsWith("server ", StringComparison.Ordinal)); // status did not run
        Assert.Empty(_output.Errors);

        // A line typed before the previous one's gen started streaming stops that gen too.
        var chars = _output.Chars;
        var gen = Runner.SubmitAsync("gen 90000");
        var next = Runner.SubmitAsync("status");
        await Task.WhenAll(gen, next).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(_output.Chars - chars < 90000);
        Assert.Contains(_output.Lines, l => l.StartsWith("server ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Feed_says_how_well_the_model_predicted_the_text_in_nats_bits_perplexity_and_top_1()
    {
        await Runner.RunLineAsync($"use gru; feed \"{TuiFixture.Pattern}\"");
        Assert.Empty(_output.Errors);
        var line = Assert.Single(_output.Lines, l => l.StartsWith("fed ", StringComparison.Ordinal));
        var m = System.Text.RegularExpressions.Regex.Match(line,
            $@"^fed {TuiFixture.Pattern.Length} chars \({TuiFixture.Pattern.Length} in the session\) · (\d+\.\d\d) nats/char \((\d+\.\d\d) bits/char, perplexity (\d+\.\d)\) · (\d+)% top-1; next: \S");
        Assert.True(m.Success, line);
        double Group(int i) => double.Parse(m.Groups[i].Value, System.Globalization.CultureInfo.InvariantCulture);
        // The server's own score of the same text from a new session, as the REPL shows it.
        var other = await fixture.Client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = "gru" });
        var fed = await fixture.Client.Generation.FeedAsync(new FeedRequest { SessionId = other.Id, Text = TuiFixture.Pattern });
        await fixture.Client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = other.Id });
        Assert.Equal(Math.Round(fed.Loss, 2), Group(1));
        Assert.Equal(Math.Round(fed.Loss / Math.Log(2), 2), Group(2));
        Assert.Equal(Math.Round(Math.Exp(fed.Loss), 1), Group(3));
        Assert.Equal(Math.Round(fed.Accuracy * 100), Group(4));
    }

    [Fact]
    public async Task Feed_show_surprise_marks_the_chars_the_model_gave_under_5_percent_wrapped_with_the_text_and_lists_the_worst()
    {
        var text = "the mat sat on the cat. " + TuiFixture.Pattern + TuiFixture.Pattern + TuiFixture.Pattern + TuiFixture.Pattern + "the cat sat. "; // 133 chars: three rows
        await Runner.RunLineAsync($"use gru; feed \"{text}\" show=surprise");
        Assert.Empty(_output.Errors);
        var fedAt = _output.Lines.ToList().FindLastIndex(l => l.StartsWith("fed 133 chars", StringComparison.Ordinal));
        var shown = _output.Lines.Skip(fedAt + 1).ToList();

        // The server's own per-char scores of the same text from a new session, as the REPL shows them.
        var other = await fixture.Client.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = "gru" });
        var chars = (await fixture.Client.Generation.FeedAsync(new FeedRequest { SessionId = other.Id, Text = text, CharScores = true })).Chars;
        await fixture.Client.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = other.Id });
        string Marks(int start, int count) => ("  " + string.Concat(chars.Skip(start).Take(count).Select(c => Math.Exp(-c.Loss) < 0.05 ? '^' : ' '))).TrimEnd();

        Assert.Equal("surprise (^ under each char the model gave under 5%; positions count from 0):", shown[0]);
        Assert.Equal(["  " + text[..60].TrimEnd(), Marks(0, 60), "  " + text[60..120].TrimEnd(), Marks(60, 60), "  " + text[120..].TrimEnd(), Marks(120, 13)], shown[1..7]);
        Assert.Contains('^', string.Concat(shown[1..7])); // "the mat sat" where the pattern has "the cat sat": something surprised it
        var worst = chars.Select((c, i) => (c, i)).OrderByDescending(e => e.c.Loss).ThenBy(e => e.i).Take(5)
            .Select(e => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"  '{(e.c.Character == " " ? "␠" : e.c.Character)}' at {e.i}: {e.c.Loss:0.00} nats (p={Math.Exp(-e.c.Loss):0.###})"));
        Assert.Equal(["most surprising:", .. worst], shown[7..]);

        await Runner.RunLineAsync("feed \"the cat\"");
        Assert.StartsWith("fed 7 chars", _output.Lines.Last()); // nothing more without show=
        await Runner.RunLineAsync("feed \"a\"");
        Assert.StartsWith("fed 1 char (", _output.Lines.Last());
        await Refused("feed \"the cat\" show=bits", "show=bits is not allowed; give surprise (marks the chars the model found hardest).");
        Assert.Equal(["surprise"], CommandCatalog.KnownValues("feed", "show")); // what completion offers after show=
    }

    [Fact]
    public async Task A_prime_longer_than_the_server_takes_in_one_call_goes_in_pieces()
    {
        var prime = string.Concat(Enumerable.Repeat(TuiFixture.Pattern, 22_000 / TuiFixture.Pattern.Length)); // past max_prime_chars (20,000)
        await Runner.RunLineAsync($"use gru; gen 5 \"{prime}\"");
        Assert.Empty(_output.Errors);
        var seen = (await fixture.Client.Generation.GetSessionAsync(new GetSessionRequest { SessionId = Runner.Session!.Id })).CharactersSeen;
        Assert.Equal(prime.Length + 5, seen); // all of it read, then five generated
        Assert.Equal(["ab", "cd", "e"], CommandRunner.Pieces("abcde", 2));
        Assert.Equal(["🐱a", "b"], CommandRunner.Pieces("🐱ab", 2)); // a char outside the basic plane is one
        Assert.Equal([""], CommandRunner.Pieces("", 2));
        await Runner.RunLineAsync($"feed \"{prime}\""); // feed takes any length too
        Assert.Empty(_output.Errors);
        // Scored over all its pieces: the model was trained on this text.
        Assert.Matches($@"^fed {prime.Length} chars \(\d+ in the session\) · 0\.\d\d nats/char .* · ([5-9]\d|100)% top-1; next: ", _output.Lines.Last(l => l.StartsWith("fed ", StringComparison.Ordinal)));
        Assert.Equal(2 * prime.Length + 5, (await fixture.Client.Generation.GetSessionAsync(new GetSessionRequest { SessionId = Runner.Session!.Id })).CharactersSeen);
    }

    [Fact]
    public async Task Deleting_the_model_in_use_closes_its_sessions()
    {
        var name = "del-" + Guid.NewGuid().ToString("N")[..6];
        await Runner.RunLineAsync($"train stateful-gru corpus=tiny name={name} n_hidden=8 steps=2 sample_chars=0");
        var deadline = DateTime.UtcNow.AddSeconds(60); // the model is there once its job has finished (the REPL may have stopped watching it by now)
        while (!(await fixture.Client.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Any(m => m.Name == name && !m.Training && !m.Queued) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        await Runner.RunLineAsync($"use {name}; fork; delete {name}");
        Assert.StartsWith($"delete {name} removes it and its checkpoints for good", _output.Lines.Last()); // asked, not done
        Assert.EndsWith($": type delete {name} again within 2 minutes to confirm.", _output.Lines.Last()); // the window: one typed later asks again
        Assert.Contains(fixture.Client.Catalog.ListModels(new ListModelsRequest()).Models, m => m.Name == name);
        await Runner.RunLineAsync($"delete {name}"); // confirmed
        Assert.Empty(_output.Errors);
        Assert.Null(Runner.Session);
        Assert.Contains($"deleted {name}, and closed the session on it: use MODEL to pick another", _output.Lines);
        await Runner.RunLineAsync("gen 5");
        Assert.Contains("No model in use: use MODEL first (models lists them).", _output.Errors);
    }

    [Fact]
    public async Task Headless_a_train_whose_reader_left_detaches_from_its_job_instead_of_stopping_it()
    {
        var name = "walkaway-" + Guid.NewGuid().ToString("N")[..6];
        using var readerGone = new CancellationTokenSource();
        await using var runner = new CommandRunner(fixture.Client, new RecordingReplOutput(), interactive: false) { DetachOn = readerGone.Token };
        var line = runner.RunLineAsync($"train stateful-gru corpus=tiny name={name} n_hidden=8 epochs=1000 sample_chars=0", readerGone.Token);
        var job = await JobFor(name);
        try
        {
            await readerGone.CancelAsync(); // as `| head` closing its end
            await line;
            var after = (await fixture.Client.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.Id == job.Id);
            Assert.True(after.State is Job.Types.State.Running or Job.Types.State.Queued, $"the job should train on, not be {after.State} ({after.Reason})");
        }
        finally
        {
            await fixture.Client.Training.StopJobAsync(new StopJobRequest { JobId = job.Id });
        }
    }

    [Fact]
    public async Task Headless_a_job_someone_else_stops_fails_the_line_saying_it_was_stopped_on_request()
    {
        var name = "adminstop-" + Guid.NewGuid().ToString("N")[..6];
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(fixture.Client, output, interactive: false);
        var line = runner.RunAsync(CommandParser.ParseMany($"train stateful-gru corpus=tiny name={name} n_hidden=8 epochs=1000 sample_chars=0")[0]);
        var job = await JobFor(name);
        await fixture.Client.Training.StopJobAsync(new StopJobRequest { JobId = job.Id }); // as an admin's StopJob from elsewhere
        Assert.False(await line.WaitAsync(TimeSpan.FromSeconds(60)), "a job stopped by another's request is not a success of the line");
        var stopped = Assert.Single(output.Events, e => e.EventCase == JobEvent.EventOneofCase.Stopped);
        Assert.True(stopped.Stopped.OnRequest);
        Assert.Contains(output.Errors, e => e.StartsWith($"job {job.Id} was stopped on request before its end, not by this client (stopped on request)", StringComparison.Ordinal));
    }

    private async Task<Job> JobFor(string model)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Job? job;
        while ((job = (await fixture.Client.Training.ListJobsAsync(new ListJobsRequest())).Jobs.FirstOrDefault(j => j.ModelName == model)) == null && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.NotNull(job);
        return job;
    }

    [Fact]
    public async Task Headless_a_signal_that_comes_with_the_readers_leaving_still_stops_the_job()
    {
        var name = "signalled-" + Guid.NewGuid().ToString("N")[..6];
        using var readerGone = new CancellationTokenSource();
        using var interrupt = new CancellationTokenSource();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(readerGone.Token, interrupt.Token);
        await using var runner = new CommandRunner(fixture.Client, new RecordingReplOutput(), interactive: false) { DetachOn = readerGone.Token, InterruptedBy = interrupt.Token };
        var line = runner.RunLineAsync($"train stateful-gru corpus=tiny name={name} n_hidden=8 epochs=1000 sample_chars=0", stop.Token);
        var job = await JobFor(name);
        try
        {
            // Ctrl+C in `charrnn --exec … | tee`: the shell signals both; the reader's end can reach the writer first.
            await readerGone.CancelAsync();
            await Task.Delay(50);
            await interrupt.CancelAsync();
            await line;
            Job after;
            var deadline = DateTime.UtcNow.AddSeconds(30); // a stop ends the job once its checkpoint is saved
            while ((after = (await fixture.Client.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.Id == job.Id)).State is Job.Types.State.Running or Job.Types.State.Queued
                   && DateTime.UtcNow < deadline)
                await Task.Delay(100);
            Assert.True(after.State == Job.Types.State.Stopped, $"a signalled job should be stopped, not {after.State}");
        }
        finally
        {
            await fixture.Client.Training.StopJobAsync(new StopJobRequest { JobId = job.Id });
        }
    }

    [Fact]
    public async Task Headless_train_then_detach_in_one_line_starts_the_job_and_leaves_it_training()
    {
        var name = "leave-" + Guid.NewGuid().ToString("N")[..6];
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(fixture.Client, output, interactive: false);
        var line = runner.RunLineAsync($"train stateful-gru corpus=tiny name={name} n_hidden=8 epochs=1000 sample_chars=0; detach");
        try
        {
            await line.WaitAsync(TimeSpan.FromSeconds(60)); // without detach's look-ahead, the train waits on all 1000 epochs
            var job = (await fixture.Client.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.ModelName == name);
            Assert.True(job.State is Job.Types.State.Running or Job.Types.State.Queued, $"the job should train on, not be {job.State} ({job.Reason})");
            Assert.Contains(output.Lines, l => l == $"Detached from job {job.Id}; it keeps training (attach {job.Id} to watch again).");
        }
        finally
        {
            foreach (var j in (await fixture.Client.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Where(j => j.ModelName == name))
                await fixture.Client.Training.StopJobAsync(new StopJobRequest { JobId = j.Id });
            await line.WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    [Fact]
    public async Task Delete_of_a_model_a_job_trains_is_refused_at_once_not_after_its_confirmation()
    {
        var name = "busy-" + Guid.NewGuid().ToString("N")[..6];
        await Runner.RunLineAsync($"train stateful-gru corpus=tiny name={name} n_hidden=8 steps=2 sample_chars=0");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await fixture.Client.Catalog.ListModelsAsync(new ListModelsRequest())).Models.Any(m => m.Name == name && !m.Training && !m.Queued) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        var resumed = await fixture.Client.Training.StartJobAsync(new StartJobRequest { ModelName = name, Resume = true, Options = new TrainingOptions { Epochs = 1000, MaxSteps = 0 } });
        try
        {
            // The test server is shared: the resume may wait behind another test's job, and a queued
            // job's model is refused in other words ("has a queued job").
            deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await fixture.Client.Training.GetJobAsync(new GetJobRequest { JobId = resumed.Id })).State == Job.Types.State.Queued && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            await Refused($"delete {name}", $"Model '{name}' is being trained by a job; stop the job first (stop {name}), then delete it.");
            Assert.DoesNotContain(_output.Lines, l => l.Contains("again to confirm", StringComparison.Ordinal));
        }
        finally
        {
            await fixture.Client.Training.StopJobAsync(new StopJobRequest { JobId = resumed.Id });
        }
    }

    [Fact]
    public async Task A_line_is_checked_against_the_servers_corpora_and_models_before_it_runs()
    {
        async Task<string?> Check(string line)
        {
            var errors = _output.Errors.Count;
            var ok = await Runner.CheckWithServerAsync(CommandParser.ParseMany(line), CancellationToken.None);
            Assert.Equal(ok, _output.Errors.Count == errors);
            return ok ? null : _output.Errors.Last();
        }
        Assert.Equal("No corpus 'nosuch' on this server; corpora lists the ones there are.",
            await Check("train stateful-gru corpus=tiny name=a; train stateful-gru corpus=nosuch name=b"));
        Assert.Equal("A model named 'gru' exists; choose another name=, or resume gru to continue it.", await Check("train stateful-gru corpus=tiny name=gru"));
        Assert.Equal("A model named 'a' exists, and names may not differ only in case; choose another name=.", await Check("train stateful-gru corpus=tiny name=a; train stateful-gru corpus=tiny name=A"));
        Assert.Equal("No model 'nosuch' on this server; models lists them.", await Check("resume nosuch epochs=2"));
        // A count over the server's max_chars_per_call, in its range: --exec's first check, before the server is asked, lets it by.
        Assert.Equal("gen count 2000000 is not allowed; give 1 to 100000, what this server gives per gen (its max_chars_per_call).", await Check("use gru; gen 2000000"));
        // The rest of what starting the job would refuse, by the server's dry run, in the words typed here.
        Assert.StartsWith("schedule 'bogus' is not known; use constant",
            await Check("train stateful-gru corpus=tiny name=a n_hidden=8; train stateful-gru corpus=tiny name=b n_hidden=8 schedule=bogus"));
        Assert.StartsWith("schedule 'sgdr:cycle_len=0': sgdr cycle_len = 0 must be from 0.01", await Check("resume gru schedule=sgdr:cycle_len=0"));
        Assert.Null(await Check("train stateful-gru corpus=tiny name=a n_hidden=8 schedule=sgdr:cycle_len=1; resume gru max_steps=1000"));
        Assert.Null(await Check("delete gru; train stateful-gru corpus=tiny name=gru; resume gru epochs=2")); // as the line leaves them
        Assert.Null(await Check("train stateful-gru corpus=tiny name=a n_hidden=8; train stateful-gru corpus=tiny name=b init_from=a")); // a fine-tune of what the line trains
        Assert.Contains(fixture.Client.Catalog.ListModels(new ListModelsRequest()).Models, m => m.Name == "gru"); // checked, nothing run
    }

    [Fact]
    public async Task Each_new_session_draws_its_own_seed_unless_one_was_asked_for()
    {
        await Runner.RunLineAsync("use gru");
        var first = Runner.Session!.Sampling.Seed;
        await Runner.RunLineAsync("use gru t=0.5");
        Assert.NotEqual(first, Runner.Session!.Sampling.Seed); // fresh text, not the last session's again
        Assert.Equal(0.5, Runner.Session.Sampling.Temperature); // while the other settings carry over
        await Runner.RunLineAsync("set seed=5; use gru");
        Assert.Equal(5UL, Runner.Session!.Sampling.Seed);
        await Runner.RunLineAsync("use gru");
        Assert.Equal(5UL, Runner.Session!.Sampling.Seed); // asked for: it carries over
        await Runner.RunLineAsync("set seed=random");
        Assert.NotEqual(5UL, Runner.Session!.Sampling.Seed); // the session in use draws a new one at once
        await Runner.RunLineAsync("set seed=5; set seed=random; use gru");
        Assert.NotEqual(5UL, Runner.Session!.Sampling.Seed); // and seed=random lets new sessions draw again
        Assert.Empty(_output.Errors);
        await Runner.RunLineAsync("set seed=-1");
        Assert.Contains(_output.Errors, e => e == "seed=-1 is not allowed; give 0 to 18446744073709551615, or seed=random.");
        await Runner.RunLineAsync("set seed=1.5"); // no whole number at all: said as charrnn generate's --seed says it
        Assert.Contains(_output.Errors, e => e == "seed=1.5 is not a whole number; give 0 to 18446744073709551615, or seed=random, in digits only (no separators, no decimals).");
    }

    [Fact]
    public async Task A_sampling_key_with_nothing_after_its_equals_goes_back_to_its_default()
    {
        // With no session in use: kept for the next use.
        await Runner.RunLineAsync("set t=1.2 k=5 p=0.9 min_p=0.1 seed=7 unknown=skip");
        Assert.Equal("t=1.2 k=5 p=0.9 min_p=0.1 seed=7 unknown=skip", _output.Lines.Last());
        await Runner.RunLineAsync("set t= k=");
        Assert.Equal("t=0.8 p=0.9 min_p=0.1 seed=7 unknown=skip", _output.Lines.Last());
        await Runner.RunLineAsync("set p= min_p= seed= unknown=");
        Assert.Equal("t=0.8 seed=random", _output.Lines.Last());
        // With one in use: the server changes only the fields sent, so the defaults are sent as values.
        await Runner.RunLineAsync("use gru t=1.5 k=3 p=0.5 min_p=0.2 seed=9");
        await Runner.RunLineAsync("set t= k= p= min_p= seed=");
        var s = Runner.Session!.Sampling;
        Assert.Equal((0.8, 0, 1.0, 0.0), (s.Temperature, s.TopK, s.TopP, s.MinP));
        Assert.NotEqual(9UL, s.Seed); // drawn again, as seed=random does
        await Runner.RunLineAsync("use gru");
        Assert.NotEqual(9UL, Runner.Session!.Sampling.Seed); // and new sessions draw their own
        Assert.Empty(_output.Errors);
        await Runner.RunLineAsync("help set");
        Assert.Contains("A key with nothing after its = goes back to its default", _output.Lines.Last());
    }

    [Fact]
    public async Task Gen_stop_with_nothing_stops_nowhere_as_charrnn_generates_empty_stop_does_and_help_says_so()
    {
        await Runner.RunLineAsync("use gru seed=3");
        await Runner.RunLineAsync("gen 12 stop=");
        Assert.Empty(_output.Errors);
        Assert.Equal("generated 12 chars", _output.Lines.Last());
        await Runner.RunLineAsync("help gen");
        Assert.Contains("stop= with nothing stops nowhere, as charrnn generate --stop '' does.", _output.Lines.Last());
    }

    [Fact]
    public async Task Help_starts_every_summary_in_one_column_and_says_help_COMMAND_shows_a_commands_form()
    {
        // delete-corpus, longer than the column was, ran its summary on from the verb a column late: "delete-corpus Delete a corpus …".
        await Runner.RunLineAsync("help");
        Assert.Empty(_output.Errors);
        var columns = CommandCatalog.All.Select(spec =>
        {
            var line = Assert.Single(_output.Lines, l => l.StartsWith(spec.Verb + " ", StringComparison.Ordinal));
            Assert.EndsWith(" " + spec.Summary, line, StringComparison.Ordinal);
            return line.Length - spec.Summary.Length;
        }).Distinct().ToList();
        Assert.Equal([CommandCatalog.SummaryColumn], columns);
        // The list shows no command's words and keys: its last line says where they are.
        Assert.Contains("help COMMAND shows a command's form and keys.", _output.Lines.Last(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_cut_short_is_answered_with_the_one_key_it_starts()
    {
        // Too many letters from its key for a slip, these had no "did you mean" at all.
        (string Line, string Start, string Key)[] cases =
        [
            ("set temp=1", "set does not take temp=; it takes t=, k=, p=, min_p=, seed=, unknown=.", "temperature"),
            ("gen 5 temp=0.5", "gen does not take temp=", "temperature"),
            ("resume gru pat=2", "resume does not take pat=", "patience"),
            ("train stateful-gru name=x epo=2", "'epo' is not an option here; stateful-gru takes ", "epochs"),
            ("train stateful-gru name=x n_hid=8", "'n_hid' is not an option here; stateful-gru takes ", "n_hidden"),
        ];
        foreach (var (line, start, key) in cases)
        {
            await Refused(line, start);
            Assert.EndsWith($". Did you mean '{key}'?", _output.Errors.Last());
        }
    }

    [Fact]
    public async Task Aliases_and_extra_words_are_checked_as_their_commands_are()
    {
        await Runner.RunLineAsync("use gru");
        await Refused("generate 5 temp=0.5", "generate does not take temp=");
        await Runner.RunLineAsync("help generate");
        Assert.Contains(_output.Lines, l => l.StartsWith("gen [N]", StringComparison.Ordinal));
        await Refused("set t 0.5", "set takes no words before its options; 't' is one too many");
        await Refused("delete gru other", "delete takes 1 word; 'other' is one too many");
        await Refused("share gru off now", "share takes at most 2 words; 'now' is one too many");
        // A command with no options at all: "jobs takes no words before its options" spoke of options it has none of.
        await Refused("jobs x", "jobs takes no words; 'x' is one too many (usage: jobs).");
        await Refused("detach now", "detach takes no words; 'now' is one too many");
        // charrnn train's flags typed at the prompt, as docs/cli.md shows them: said as the keys they are here.
        await Refused("train stateful-gru --n-hidden 16 corpus=tiny", "train takes keys, not flags, at the prompt: n_hidden=16 for '--n-hidden 16' (usage: train ARCH");
        await Refused("train --recipe lesson", "train takes keys, not flags, at the prompt: recipe=lesson for '--recipe lesson' (usage: train ARCH");
        await Refused("train stateful-gru --lower --epochs 2", "train takes keys, not flags, at the prompt: lower=VALUE for '--lower' (usage: train ARCH");
        Assert.True(Directory.Exists(Path.Combine(fixture.Models, "gru")));
        await Runner.RunLineAsync("feed");
        Assert.Contains(_output.Errors, e => e == "Usage: feed \"TEXT\" [show=surprise]");
    }

    [Fact]
    public async Task Every_command_that_needs_a_model_says_the_same_thing_without_one()
    {
        foreach (var line in new[] { "gen 5", "feed \"abc\"", "fork", "reset", "compare t=1.2" })
            await Runner.RunLineAsync(line);
        Assert.Equal(5, _output.Errors.Count);
        Assert.All(_output.Errors, e => Assert.StartsWith("No model in use: use MODEL first (models lists them).", e));
        Assert.EndsWith("Then compare OTHER_MODEL or compare t=1.2.", _output.Errors.Last());
    }

    [Fact]
    public async Task Stopping_a_job_that_was_stopped_before_says_so()
    {
        await Runner.RunLineAsync("train stateful-gru name=stopped-twice corpus=tiny epochs=1000 n_hidden=8 bs=8 sample_chars=0");
        await Runner.RunLineAsync("stop stopped-twice");
        Assert.Contains(_output.Lines, l => l.Contains("is stopping", StringComparison.Ordinal) || l.EndsWith(" stopped", StringComparison.Ordinal));
        var job = (await fixture.Client.Training.ListJobsAsync(new ListJobsRequest())).Jobs.Single(j => j.ModelName == "stopped-twice");
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); job.State != Job.Types.State.Stopped; await Task.Delay(50))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the job did not stop");
            job = await fixture.Client.Training.GetJobAsync(new GetJobRequest { JobId = job.Id });
        }
        await Runner.RunLineAsync($"stop {job.Id}");
        Assert.Contains(_output.Lines, l => l == $"job {job.Id} had already ended (stopped): nothing to stop");
        Assert.Empty(_output.Errors);
    }
    [Fact]
    public async Task A_stopped_jobs_end_is_told_after_the_stop_commands_own_line()
    {
        // A running job that stops at once, and a queued one, whose end the server records before it answers the stop.
        await Runner.RunLineAsync("train stateful-gru name=stop-order corpus=tiny epochs=1000 n_hidden=8 bs=8 sample_chars=0");
        var running = Runner.WatchedJob!;
        await Until(() => _output.Events.Any(e => e.JobId == running && e.EventCase == JobEvent.EventOneofCase.Progress), "the job running");
        await Runner.RunLineAsync("train stateful-gru name=stop-order-queued corpus=tiny epochs=1000 n_hidden=8 bs=8 sample_chars=0");
        var queued = Runner.WatchedJob!;
        Assert.NotEqual(running, queued);
        await Runner.RunLineAsync($"stop {queued}");
        await Until(() => _output.Said.Contains($"ended {queued}"), "the queued job's end");
        await Runner.RunLineAsync($"attach {running}");
        await Runner.RunLineAsync($"stop {running}");
        await Until(() => _output.Said.Contains($"ended {running}"), "the running job's end");
        foreach (var job in new[] { queued, running })
        {
            var said = _output.Said.ToList();
            var stop = said.FindIndex(l => l.StartsWith($"job {job} is stopping", StringComparison.Ordinal) || l == $"job {job} stopped");
            Assert.True(stop >= 0 && stop < said.IndexOf($"ended {job}"), $"job {job}: {string.Join(" | ", said)}");
        }
    }

    /// <summary>What `charrnn export` writes for a checkpoint (ExportCommand: LoadForGeneration on the CPU, PyTorchExport, its SourceName).</summary>
    private static byte[] CliExport(string checkpoint, string file)
    {
        using var trained = Engine.Checkpoints.TrainedModel.LoadForGeneration(checkpoint, TorchSharp.torch.CPU);
        Engine.Export.PyTorchExport.Of(trained, Engine.Export.PyTorchExport.SourceName(trained.Path)).Write(file);
        return File.ReadAllBytes(file);
    }

    [Fact]
    public async Task Import_sends_a_safetensors_file_as_a_new_model_that_generates_and_refuses_a_name_in_use_or_a_missing_file()
    {
        var folder = UploadFolder();
        var file = Path.Combine(folder, "gru-copy.safetensors");
        CliExport(Path.Combine(fixture.Models, "gru", "best.ckpt"), file);
        try
        {
            await Runner.RunLineAsync($"import {file}"); // named after the file
            Assert.Empty(_output.Errors);
            var model = await fixture.Client.Catalog.GetModelAsync(new GetModelRequest { Name = "gru-copy" });
            Assert.Contains($"imported {file} as model gru-copy: stateful-gru, {model.Summary.ParameterCount:N0} parameters, vocabulary of {model.Summary.VocabularySize}; " +
                            "generate with use gru-copy (it cannot be resumed: the file holds no optimizer state)", _output.Lines);
            await Runner.RunLineAsync("use gru-copy t=0");
            await Runner.RunLineAsync("gen 20 \"the \"");
            Assert.Empty(_output.Errors);

            await Refused($"import {file} name=gru", "A model named 'gru' exists, and an import never replaces one: delete it first (delete) or choose another name.");
            var missing = Path.Combine(folder, "nope.safetensors");
            await Refused($"import {missing} name=x", $"No file {missing}; give the path of a .safetensors file written by charrnn export or the REPL's export.");
            Assert.True(_output.Errors.Count == 2, string.Join(" || ", _output.Errors));
        }
        finally { await fixture.Client.Catalog.DeleteModelAsync(new DeleteModelRequest { Name = "gru-copy" }); }
    }

    [Fact]
    public async Task Export_downloads_the_models_file_checked_and_replaces_a_file_only_with_force()
    {
        var folder = UploadFolder();
        var file = Path.Combine(folder, "gru.safetensors");
        await Runner.RunLineAsync($"export gru {file}");
        Assert.Empty(_output.Errors);
        var bytes = File.ReadAllBytes(file);
        Assert.Equal(CliExport(Path.Combine(fixture.Models, "gru", "best.ckpt"), Path.Combine(fixture.Root, $"cli-{Guid.NewGuid():N}.safetensors")), bytes);
        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        Assert.Contains($"exported gru (best.ckpt) to {file}: {bytes.Length:N0} bytes, SHA-256 {sha256} (checked); load it in PyTorch with examples/python/load_in_pytorch.py", _output.Lines);
        Assert.Equal(["gru.safetensors"], Directory.GetFiles(folder).Select(Path.GetFileName)); // no temp file left

        // An existing file is kept unless force=true; with it, replaced (here by last.ckpt's export).
        await Refused($"export gru {file} checkpoint=last", $"{file} exists; add force=true to replace it, or give another file name.");
        Assert.Equal(bytes, File.ReadAllBytes(file));
        await Runner.RunLineAsync($"export gru {file} checkpoint=last force=true");
        Assert.Single(_output.Errors);
        Assert.Contains(_output.Lines, l => l.StartsWith($"exported gru (last.ckpt) to {file}: ", StringComparison.Ordinal));
        Assert.Equal(CliExport(Path.Combine(fixture.Models, "gru", "last.ckpt"), Path.Combine(fixture.Root, $"cli-{Guid.NewGuid():N}.safetensors")), File.ReadAllBytes(file));

        // The server's refusals, in its words; nothing is written for them.
        await Refused($"export gru {Path.Combine(folder, "c.safetensors")} checkpoint=cycle-1", "Model 'gru' has no checkpoint 'cycle-1'; it has best, last.");
        await Refused($"export no-such-model {Path.Combine(folder, "n.safetensors")}", "No model 'no-such-model' on this server");
        await Refused($"export gru {Path.Combine(folder, "gru.pt")}", $"{Path.Combine(folder, "gru.pt")} does not end in .safetensors");
        Assert.Equal(["gru.safetensors"], Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Export_through_a_symlink_writes_its_target_and_keeps_the_link()
    {
        var folder = UploadFolder();
        Directory.CreateDirectory(Path.Combine(folder, "exports"));
        var target = Path.Combine(folder, "exports", "gru.safetensors");
        var link = Path.Combine(folder, "latest.safetensors");
        File.CreateSymbolicLink(link, Path.Combine("exports", "gru.safetensors")); // not there yet: a new file, as for cp
        await Runner.RunLineAsync($"export gru {link}");
        Assert.Empty(_output.Errors);
        Assert.Equal(Path.Combine("exports", "gru.safetensors"), new FileInfo(link).LinkTarget);
        Assert.Equal(CliExport(Path.Combine(fixture.Models, "gru", "best.ckpt"), Path.Combine(fixture.Root, $"cli-{Guid.NewGuid():N}.safetensors")), File.ReadAllBytes(target));
        Assert.Equal(["gru.safetensors"], Directory.GetFiles(Path.Combine(folder, "exports")).Select(Path.GetFileName)); // no temp file left

        await Refused($"export gru {link} checkpoint=last", $"{link} exists; add force=true to replace it, or give another file name.");
        await Runner.RunLineAsync($"export gru {link} checkpoint=last force=true");
        Assert.Equal(Path.Combine("exports", "gru.safetensors"), new FileInfo(link).LinkTarget);
        Assert.Equal(CliExport(Path.Combine(fixture.Models, "gru", "last.ckpt"), Path.Combine(fixture.Root, $"cli-{Guid.NewGuid():N}.safetensors")), File.ReadAllBytes(target));
    }

    [Fact]
    public async Task Export_refuses_a_download_whose_sha256_or_size_is_not_the_servers_and_writes_nothing()
    {
        var folder = UploadFolder();
        var file = Path.Combine(folder, "m.safetensors");
        File.WriteAllText(file, "the old file");
        var (head, tail) = (Google.Protobuf.ByteString.CopyFromUtf8("safetensors "), Google.Protobuf.ByteString.CopyFromUtf8("bytes"));
        var length = head.Length + tail.Length;
        var good = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([.. head, .. tail]));
        // The size comes in the first message, the SHA-256 in the last: each is checked where it comes.
        foreach (var (chunks, said) in new[]
                 {
                     (new[] { new ExportModelChunk { Data = head, TotalBytes = length, Checkpoint = "best.ckpt" }, new ExportModelChunk { Data = tail, Sha256 = new string('0', 64) } },
                         $"export m: The download of model 'm' does not match the server's SHA-256 ({good} received, {new string('0', 64)} announced); nothing was written. Try again."),
                     (new[] { new ExportModelChunk { Data = head, TotalBytes = length, Sha256 = good, Checkpoint = "best.ckpt" }, new ExportModelChunk { Data = tail } },
                         "export m: The download of model 'm' came without the server's SHA-256 (due in its last message); nothing was written. Try again."),
                     (new[] { new ExportModelChunk { Data = head, TotalBytes = length + 5, Checkpoint = "best.ckpt" }, new ExportModelChunk { Data = tail, Sha256 = good } },
                         $"export m: The download of model 'm' has {length:N0} bytes where the server announced {length + 5:N0}; nothing was written. Try again."),
                 })
        {
            using var client = new Client.CharRnnClient(new CannedExportInvoker(chunks), new Uri("http://127.0.0.1:1"));
            var output = new RecordingReplOutput();
            await new CommandRunner(client, output, interactive: true).RunLineAsync($"export m {file} force=true");
            Assert.Equal([said], output.Errors);
            Assert.Equal("the old file", File.ReadAllText(file));
            Assert.Equal(["m.safetensors"], Directory.GetFiles(folder).Select(Path.GetFileName)); // its temp file removed
        }
    }

    [Fact]
    public async Task Train_and_resume_name_the_settings_of_the_servers_warnings_as_the_repls_keys()
    {
        // As a server sends them: the sentence in the proto's words, and the same in parts.
        static TrainingWarning.Types.Part Words(string text) => new() { Text = text };
        static TrainingWarning.Types.Part Setting(string name, params string[] values) => new() { Setting = name, Values = { values } };
        var warned = new Job
        {
            Id = "j-000000000001", ModelName = "m", Architecture = "stateful-gru",
            Warnings = { "epochs = 10 stops mid-cycle (epochs = 7 or 15 ends at a cycle's end).", "learning_rate = 0: as learning_rate = [0, 1e-3, 1e-3] does", "later_key = 3 is new" },
            WarningParts =
            {
                new TrainingWarning { Parts = { Setting("epochs", "10"), Words(" stops mid-cycle ("), Setting("epochs", "7 or 15"), Words(" ends at a cycle's end).") } },
                new TrainingWarning { Parts = { Setting("learning_rate", "0"), Words(": as "), Setting("learning_rate", "0", "1e-3", "1e-3"), Words(" does") } },
                new TrainingWarning { Parts = { Setting("later_key", "3"), Words(" is new") } }, // a setting this client has no key for
            },
        };
        await AssertTrainAndResumeWarn(warned, ["warning: epochs=10 stops mid-cycle (epochs=7 or 15 ends at a cycle's end).", "warning: lr=0: as lr=0,1e-3,1e-3 does", "warning: later_key = 3 is new"]);
    }

    /// <summary>
    /// The warning lines of a resume and of a train whose StartJob answers <paramref name="job"/>, each once: the watch's
    /// queued and started events carry the same warnings (JobEvent.Queued.warnings), which the REPL shows from the Job.
    /// </summary>
    private static async Task AssertTrainAndResumeWarn(Job job, string[] warnings)
    {
        foreach (var line in new[] { "resume m", "train stateful-gru name=m" })
        {
            using var client = new Client.CharRnnClient(new CannedJobInvoker(job), new Uri("http://127.0.0.1:1"));
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            await using var runner = new CommandRunner(client, new ConsoleReplOutput(stdout, stderr), interactive: false);
            await runner.RunLineAsync(line);
            Assert.Equal("", stderr.ToString());
            var lines = stdout.ToString().Split(Environment.NewLine);
            Assert.True(lines.Any(l => l.StartsWith("started on cpu", StringComparison.Ordinal)), stdout.ToString()); // the events were shown
            Assert.Equal(warnings, lines.Where(l => l.Contains("warning", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task Attach_and_stop_take_the_start_of_a_jobs_id_and_name_the_jobs_it_starts_when_several_do()
    {
        // An id copied short, as git takes the start of a hash: 'No job' said nothing of the one it starts.
        var job = new Job { Id = "j-b78f0a1c2d3e", ModelName = "m", Architecture = "stateful-gru", State = Job.Types.State.Running };
        using var client = new Client.CharRnnClient(new CannedJobInvoker(job), new Uri("http://127.0.0.1:1"));
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(client, output, interactive: false);
        await runner.RunLineAsync("attach j-b78f");
        Assert.Empty(output.Errors);
        Assert.Contains(output.Events, e => e.JobId == job.Id && e.EventCase == JobEvent.EventOneofCase.Finished); // watched to its end
        await runner.RunLineAsync("stop j-b7");
        Assert.Empty(output.Errors);
        Assert.Equal($"job {job.Id} stopped", output.Lines.Last()); // named in full
        await runner.RunLineAsync("attach j-c0");
        Assert.Equal(["No job 'j-c0' (by id or model name). jobs lists them."], output.Errors);

        Job[] jobs = [job, new() { Id = "j-b7aa00000000", ModelName = "n", State = Job.Types.State.Queued, QueuePosition = 1 }, new() { Id = "j-0000", ModelName = "j-b7" }];
        Assert.Equal("j-b78f0a1c2d3e", CommandRunner.JobStartingWith(jobs, "j-b78")?.Id);
        Assert.Null(CommandRunner.JobStartingWith(jobs, "j-")); // the prefix of every id, no start of one
        Assert.Equal("'j-b7' starts 2 jobs' ids: j-b78f0a1c2d3e (m, running), j-b7aa00000000 (n, queued (1st)); type more of it.",
            Assert.Throws<CommandException>(() => CommandRunner.JobStartingWith(jobs, "j-b7")).Message);
    }

    [Fact]
    public async Task Train_and_resume_show_the_servers_warnings_as_it_words_them_and_none_it_does_not_send()
    {
        // Words no client works out: the lines show what StartJob's Job says, not warnings of their own.
        var warned = new Job { Id = "j-000000000001", ModelName = "m", Architecture = "stateful-gru", Warnings = { "the server's first warning", "its second" } };
        await AssertTrainAndResumeWarn(warned, ["warning: the server's first warning", "warning: its second"]); // a server older than Job.warning_parts
        // A server older than Job.warnings sends none; the line warns of nothing, though its every rate is 0.
        using (var client = new Client.CharRnnClient(new CannedJobInvoker(new Job { Id = "j-000000000002", ModelName = "m" }), new Uri("http://127.0.0.1:1")))
        {
            var output = new RecordingReplOutput();
            await using var runner = new CommandRunner(client, output, interactive: false);
            await runner.RunLineAsync("resume m lr=0");
            Assert.Empty(output.Errors);
            Assert.DoesNotContain(output.Lines, l => l.StartsWith("warning: ", StringComparison.Ordinal));
        }
    }
}
