using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;
using CharRnn.Tui.ViewModels;
using Grpc.Core;
using Terminal.Gui.App;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace CharRnn.Tui.Views;

/// <summary>
/// The charrnn screen: tabs for models, training, generation and the two games above the
/// command line, and a status bar. It is the REPL's output: results are handed to the right
/// pane (thread-safe buffers), and a fixed-rate render timer redraws what changed, so the UI
/// never waits on the network.
/// </summary>
public sealed class MainWindow : Window, IReplOutput
{
    public static readonly TimeSpan FrameInterval = TimeSpan.FromMilliseconds(40);

    private readonly ServerStatus _status;
    private readonly StatusLine _statusLine;
    private readonly StatusBar _statusBar;
    private readonly StatusBarKeys _keys;
    private readonly CtrlCKey _ctrlC;
    private Session? _session;
    private int _statusVersion = -1;

    public MainWindow(CharRnnClient client, ServerStatus status, CompletionSource completion, string serverLabel, CommandHistory? history = null)
    {
        _status = status;
        _statusLine = new StatusLine(status);
        Title = $"charrnn · {serverLabel}";
        BorderStyle = LineStyle.Single;
        // F2 ModelsView · F3 TrainingView (TrainingMonitor) · F4 GenerateView · F5 TypeWithModelView (InteractiveTyping) · F6 BeatTheModelView (BeatTheModelGame)
        Monitor = new TrainingMonitor();
        Typing = new InteractiveTyping(client);
        Game = new BeatTheModelGame(client);
        Runner = new CommandRunner(client, this, interactive: true)
        {
            HeldElsewhere = id => id == Typing.SessionId ? "the Type tab's" : id == Game.SessionId ? "the Beat tab's" : null,
        };

        Repl = new ReplView(completion, Runner.SubmitAsync, history)
        {
            X = 0, Y = Pos.Func(_ => Viewport.Height - ReplRows - 1), Width = Dim.Fill(), Height = Dim.Func(_ => ReplRows),
        };
        Models = new ModelsView(status, Repl.Submit);
        Training = new TrainingView(Monitor);
        Generate = new GenerateView(Repl.Submit);
        TypeView = new TypeWithModelView(Typing, () => _session?.ModelName);
        Beat = new BeatTheModelView(Game, CurrentModel, key => { Repl.Input.SetFocus(); Repl.Input.NewKeyDownEvent(key); });
        Tabs = new Tabs { X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Func(_ => Math.Max(0, Viewport.Height - ReplRows - 1)) };
        Tabs.Add(Models, Training, Generate, TypeView, Beat);
        // PgUp/PgDn from the command line scroll the generated text while the Generate screen shows it (the log: the mouse wheel),
        // unless F7 made the log the tall one: then it is what the user reads.
        Repl.PageKeys = older =>
        {
            if (Tabs.Value != Generate || TallLog) return false;
            Generate.ScrollPage(older);
            return true;
        };
        foreach (var tab in new View[] { Models, Training, Generate, TypeView, Beat })
            tab.KeyDown += (_, key) => TabFocus.KeepInTab(tab, key);
        Tabs.DrawingSubViews += (_, _) => DrawEveryTab();

        // Help and Quit first; every key fits, in a shorter form where the wide one does not (StatusBarKeys),
        // and the connection's words get the columns they leave. The screens' keys are named by the tab headers, in the same
        // order: a narrow bar shows them bare.
        _keys = new StatusBarKeys(
            (new Shortcut(Key.F1, "Help", ShowHelp, ""), "Help", false),
            (new Shortcut(Key.Q.WithCtrl, "Quit", Quit, ""), "Quit", false),
            (new Shortcut(Key.F7, "Log", ToggleTallLog, ""), "Log", false),
            (_statusLine.Item, null, false),
            (new Shortcut(Key.F2, "Models", () => SwitchTo(Models), ""), "Models", true),
            (new Shortcut(Key.F3, "Train", () => SwitchTo(Training), ""), "Train", true),
            (new Shortcut(Key.F4, "Generate", () => SwitchTo(Generate), ""), "Gen", true),
            (new Shortcut(Key.F5, "Type", () => SwitchTo(TypeView), ""), "Type", true),
            (new Shortcut(Key.F6, "Beat", () => SwitchTo(Beat), ""), "Beat", true));
        _statusBar = new StatusBar(_keys.Items);
        Add(Tabs, _tooSmall, Repl, _statusBar); // the notice after the tabs: drawn over the screen it stands for
        _tooSmall.TextFormatter.WordWrap = true;
        SubViewsLaidOut += (_, _) =>
        {
            SayIfTooSmall();
            _statusLine.Fit(_keys.Fit(_statusBar.Viewport.Width, _statusLine.Shortest));
            UnscrollHeadersThatFit();
        };
        _ctrlC = new CtrlCKey(Runner, Repl, _statusLine, playing: () => Playing, Quit);

        // Esc (Terminal.Gui's quit key) closes menus and dialogs but never the app: it stops a streaming
        // generation, or a command waiting on the server, and returns to the command line. From the
        // Type and Beat games it only returns: leaving a game must not stop a `gen` streaming meanwhile.
        KeyDown += (_, key) =>
        {
            // Text typed where no field takes it (the Train tab, a chart, a button) goes to the command line,
            // instead of being dropped until Esc: `stop` typed while watching a job must reach the prompt.
            if (!key.Handled && !Repl.Input.HasFocus && IsText(key))
            {
                Repl.Input.SetFocus();
                Repl.Input.NewKeyDownEvent(key);
                key.Handled = true;
                return;
            }
            // PgUp/PgDn that no view took (a screen with the focus after F3, or after its button started a job)
            // scroll what they scroll from the command line: they did nothing until Esc.
            if (!key.Handled && (key == Key.PageUp || key == Key.PageDown))
            {
                Repl.ScrollPage(older: key == Key.PageUp);
                key.Handled = true;
                return;
            }
            // Shift+Tab from the command line goes back into the shown screen, not to the tab headers, where arrows switch screens.
            if (!key.Handled && key == Key.Tab.WithShift && Repl.Input.HasFocus && Tabs.Value is { } shown)
            {
                Show(shown);
                key.Handled = true;
                return;
            }
            if (key != Key.Esc) return;
            if (!Playing) Runner.Interrupt();
            Repl.Input.SetFocus();
            key.Handled = true;
        };
    }

    /// <summary>Whether a game (Type, Beat) has the keyboard: typing is how it is played.</summary>
    private bool Playing => TypeView.HasFocus || Beat.HasFocus;

    private static bool IsText(Key key) => !key.IsCtrl && !key.IsAlt && key.AsRune.Value >= ' ' && key.AsRune.Value != 0x7f;

    /// <summary>
    /// The command pane's rows (the status bar takes one more): 9, fewer on a short terminal, where the tabs need
    /// them more, and a fifth of a tall one (11 at 60 rows), where a long error would otherwise scroll away at once.
    /// </summary>
    private int ReplRows => ReplRowsAt(Viewport.Height);

    /// <summary>The command pane's rows in a window <paramref name="height"/> rows high (inside its border).</summary>
    private int ReplRowsAt(int height) => TallLog ? Math.Max(NormalReplRowsAt(height), height * 2 / 3) : NormalReplRowsAt(height);

    private static int NormalReplRowsAt(int height) => Math.Clamp(height / 4, 5, Math.Max(9, height / 5));

    // Shown in place of a screen that does not fit: its clipped controls (a form with only its button,
    // Generate without its text) looked like a broken screen, with no hint that a larger terminal shows it.
    private readonly Label _tooSmall = new() { Visible = false, HotKeySpecifier = HotKeys.None };

    /// <summary>The least room (columns, rows inside the tab) each screen is usable in.</summary>
    private System.Drawing.Size MinimumSize(View screen) =>
        screen == Models ? new(72, 7) // the form, the lists beside it (the trained models under the architectures), the form's summary, a field, its error row and Train
        : screen == Training ? new(40, Training.LeastRows) // the job's lines (more while its state wraps), the progress bar and a chart with two rows
        : screen == Generate ? new(40, Generate.LeastRows) // settings and prime (more rows where narrow), buttons, and two rows of the output
        : screen == Beat ? new(30, 6) // the passage's row and the score's
        : screen == TypeView ? new(50, 7) // the hint's three rows and the colours' key's two (whole at 50 columns), a blank one and a row of the text
        : new(20, 3);

    /// <summary>
    /// After each layout: the notice over the shown screen when it is smaller than it needs, with the terminal size it needs.
    /// A screen left no rows (a terminal 12 rows high or less) gets it over the tab headers instead, and a notice with more
    /// words than rows is said shorter, the size first kept: it was cut to 'Terminal too small for this screen:' at 13 rows
    /// and not shown at all below that, leaving a blank band with no word of the size needed.
    /// </summary>
    private void SayIfTooSmall()
    {
        if (Tabs.Value is not { } screen || App?.Driver is not { } driver) return;
        var need = MinimumSize(screen);
        // The screen's own room, counted from its frame: its viewport stops at nothing, where the rows short are what counts.
        var adornments = screen.GetAdornmentsThickness();
        var have = new System.Drawing.Size(screen.Frame.Width - adornments.Horizontal, screen.Frame.Height - adornments.Vertical);
        var fits = have.Width >= need.Width && have.Height >= need.Height;
        // The notice's room: the screen's, or the tabs' whole frame (their headers) where the screen has none.
        var area = have.Width > 0 && have.Height > 0
            ? screen.ViewportToScreen(new System.Drawing.Rectangle(System.Drawing.Point.Empty, have))
            : Tabs.FrameToScreen();
        if (fits || area.Width <= 0 || area.Height <= 0)
        {
            _tooSmall.Visible = false;
            return;
        }
        // Rows added to the terminal go partly to the command pane (it grows with the window): count them out.
        var (columns, rows) = (driver.Cols + Math.Max(0, need.Width - have.Width), driver.Rows);
        for (var screenRows = have.Height; screenRows < need.Height; rows++)
            screenRows = have.Height + (rows + 1 - driver.Rows) - (ReplRowsAt(Viewport.Height + rows + 1 - driver.Rows) - ReplRows);
        var size = $"{columns}×{rows} (this one is {driver.Cols}×{driver.Rows}).";
        string[] forms =
        [
            $"Terminal too small for this screen: it needs {size}"
                + (TallLog ? " F7 gives it the command log's rows back." : "")
                + " F2–F6 switch screens; the command line below works.",
            $"Terminal too small for this screen: it needs {size}",
            $"Terminal too small: it needs {size}",
            $"Too small: needs {columns}×{rows}.",
        ];
        _tooSmall.Text = forms.FirstOrDefault(form => WordWrap.Lines(form, area.Width, int.MaxValue).Count <= area.Height) ?? forms[^1];
        var at = ScreenToViewport(area.Location);
        var frame = new System.Drawing.Rectangle(at, area.Size);
        if (_tooSmall.Frame != frame) // setting them again would lay out again
            (_tooSmall.X, _tooSmall.Y, _tooSmall.Width, _tooSmall.Height) = (frame.X, frame.Y, frame.Width, frame.Height);
        _tooSmall.Visible = true;
    }

    /// <summary>
    /// The tab headers' columns, as Terminal.Gui counts them (Tabs.GetTotalHeaderSpan, private): neighbours share an edge.
    /// Null before every header has been measured.
    /// </summary>
    private int? HeaderSpan
    {
        get
        {
            var lengths = Tabs.TabCollection.Select(tab => (tab.Border.View as BorderView)?.EffectiveTabLength ?? 0).ToList();
            return lengths.Count == 0 || lengths.Contains(0) ? null : lengths.Sum(length => length - 1) + 1;
        }
    }

    /// <summary>
    /// A terminal too narrow for the tab headers scrolls them to keep the shown one whole (Beat at 34 columns: one column, and
    /// a ◄ where Models' left edge was). Terminal.Gui keeps that scroll when the terminal grows back, so the headers stayed
    /// shifted under a stray ◄ at any width until another tab was picked: once they all fit, they are scrolled back.
    /// </summary>
    private void UnscrollHeadersThatFit()
    {
        if (Tabs.ScrollOffset > 0 && HeaderSpan is { } span && span <= Tabs.Viewport.Width) Tabs.ScrollOffset = 0;
    }

    /// <summary>F7: the command log takes two thirds of the window (a short terminal shows two lines of it), or its usual share again.</summary>
    public bool TallLog { get; private set; }

    private void ToggleTallLog()
    {
        TallLog = !TallLog;
        SetNeedsLayout();
    }

    public CommandRunner Runner { get; }
    public TrainingMonitor Monitor { get; }
    public InteractiveTyping Typing { get; }
    public BeatTheModelGame Game { get; }
    public Tabs Tabs { get; }
    public ReplView Repl { get; }
    public ModelsView Models { get; }
    public TrainingView Training { get; }
    public GenerateView Generate { get; }
    public TypeWithModelView TypeView { get; }
    public BeatTheModelView Beat { get; }

    /// <summary>The application's focus tracker, watched while this window runs (<see cref="OnIsRunningChanged"/>).</summary>
    private ApplicationNavigation? _navigation;

    /// <summary>
    /// The ┴ and corners where the tab headers meet the screen's top line are joined in the window's lines, from every tab's
    /// border at once. A focus move inside a screen (Tab in the Models form, F2 into its list) redrew that screen alone and
    /// its top line bare, "╰─────────" under the headers, until a resize redrew the window: while it runs, a focus move
    /// redraws the window. (The application, whose focus is watched, is known from here on, not in the constructor.)
    /// </summary>
    protected override void OnIsRunningChanged(bool newIsRunning)
    {
        base.OnIsRunningChanged(newIsRunning);
        if (_navigation != null) _navigation.FocusedChanged -= RedrawOnFocusMove;
        _navigation = newIsRunning ? App?.Navigation : null;
        if (_navigation != null) _navigation.FocusedChanged += RedrawOnFocusMove;
    }

    private void RedrawOnFocusMove(object? sender, EventArgs e) => SetNeedsDraw();

    /// <summary>
    /// Each tab's border adds its header's sides to the lines joined under the headers. A redraw in which only the shown tab
    /// drew (a Down in the trained-models list, which redraws the window but not the hidden tabs) joined its line with no
    /// other header's: "╰────" bare until a focus move or a resize redrew every tab. Every tab draws whenever the tabs do.
    /// </summary>
    private void DrawEveryTab()
    {
        foreach (var tab in Tabs.SubViews)
            if (!tab.NeedsDraw) tab.SetNeedsDraw();
    }

    /// <summary>One frame of the render loop (UI thread): views pull what changed.</summary>
    public bool RenderFrame()
    {
        Models.Refresh();
        Training.Refresh();
        TypeView.Refresh();
        Beat.Refresh();
        if (_status.Version != _statusVersion)
        {
            _statusVersion = _status.Version;
            while (_status.TakeNotice() is { } notice) Repl.Log.AppendLine(notice);
        }
        _statusLine.Show();
        Repl.Log.RedrawIfChanged();
        Generate.Refresh();
        return true;
    }

    /// <summary>Takes Ctrl+C for the whole app, before a text field takes it as Copy: see <see cref="CtrlCKey"/>.</summary>
    public void TakeCtrlC(IApplication app) => _ctrlC.Take(app);

    /// <summary>
    /// A terminal's paste goes where keys go: the focused field, else (a list, a chart, a button) the command line, as typed
    /// text does; a game takes its own. Terminal.Gui 2.5 gives it to the view its navigation last recorded as focused, which
    /// since the window started (or a dialog closed) is the command line's pane, not its field: every paste was dropped.
    /// </summary>
    public void TakePastes(IApplication app) => app.Paste += (_, paste) =>
    {
        if (app.TopRunnableView != this) return; // a dialog over the window (F1) has the keyboard
        if (MostFocused is not ShellTextField field)
        {
            if (Playing) return;
            Repl.Input.SetFocus();
            field = Repl.Input;
        }
        field.InsertPaste(paste.Text);
        paste.Handled = true;
    };

    /// <summary>
    /// Switches tab; the keyboard goes to the tab when the user asked for it, else stays on the
    /// command line. A switch the user did not ask for (a job or a stream starting) does not happen
    /// while they play on the Type or Beat tab: it would take their keys; F3/F4 show it.
    /// </summary>
    public void Show(View tab, bool focusTab = true)
    {
        if (!focusTab && tab != Tabs.Value && Playing) return;
        var typing = Repl.Input.HasFocus;
        Tabs.Value = tab;
        if (focusTab) TabFocus.Enter(tab, Repl);
        else if (typing) Repl.Input.SetFocus();
    }

    /// <summary>
    /// F2–F6. From the command line, F3 and F4 leave the keyboard there: what is typed next is still a command
    /// (`gen …` typed after F4 went into the temperature field, and Enter pressed Generate with it); Shift+Tab
    /// goes into the screen. F2 puts it in the trained-models list: ↑↓ pick a model and Enter uses it, where they
    /// walked the command history under a list that looked focused; text typed there still goes to the command
    /// line (a list takes no text). The games (F5, F6) take it: typing is how they are played. From a screen, the
    /// next one takes it: a hidden screen's field must not keep it. The trained-models list counts as the command
    /// line: typing there goes to it, and after F2, Enter (use), F4 the temperature field took `gen …`.
    /// </summary>
    private void SwitchTo(View tab)
    {
        // F2's list and the games hold the keyboard lent from the command line: leaving them for another screen gives it
        // back (after typing on the Type tab, F4 and `gen 300` Enter went into the temperature field and pressed Generate).
        View? lentTo = Models.ModelList.HasFocus ? Models : TypeView.HasFocus ? TypeView : Beat.HasFocus ? Beat : null;
        if (lentTo != null && tab != lentTo) Repl.Input.SetFocus();
        var fromCommandLine = Repl.Input.HasFocus;
        Show(tab, focusTab: !fromCommandLine || tab == Models || tab == TypeView || tab == Beat);
        if (fromCommandLine && tab == Models) Models.FocusModelList();
    }

    private (string Model, bool Lowercase)? CurrentModel()
    {
        if (_session == null) return null;
        var summary = _status.Models.FirstOrDefault(m => m.Name == _session.ModelName);
        return (_session.ModelName, summary?.Lowercase ?? false);
    }

    /// <summary>What F1 shows: the keys, then each command's usage and what it does.</summary>
    internal static string HelpText =>
        "Keys: F2 Models · F3 Train · F4 Generate · F5 Type with the model · F6 Beat the model · F7 a taller command log (again: as it was)\n" +
        "From the command line, F2 puts the keyboard in the trained-models list (↑↓ pick, Enter uses; what you type still goes to the command line), F3 and F4 leave it on the command line (from that list and the games too) and the games, F5 and F6, take it.\n" +
        "Tab/Shift+Tab go round the fields, lists and buttons of the screen (from the command line, Shift+Tab goes into it); the arrows move between them; Esc returns to the command line and stops a streaming gen " +
        "(from the Type and Beat games it only returns); Ctrl+Q quits.\n" +
        "Ctrl+C stops a streaming gen or a waiting command, else the watched training job (with a checkpoint), and clears a typed line; at an idle prompt, a second Ctrl+C within 2 s quits.\n" +
        "PgUp/PgDn (or the mouse wheel) scroll the command log, from anywhere but a list (it pages itself); on the Generate screen, PgUp/PgDn scroll the generated text (the mouse wheel, the log), unless F7 made the log tall.\n" +
        "Text typed where no field takes it goes to the command line; there and in the forms' fields Ctrl+U, Ctrl+K, Ctrl+W, Ctrl+A and Ctrl+E edit as in a shell.\n" +
        "At the prompt, Tab completes commands, names, keys, the values it knows and the files upload, import and export take; ↑↓ recall earlier lines (kept across runs).\n" +
        "A paste goes in at the cursor and runs nothing until Enter: at the prompt its lines become commands separated by ; and, inside an open double quote (gen 200 \" then the paste), " +
        "the whole paste is the prime's text, its line breaks as \\n and its quotes as \\\". Ctrl+V pastes the clipboard the same way.\n" +
        "Models: Enter on a model uses it; edit hyperparameters and press Train (arch NAME shows NAME's form).\n\n" +
        "Commands (help COMMAND says more; several go on one line separated by ;):\n\n" +
        string.Join("\n", CommandCatalog.All.Select(c => $"{c.Usage}\n    {c.Summary}"));

    private void ShowHelp()
    {
        using var help = new HelpDialog(HelpText, Quit);
        App!.Run(help);
    }

    // ---- IReplOutput: called from any thread -----------------------------------------------

    public void Line(string text) => Repl.Log.AppendLine(text);

    public void Error(string text) => Repl.Log.AppendLine("error: " + text, ReplView.Failure);

    public void GenerationStarted(int pane, string label, string prime, int count)
    {
        Generate.BeginText(pane, label, prime);
        App?.Invoke(() =>
        {
            Generate.Begin(pane, label, prime, count);
            if (pane == 0) Show(Generate, focusTab: false);
        });
    }

    public void Generated(int pane, string text, float probability) => Generate.Write(pane, text, probability);

    public void GenerationEnded(int pane) { }

    public void JobAttached(Job job)
    {
        Monitor.Attach(job);
        App?.Invoke(() =>
        {
            if (job.State == Job.Types.State.Queued) Models.JobStarted(job.ModelName);
            Show(Training, focusTab: false);
        });
    }

    public void JobEvent(JobEvent e)
    {
        Monitor.Add(e);
        if (e.EventCase is Protos.V1.JobEvent.EventOneofCase.Finished or Protos.V1.JobEvent.EventOneofCase.Stopped or Protos.V1.JobEvent.EventOneofCase.Failed)
        {
            // Where to go next: a model with weights saved can be used at once.
            var saved = e.EventCase == Protos.V1.JobEvent.EventOneofCase.Finished || (e.EventCase == Protos.V1.JobEvent.EventOneofCase.Stopped && e.Stopped.CheckpointSaved);
            Line($"job {e.JobId}: {Monitor.State}{(saved && Monitor.ModelName.Length > 0 ? $" · use {Monitor.ModelName} to generate from it" : "")}");
            _ = _status.RefreshAsync();
        }
        else if (e.EventCase == Protos.V1.JobEvent.EventOneofCase.CheckpointSaved) _ = _status.RefreshAsync();
    }

    public void JobDetached() => Monitor.Detach();

    public void JobWatchLost(bool lost) => Monitor.SetDisconnected(lost);

    public void ArchitectureShown(string name) => App?.Invoke(() => Models.SelectArchitecture(name));

    public void SessionChanged(Session? session, string? how = null)
    {
        _session = session;
        App?.Invoke(() => Generate.ShowSession(session, how));
    }

    public void QuitRequested() => App?.Invoke(Quit);

    /// <summary>The longest a quit waits for the running command to stop and the sessions to close.</summary>
    public static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private Task? _closing;

    /// <summary>
    /// Quit (Ctrl+Q, `quit`, a signal): stops the running command and closes the REPL's and the games'
    /// sessions, then stops the UI; a second quit stops it at once. The closing runs while the UI
    /// loop still does: a typed line's awaits resume on that loop, and once it has stopped they never
    /// would, so the sessions stayed open on a shared server and the quit waited out its timeout.
    /// </summary>
    public void Quit()
    {
        if (_closing != null) { Stop(); return; }
        _ = CloseAsync().WaitAsync(CloseTimeout).ContinueWith(_ => App?.Invoke(Stop), TaskScheduler.Default);
    }

    /// <summary>Stops the command that runs, its watch and streams, and closes the sessions (once; later calls get the same task).</summary>
    public Task CloseAsync() => _closing ??= CloseAllAsync();

    /// <summary>Whether a quit has begun closing (its time is already spent: what it left undone will not finish once the loop has stopped).</summary>
    public bool Closing => _closing != null;

    private async Task CloseAllAsync()
    {
        // At once, each on its own: one that hangs or fails must not keep the others' sessions open.
        static async Task Quietly(Func<Task> close)
        {
            try { await close(); } catch (Exception e) when (e is RpcException or OperationCanceledException) { }
        }
        await Task.WhenAll(Quietly(() => Runner.DisposeAsync().AsTask()), Quietly(() => Typing.DisposeAsync().AsTask()), Quietly(Game.StopAsync));
    }

    /// <summary>
    /// Stops the top-most runnable (a help box, if open) and this window: RequestStop() alone
    /// stopped only the help box, and a signal sent while it was open left charrnn running.
    /// </summary>
    private void Stop()
    {
        App?.RequestStop();
        App?.RequestStop(this);
    }
}
