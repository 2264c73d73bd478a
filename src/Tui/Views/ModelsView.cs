using System.Collections.ObjectModel;
using System.Globalization;
using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;
using CharRnn.Tui.ViewModels;
using Terminal.Gui.Drawing;
using Terminal.Gui.Text;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Views;

/// <summary>
/// Browse architectures and their hyperparameters, edit values (checked against each spec's
/// type and range as you type), pick the corpus and start training; and browse trained models
/// by validation loss (Enter uses one for generation).
/// </summary>
public sealed class ModelsView : View
{
    private readonly ServerStatus _status;
    private readonly Func<string, Task> _run;
    private readonly ObservableCollection<string> _architectureNames = [];
    private readonly ObservableCollection<string> _modelLines = [];
    private readonly ListView<string> _architectures = new() { Width = Dim.Fill(), Height = Dim.Fill() };
    private readonly FrameView _architecturesFrame = new() { Title = "Architectures", X = 0, Y = 0 };
    /// <summary>The architectures pane's columns beside the others: the longest name whole (<see cref="ShowArchitectures"/>).</summary>
    private int _architecturesWidth = 22;
    /// <summary>Columns the trained-models pane needs beside the others for a loss and a name ("0.131 gru stateful-gru", its borders).</summary>
    private const int ModelsPaneWidth = 26;

    /// <summary>The form's pane: half the tab, but never so narrow that a row's hint is cut (at 80 columns "1 to 2048" showed as "1 to 204").</summary>
    private int FormPaneWidth => Math.Max(Viewport.Width / 2, FormPaneMinWidth);

    /// <summary>
    /// Whether the trained models go under the architectures, in the column left of the form: side by side below some 99 columns of the window
    /// they had 11 columns at 80 ("gru state") and 7 at 76, where the left column has 33 and 29.
    /// </summary>
    private bool Stacked => Viewport.Width < _architecturesWidth + FormPaneWidth + ModelsPaneWidth;

    /// <summary>
    /// The architectures pane's rows when stacked: all of them where half the tab holds them, else half (it scrolls), and two
    /// at the least (a list of one row showed no scrollbar); the trained models get the rest.
    /// </summary>
    private int StackedArchitectureRows => Math.Min(_architectureNames.Count + 2, Math.Max(4, Viewport.Height / 2));
    private readonly ListView<string> _models = new() { Width = Dim.Fill(), Height = Dim.Fill() };
    private readonly FrameView _modelsFrame = new() { Title = "Trained models: val loss (Enter: use)", Height = Dim.Fill() };
    /// <summary>Columns a row needs for a loss and a name worth reading beside it; fewer, and the rows are names alone.</summary>
    private const int LossAndNameWidth = 20;
    private bool NamesOnly => _models.Viewport.Width is > 0 and < LossAndNameWidth;
    private int _rowsWidth = -1; // the list's width its rows were written for
    /// <summary>The models pane's title, widest first: the widest that fits is shown (at 120 columns the first read "… val loss (Enter:").</summary>
    private static readonly string[] ModelsTitles = ["Trained models: val loss (Enter: use)", "Models: val loss (Enter: use)", "Trained models: val loss", "Models: val loss"];

    /// <summary>The widest title that fits the pane beside its border's four columns (corners, "┤" and "├"); names alone, "Trained".</summary>
    private void ShowModelsTitle() => _modelsFrame.Title = NamesOnly ? "Trained"
        : ModelsTitles.FirstOrDefault(t => t.Length <= _modelsFrame.Frame.Width - 4) ?? ModelsTitles[^1];
    private readonly View _form = new() { Width = Dim.Fill(), Height = Dim.Fill(2), CanFocus = true };
    private readonly Label _error = new() { X = 0, Y = Pos.AnchorEnd(2), Width = Dim.Fill(), Height = 1, HotKeySpecifier = HotKeys.None };
    // No hotkey: Terminal.Gui fires a bare letter's hotkey from any tab that does not take the
    // key, and a stray "t" must not start a training job.
    private readonly Button _train = new() { Text = "Train", X = 0, Y = Pos.AnchorEnd(1) };
    private readonly List<(HyperParameterSpec Spec, TextField Field)> _fields = [];
    private TextField? _name, _corpus, _schedule;
    /// <summary>The row under the corpus field: the server's corpora (uploads too), or what is wrong with the one typed.</summary>
    private Label? _corpusChoices;
    private string? _shownArchitecture;
    private string _corpusDefault = KnownCorpusName;
    private int _formRows;
    private int _statusVersion = -1;
    private IReadOnlyList<ModelSummary> _modelList = [];

    public ModelsView(ServerStatus status, Func<string, Task> run)
    {
        _status = status;
        _run = run;
        Title = "Models";
        HotKeySpecifier = HotKeys.None; // a title hotkey fires on its bare letter from any tab that does not take it; F2–F6 switch tabs
        Width = Dim.Fill();
        Height = Dim.Fill();
        var archFrame = _architecturesFrame;
        archFrame.Width = Dim.Func(_ => Stacked ? Viewport.Width - FormPaneWidth : _architecturesWidth, this);
        archFrame.Height = Dim.Func(_ => Stacked ? StackedArchitectureRows : Viewport.Height, this);
        var formFrame = new FrameView { Title = "Hyperparameters", X = Pos.Right(archFrame), Y = 0, Width = Dim.Func(_ => FormPaneWidth, this), Height = Dim.Fill() };
        var modelFrame = _modelsFrame;
        modelFrame.X = Pos.Func(_ => Stacked ? 0 : _architecturesWidth + FormPaneWidth, this);
        modelFrame.Y = Pos.Func(_ => Stacked ? StackedArchitectureRows : 0, this);
        modelFrame.Width = Dim.Func(_ => Stacked ? Viewport.Width - FormPaneWidth : Math.Max(0, Viewport.Width - _architecturesWidth - FormPaneWidth), this);
        modelFrame.FrameChanged += (_, _) => ShowModelsTitle();
        _architectures.SetSource(_architectureNames);
        _models.SetSource(_modelLines);
        // No search as you type: a command typed while a list has the focus (`use gru`) goes to the
        // command line whole, instead of its letters selecting rows (an "s" picked seq-rnn and replaced the form).
        _architectures.KeystrokeNavigator = null;
        _models.KeystrokeNavigator = null;
        Monochrome.Unshadowed(_train);
        _error.SetScheme(new Scheme(Monochrome.Or(new Attribute(Color.BrightRed, Color.Black), TextStyle.Bold)));
        archFrame.Add(_architectures);
        formFrame.Add(_form, _error, _train);
        modelFrame.Add(_models);
        Add(archFrame, formFrame, modelFrame);

        // On a small terminal (80×24) the form is taller than its pane: it scrolls, and follows the focused field.
        _form.ViewportSettings |= ViewportSettingsFlags.HasVerticalScrollBar;
        // So does the list of architectures, once there are more than its pane holds: without a scrollbar, a list
        // scrolled to keep stateful-lstm in view hid char3 above it with no sign that there was more.
        _architectures.ViewportSettings |= ViewportSettingsFlags.HasVerticalScrollBar;
        _form.FrameChanged += (_, _) =>
        {
            FitFormContent();
            if (_form.HasFocus && _form.Focused is { } focused) ScrollFormTo(RowOf(focused)); // a resize keeps the field being edited in view
        };
        // A field places its cursor (in screen cells) when it gets the focus, before the form scrolls to it: moved
        // with the form, the cursor sat where the field had been, a row above it (typing went to the field below
        // it) or out of the pane, hidden.
        _form.ViewportChanged += (_, e) =>
        {
            if (_form.MostFocused is { Cursor.Position: { } at } focused)
                focused.Cursor = focused.Cursor with { Position = at with { X = at.X - e.NewViewport.X + e.OldViewport.X, Y = at.Y - e.NewViewport.Y + e.OldViewport.Y } };
        };
        // Only the rows in view draw. Terminal.Gui draws every subview and then keeps the views drawn after it out of
        // each one's whole frame: the rows scrolled above the pane kept the tab headers from drawing, and "Type" and
        // "Beat" were left blank on every screen until a relayout.
        _form.DrawingSubViews += (_, e) =>
        {
            e.Cancel = true;
            foreach (var v in _form.SubViews.Where(v => v.Visible && v.Frame.IntersectsWith(_form.Viewport)).Reverse()) v.Draw(e.DrawContext);
        };
        // A list shrunk (a small terminal, the "too small" notice) scrolled to keep its selection in view, and stayed
        // scrolled once it grew back: stateful-lstm at its top, nine architectures above it and empty rows below.
        _architectures.FrameChanged += (_, _) => ScrollToFit(_architectures);
        _models.FrameChanged += (_, _) =>
        {
            ScrollToFit(_models);
            if (_models.Viewport.Width != _rowsWidth) _statusVersion = -1; // the next frame's Refresh writes the rows anew, for this width
        };
        _architectures.ValueChanged += (_, _) => ShowForm();
        _train.Accepting += (_, e) => { e.Handled = true; StartTraining(); };
        _models.Accepting += (_, e) =>
        {
            e.Handled = true;
            if (_models.Index is int i && i < _modelList.Count) _ = _run($"use {_modelList[i].Name}");
        };
    }

    /// <summary>The form's field for a hyperparameter or training option (tests, scripting).</summary>
    internal TextField? Field(string name) => _fields.FirstOrDefault(f => f.Spec.Name == name).Field;

    internal bool CanTrain => _train.Enabled;

    /// <summary>Shows <paramref name="name"/>'s form (after `arch NAME`: the place to train it from), if it is listed.</summary>
    public void SelectArchitecture(string name)
    {
        if (_architectureNames.Contains(name)) _architectures.SelectedItem = name;
    }

    /// <summary>Gives the keyboard to the trained-models list (F2 from the command line).</summary>
    public void FocusModelList() => _models.SetFocus();

    /// <summary>The screen's lists and button (tests).</summary>
    internal ListView<string> ArchitectureList => _architectures;
    internal ListView<string> ModelList => _models;
    internal Button TrainButton => _train;

    /// <summary>The new model's name field, and the Train button's press (tests).</summary>
    internal TextField? NameField => _name;

    internal void PressTrain() => StartTraining();

    /// <summary>The model on the selected row of the trained-models list (tests).</summary>
    internal string? SelectedModel
    {
        get => _models.Index is int i && i < _modelList.Count ? _modelList[i].Name : null;
        set => _models.Index = _modelList.ToList().FindIndex(m => m.Name == value) is var i and >= 0 ? i : _models.Index;
    }

    /// <summary>Called by the render loop: picks up new server data.</summary>
    public void Refresh()
    {
        if (_status.Version == _statusVersion) return;
        _statusVersion = _status.Version;
        if (_status.Architectures is { } list && _architectureNames.Count == 0) ShowArchitectures(list);
        // The corpora listed after the form was made (or changed since): an untouched corpus field follows the default.
        if (_corpus != null && DefaultCorpus(_status.Corpora) is var corpus && corpus != _corpusDefault)
        {
            if (_corpus.Text.Trim() == _corpusDefault) _corpus.Text = corpus;
            _corpusDefault = corpus;
        }
        ShowCorpusChoices();
        // Best first; the loss first, the list's order (a long name in a narrow pane cut it off), then the name and
        // the training flag before the architecture. In a pane too narrow for both (80 columns: 9), the name alone:
        // "1.633 lst" on three rows told three models apart by nothing.
        var models = _status.Models.OrderBy(m => ModelLoss.Of(m) ?? double.MaxValue).ThenBy(m => m.Name, StringComparer.Ordinal).ToList();
        var lossShown = !NamesOnly;
        _rowsWidth = _models.Viewport.Width;
        var lines = models.Select(m => m.Error.Length > 0
            ? FitRow(lossShown ? "  -   " : "", m.Name, " (unreadable)", "", _rowsWidth)
            : FitRow(lossShown ? string.Create(CultureInfo.InvariantCulture, $"{ModelLoss.Of(m)?.ToString("F3", CultureInfo.InvariantCulture) ?? "  -",5} ") : "",
                m.Name, $"{(m.Training ? " training" : m.Queued ? " queued" : "")}{(m.Warning.Length > 0 ? " (damaged checkpoint)" : "")}",
                m.Architecture, _rowsWidth)).ToList();
        ShowModelsTitle();
        if (!lines.SequenceEqual(_modelLines))
        {
            // The selection follows its model, not its row: a model whose loss improves moves up the list.
            var selected = _models.Index is int k && k < _modelList.Count ? _modelList[k].Name : null;
            _modelLines.Clear();
            foreach (var l in lines) _modelLines.Add(l);
            _modelList = models;
            var index = models.FindIndex(m => m.Name == selected);
            if (index >= 0) _models.Index = index;
            else if (_models.Index is int row && row >= lines.Count) _models.Index = lines.Count > 0 ? lines.Count - 1 : null;
            else if (_models.Index == null && lines.Count > 0) _models.Index = 0; // the first Enter uses the best model, not nothing
            ScrollToFit(_models); // a new best model sorts to the top: never left hidden above rows that fit
        }
    }

    /// <summary>
    /// A row with its architecture, as much of it as fits <paramref name="width"/>: whole, else without the "stateful-" prefix
    /// every lesson model but three shares (at 96–110 columns "2.000 l1 training stateful-ls" lost it mid-word), else none,
    /// so the name before it stays whole. A name too long even alone is cut in its middle, "nietzsche…riment-1": the list
    /// clipped its end, with the marks after it ("2.350 stateful-lstm-1 tr" at 100 columns, a training model not said to
    /// be one), and a cut name passed for a whole one while names that share a long start read the same.
    /// </summary>
    internal static string FitRow(string loss, string name, string marks, string architecture, int width)
    {
        var row = loss + name + marks;
        const string Prefix = "stateful-";
        var shorter = architecture.StartsWith(Prefix, StringComparison.Ordinal) ? architecture[Prefix.Length..] : architecture;
        string[] forms = architecture.Length == 0 ? [row] : [$"{row} {architecture}", $"{row} {shorter}", row];
        if (width <= 0) return forms[0];
        if (forms.FirstOrDefault(r => r.Length <= width) is { } fits) return fits;
        var room = width - loss.Length - marks.Length;
        return room >= MinNameRoom ? loss + CutMiddle(name, room) + marks : row; // no room for a name worth reading: the list clips it
    }

    /// <summary>Columns a cut name needs to keep a char of its start and of its end around the ellipsis.</summary>
    private const int MinNameRoom = 3;

    /// <summary>The start and the end of <paramref name="name"/> around an ellipsis, in <paramref name="room"/> columns.</summary>
    private static string CutMiddle(string name, int room)
    {
        var head = room / 2;
        return $"{name[..head]}…{name[^(room - 1 - head)..]}";
    }

    /// <summary>Scrolls <paramref name="list"/> up as far as its selection allows: no empty rows below while rows above are hidden.</summary>
    private static void ScrollToFit(ListView<string> list)
    {
        var view = list.Viewport;
        if (view.Height <= 0) return;
        var top = Math.Max(0, Math.Min(view.Y, (list.Source?.Count ?? 0) - view.Height));
        if (list.Index is int i && i >= top + view.Height) top = i - view.Height + 1;
        if (top != view.Y) list.Viewport = view with { Y = top };
    }

    /// <summary>Fills the architectures list from the server's, once, and shows the default's form.</summary>
    internal void ShowArchitectures(ListArchitecturesResponse list)
    {
        if (list.Architectures.Count == 0)
        {
            // A server may list none (a build without models): nothing to pick or train, said where a refusal would be.
            _error.Text = "The server lists no architectures: there is nothing to train on it.";
            _train.Enabled = false;
            return;
        }
        foreach (var a in list.Architectures) _architectureNames.Add(a.Name);
        // Wide enough for the longest name whole, beside the borders and the scrollbar.
        _architecturesWidth = Math.Max(22, _architectureNames.Max(n => n.Length) + 3);
        SetNeedsLayout();
        _architectures.Index = Math.Max(0, _architectureNames.IndexOf("stateful-lstm"));
        ShowForm();
    }

    private const string KnownCorpusName = "nietzsche";

    /// <summary>
    /// The corpus the form offers first: the lesson's when the server has its text, else the first corpus it has (a
    /// server given only its own corpora, nietzsche not cached, refused the form's first Train), else the lesson's
    /// (fetched on first use).
    /// </summary>
    internal static string DefaultCorpus(IReadOnlyList<CorpusInfo>? corpora)
    {
        var available = corpora?.Where(c => c.Available).Select(c => c.Name).ToList() ?? [];
        return available.Contains(KnownCorpusName) || available.Count == 0 ? KnownCorpusName : available[0];
    }

    /// <summary>The form's corpus field (tests).</summary>
    internal TextField? CorpusField => _corpus;

    /// <summary>The line under the form: what is wrong with it, or why there is none (tests).</summary>
    internal string ErrorLine => _error.Text;

    private Architecture? Selected =>
        _status.Architectures?.Architectures.FirstOrDefault(a => _architectures.Index is int i && i < _architectureNames.Count && a.Name == _architectureNames[i]);

    private void ShowForm()
    {
        var arch = Selected;
        if (arch == null || arch.Name == _shownArchitecture) return;
        _shownArchitecture = arch.Name;
        foreach (var v in _form.SubViews.ToList()) { _form.Remove(v); v.Dispose(); }
        _fields.Clear();
        _rows.Clear();
        int row = 0;
        // As many rows as the summary and the lesson's class take wrapped at the form's width, the rows below after them:
        // two rows cut "(trained with SGDR)." off at 80 columns.
        _summary = arch.Summary + LessonClassText.Note(arch);
        var doc = new View { X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Func(_ => SummaryRows, _form) };
        doc.DrawingContent += (_, e) =>
        {
            var lines = WordWrap.Lines(_summary, doc.Viewport.Width, doc.Viewport.Height);
            doc.SetAttribute(doc.GetAttributeForRole(VisualRole.Normal));
            for (var i = 0; i < lines.Count; i++)
            {
                doc.Move(0, i);
                doc.AddStr(lines[i]);
            }
            e.Cancel = true;
        };
        _form.Add(doc);
        // Its hint is shorter than "true or false": the field takes the room left, so that a default name
        // ("stateful-lstm-1", 15 chars) is whole at 80 columns, where the others' fields have 12.
        _name = AddRow("name", FreeName(arch.Name), NameHint, ref row, hintRoom: NameHint.Length);
        // Up (or Left at its start) from the first field stays in the form: on to the architectures list, the
        // next Down picked the next architecture and replaced the form, what was typed in it with it (Shift+Tab reaches the list).
        _name.KeyDown += (_, key) =>
        {
            if (key == Terminal.Gui.Input.Key.CursorUp || (key == Terminal.Gui.Input.Key.CursorLeft && _name.InsertionPoint == 0)) key.Handled = true;
        };
        _corpusDefault = DefaultCorpus(_status.Corpora);
        _corpus = AddRow("corpus", _corpusDefault, "Tab completes", ref row);
        var corpusField = _corpus;
        _corpusChoices = new Label { X = LabelWidth + 1, Y = BelowSummary(row++), Width = Dim.Fill(), HotKeySpecifier = HotKeys.None };
        _form.Add(_corpusChoices);
        _corpusChoices.FrameChanged += (_, _) => ShowCorpusChoices(); // cut to the width it has
        // What was typed before Tab changed it: the names Tab cycles through start with it. Typing, or coming back to the
        // field, starts anew, so that Tab moves on from a whole name there as from every other field.
        string? stem = null;
        var completing = false;
        corpusField.TextChanged += (_, _) =>
        {
            if (!completing) stem = null;
            ShowCorpusChoices();
        };
        corpusField.HasFocusChanged += (_, _) => stem = null;
        // Tab completes a corpus name typed in part, as at the command line; again on a whole name it goes to the next that
        // starts with what was typed (Shift+Tab back), as shells cycle; with nothing to add or cycle to it moves on.
        corpusField.KeyDown += (_, key) =>
        {
            var back = key == Terminal.Gui.Input.Key.Tab.WithShift;
            if (key != Terminal.Gui.Input.Key.Tab && !back) return;
            var typed = corpusField.Text.Trim();
            stem ??= typed;
            var name = (back ? null : CorpusChoices.Complete(typed, _status.Corpora)) ?? CorpusChoices.Cycle(stem, typed, _status.Corpora, back);
            if (name == null) return;
            completing = true;
            corpusField.Text = name;
            completing = false;
            corpusField.InsertionPoint = new System.Globalization.StringInfo(name).LengthInTextElements;
            key.Handled = true;
        };
        ShowCorpusChoices();
        var training = _status.Architectures!.TrainingOptions.Where(o => o.Name is "epochs" or "max_steps" or "lr" or "lower" or "clip" or "patience" or "min_delta");
        foreach (var spec in arch.Hyperparameters.Concat(training))
        {
            var value = spec.Name == "lr" ? arch.DefaultLearningRate : spec.DefaultValue;
            _fields.Add((spec, AddRow(spec.Name, SpecText.Format(spec, value), SpecText.FormRange(spec), ref row)));
        }
        // Text the server checks (a refusal names what it takes, as for a corpus): the lesson's LSTM trained with SGDR.
        _schedule = AddRow("schedule", "constant", "or sgdr:…", ref row);
        foreach (var (_, field) in _fields) field.TextChanged += (_, _) => Validate();
        _formRows = row;
        FitFormContent();
        _form.Viewport = _form.Viewport with { Y = 0 };
        Validate();
        SetNeedsLayout();
    }

    private void ShowCorpusChoices()
    {
        if (_corpus == null || _corpusChoices == null) return;
        var line = CorpusChoices.Line(_corpus.Text.Trim(), _status.Corpora, _corpusChoices.Viewport.Width);
        if (_corpusChoices.Text != line) _corpusChoices.Text = line;
    }

    private void FitFormContent() => _form.SetContentSize(new System.Drawing.Size(Math.Max(1, _form.Viewport.Width), Math.Max(1, SummaryRows + _formRows)));

    /// <summary>The shown architecture's summary and lesson class, word-wrapped above the form's rows.</summary>
    private string _summary = "";

    /// <summary>The rows the summary takes wrapped at the form's width (at least one).</summary>
    private int SummaryRows => Math.Max(1, WordWrap.Lines(_summary, _form.Viewport.Width, int.MaxValue).Count);

    /// <summary>Each field's row under the summary.</summary>
    private readonly Dictionary<View, int> _rows = [];

    /// <summary>
    /// The row <paramref name="view"/> is on at the form's present width: its frame is the last layout's, a row short
    /// where the resize that asks wrapped the summary onto one more (the field scrolled to stayed out of view).
    /// </summary>
    private int RowOf(View view) => _rows.TryGetValue(view, out var row) ? SummaryRows + row : view.Frame.Y;

    /// <summary>The form's row <paramref name="row"/> under the summary, whatever rows the summary takes at the form's width.</summary>
    private Pos BelowSummary(int row) => Pos.Func(_ => SummaryRows + row, _form);

    /// <summary>Scrolls the form so that row <paramref name="row"/> is in view.</summary>
    private void ScrollFormTo(int row)
    {
        var view = _form.Viewport;
        // Back up to the first field, the summary above it comes into view with it.
        if (row < view.Y) _form.Viewport = view with { Y = row <= SummaryRows ? 0 : row };
        else if (view.Height > 0 && row >= view.Y + view.Height) _form.Viewport = view with { Y = row - view.Height + 1 };
    }

    private const int HintRoom = 13;
    /// <summary>A form row whole at the field's narrowest (12) and its hint's widest ("true or false"), with the pane's borders and scrollbar.</summary>
    private const int FormPaneMinWidth = 2 + LabelWidth + 1 + 12 + 1 + HintRoom + 1;
    private const int LabelWidth = 13; // "identity_init", the longest name, with a space after it
    private const string NameHint = "new folder";

    private TextField AddRow(string name, string value, string hint, ref int row, int hintRoom = HintRoom)
    {
        var label = new Label { Text = name, X = 0, Y = BelowSummary(row), Width = LabelWidth, HotKeySpecifier = HotKeys.None };
        // Narrower in a narrow pane, so that the hint beside it keeps room for "true or false" (or, given hintRoom, for its own shorter hint).
        var field = new ShellTextField { Text = value, X = LabelWidth + 1, Y = BelowSummary(row), Width = Dim.Func(_ => Math.Clamp(_form.Viewport.Width - LabelWidth - 2 - hintRoom, 12, 16), _form) };
        var help = new Label { Text = hint, X = Pos.Right(field) + 1, Y = BelowSummary(row), Width = Dim.Fill(), HotKeySpecifier = HotKeys.None };
        _form.Add(label, field, help);
        _rows[field] = row;
        // A value longer than its field (a name typed longer than its field at 80 columns) shows its start, not its end
        // ("eful-lstm-1", a TextField's cursor being at the end of what is set), unless the field has the keyboard:
        // then the cursor is at the end, as it was, so that what is typed goes after the value.
        ShowStart(field);
        field.TextChanged += (_, _) => { if (!field.HasFocus) ShowStart(field); };
        field.HasFocusChanged += (_, _) =>
        {
            if (!field.HasFocus) { ShowStart(field); return; }
            ScrollFormTo(RowOf(field));
            if (field.InsertionPoint == 0) field.InsertionPoint = field.Text.EnumerateRunes().Count();
        };
        // A field widened (a terminal that grew) scrolls back to its text's start once all of it fits: it went on showing "teful-lstm-1".
        field.FrameChanged += (_, _) =>
        {
            if (field.ScrollOffset == 0 || field.Viewport.Width <= field.Text.GetColumns()) return;
            var at = field.InsertionPoint;
            field.InsertionPoint = 0;
            field.InsertionPoint = at;
            field.SetNeedsDraw();
        };
        row++;
        return field;
    }

    private static void ShowStart(TextField field)
    {
        if (field.InsertionPoint == 0 && field.ScrollOffset == 0) return;
        field.InsertionPoint = 0;
        field.SetNeedsDraw();
    }

    /// <summary>The first problem with the form, shown in red; Train stays disabled until there is none.</summary>
    private string? Validate()
    {
        string? problem = null;
        foreach (var (spec, field) in _fields)
        {
            if (Parse(spec, field.Text) is null)
            {
                problem = $"{spec.Name} = '{field.Text}' is not allowed: {SpecText.FormRange(spec)}";
                break;
            }
        }
        _error.Text = problem ?? "";
        _train.Enabled = problem == null;
        return problem;
    }

    private void StartTraining()
    {
        if (Validate() != null || Selected is not { } arch) return;
        // Quoted as the command line reads them: a corpus or name with a space or a quote is one value.
        var parts = new List<string> { "train", arch.Name, $"name={CommandParser.Quote(_name!.Text.Trim())}", $"corpus={CommandParser.Quote(_corpus!.Text.Trim())}" };
        foreach (var (spec, field) in _fields)
        {
            var value = Parse(spec, field.Text)!.Value;
            var isDefault = spec.Name == "lr" ? value == arch.DefaultLearningRate : value == spec.DefaultValue;
            // The value as typed, not as shown (G4 would send lr=0.0001235 for 0.000123456).
            if (!isDefault) parts.Add($"{spec.Name}={(spec.Type == HyperParameterSpec.Types.Type.Float ? value.ToString(CultureInfo.InvariantCulture) : SpecText.Format(spec, value))}");
        }
        if (_schedule!.Text.Trim() is { Length: > 0 } schedule && !schedule.Equals("constant", StringComparison.OrdinalIgnoreCase))
            parts.Add($"schedule={CommandParser.Quote(schedule)}");
        _ = _run(string.Join(" ", parts));
    }

    /// <summary>The form's schedule field (tests).</summary>
    internal TextField? ScheduleField => _schedule;

    /// <summary>
    /// A job for a model started (UI thread): when the form names that model, it takes a free name, so that the
    /// next press trains another model. Not at the press: a name the server refused stays to be corrected.
    /// </summary>
    public void JobStarted(string modelName)
    {
        if (_name == null || _name.Text.Trim() != modelName || Selected is not { } arch) return;
        _name.Text = FreeName(arch.Name, taken: modelName);
    }

    /// <summary>ARCH-N for the first N no listed model (nor <paramref name="taken"/>) has.</summary>
    private string FreeName(string architecture, string? taken = null) => ModelNames.Free(architecture, _status.Models.Select(m => m.Name).Append(taken));

    private static double? Parse(HyperParameterSpec spec, string text)
    {
        var t = text.Trim();
        double value;
        if (spec.Type == HyperParameterSpec.Types.Type.Bool)
        {
            if (bool.TryParse(t, out var b)) value = b ? 1 : 0;
            else if (t is "0" or "1") value = t == "1" ? 1 : 0;
            else return null;
        }
        else if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return null;
        if (spec.Type == HyperParameterSpec.Types.Type.Int && Math.Floor(value) != value) return null;
        return value >= spec.Min && value <= spec.Max ? value : null;
    }
}
