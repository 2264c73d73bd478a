using System.Globalization;
using CharRnn.Protos.V1;
using CharRnn.Tui.Repl;
using Terminal.Gui.Drawing;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Views;

/// <summary>
/// Generate: sampling settings and a prime, text appearing character by character (optionally
/// coloured by the model's confidence), continue / fork / reset, and a side-by-side comparison
/// pane. Every button runs the REPL command it stands for, so the log teaches the commands.
/// </summary>
public sealed class GenerateView : View
{
    private readonly Func<string, Task> _run;
    private readonly Label _session = new() { X = 0, Y = 0, Width = Dim.Fill(), HotKeySpecifier = HotKeys.None, Text = NoModel };
    private readonly ShellTextField _temperature = new() { Text = "0.8" };
    private readonly ShellTextField _topK = new() { Text = "0" };
    private readonly ShellTextField _topP = new() { Text = "1" };
    private readonly ShellTextField _minP = new() { Text = "0" };
    private readonly ShellTextField _seed = new() { Text = "" };
    private readonly ShellTextField _count = new() { Text = "300" };
    // A paste is the prime's text as copied, its line breaks too, written as Begin writes a gen's prime (Unescape reads it back).
    private readonly ShellTextField _prime = new() { Text = "for thos", MarksTextCutAtTheEdge = true, PasteInto = (_, pasted) => BackslashEscapes.Escape(pasted.ReplaceLineEndings("\n")) };
    private readonly FlowRows _settings, _buttons;

    /// <summary>The session's row with none open: whole in the 40 columns the screen takes (its longer form wrapped below 64).</summary>
    internal const string NoModel = "No model in use: F2 to pick, or use NAME";

    /// <summary>The seed field's width: a seed's most digits (a 64-bit one, as `set seed=` takes) and the cursor after them.</summary>
    internal const int SeedWidth = 21;
    private readonly CheckBox _colour = new() { Text = "colour" }; // no hotkey: a stray "l" on another tab would toggle it
    private readonly FrameView _leftFrame, _rightFrame;

    public GenerateView(Func<string, Task> run)
    {
        _run = run;
        Title = "Generate";
        HotKeySpecifier = HotKeys.None; // a title hotkey fires on its bare letter from any tab that does not take it; F2–F6 switch tabs
        Width = Dim.Fill();
        Height = Dim.Fill();
        // One row with min-p took 87 columns, past the 76 inside an 80-column terminal; with room for a seed's
        // 20 digits the settings flow onto as many rows as the width needs (a field is never cut at the edge:
        // at 60 columns the seed was), then the count and the prime together, as the command reads (gen 300 "for thos").
        // Wrapped at spaces as the width changes: one row cut the session's id at the edge below 58 columns.
        _session.Height = Dim.Func(_ => SessionLines().Count);
        _session.FrameChanged += (_, _) => WrapSessionRow();
        Add(_session);
        _settings = new FlowRows(this, _session);
        _settings.Add("temperature", _temperature, 5);
        _settings.Add("top-k", _topK, 4);
        _settings.Add("top-p", _topP, 4);
        _settings.Add("min-p", _minP, 5); // 0.05 and the cursor after it
        _settings.Add("seed", _seed, SeedWidth);
        _settings.Add("chars", _count, 8); // 1000000 and the cursor after it
        _settings.AddFilling("prime", _prime, 24, withPrevious: true); // a row of their own where the prime would get less
        // No letter hotkeys on these buttons: Terminal.Gui fires a bare letter's hotkey from any
        // tab that does not take the key, so a stray "r" on another tab would reset the session.
        // The buttons get rows of their own: beside the prime they left it a few columns on a small terminal. They flow
        // as the settings do: below 80 columns Compare and the colour checkbox were cut off at the edge.
        var generate = new Button { Text = "Generate", IsDefault = true };
        var more = new Button { Text = "Continue" };
        var fork = new Button { Text = "Fork" };
        var reset = new Button { Text = "Reset" };
        var compare = new Button { Text = "Compare t+0.5" };
        _buttons = new FlowRows(this, _prime, rowStep: 2);
        foreach (var button in new[] { generate, more, fork, reset, compare }) _buttons.Add(Monochrome.Unshadowed(button), gap: 0);
        // After the buttons, not the settings: the settings row (a nine-digit seed) left it no room in an 80-column terminal, and it fell off its end.
        _buttons.Add(_colour, gap: 2);
        // Titles are model names, which may hold '_': no hotkey specifier.
        _leftFrame = new FrameView { Title = "Output", X = 0, Y = OutputRow, Width = Dim.Fill(), Height = Dim.Fill(), HotKeySpecifier = HotKeys.None };
        _rightFrame = new FrameView { Title = "Comparison", X = Pos.Percent(50), Y = OutputRow, Width = Dim.Fill(), Height = Dim.Fill(), Visible = false, HotKeySpecifier = HotKeys.None };
        Panes = [new StreamTextView { Width = Dim.Fill(), Height = Dim.Fill(), ScrollsByKeyboard = true }, new StreamTextView { Width = Dim.Fill(), Height = Dim.Fill(), ScrollsByKeyboard = true }];
        _leftFrame.Add(Panes[0]);
        _rightFrame.Add(Panes[1]);
        // Added in reading order, which is Tab's: the checkbox added before the prime was the stop after "chars", on the row below.
        Add(_leftFrame, _rightFrame);
        // From a field or a button, PgUp/PgDn scroll the output (in it, the arrows too): the text is what one reads back.
        KeyDown += (_, key) =>
        {
            if (key.Handled || (key != Terminal.Gui.Input.Key.PageUp && key != Terminal.Gui.Input.Key.PageDown)) return;
            ScrollPage(older: key == Terminal.Gui.Input.Key.PageUp);
            key.Handled = true;
        };

        generate.Accepting += (_, e) => { e.Handled = true; Run($"{Settings()}; gen {Count()} {Prime()}"); };
        _prime.Accepting += (_, e) => { e.Handled = true; Run($"{Settings()}; gen {Count()} {Prime()}"); };
        more.Accepting += (_, e) => { e.Handled = true; Run($"{Settings()}; gen {Count()}"); };
        fork.Accepting += (_, e) => { e.Handled = true; Run("fork"); };
        reset.Accepting += (_, e) => { e.Handled = true; Run("reset"); };
        compare.Accepting += (_, e) =>
        {
            e.Handled = true;
            var t = double.TryParse(_temperature.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v + 0.5 : 1.3;
            Run(string.Create(CultureInfo.InvariantCulture, $"{Settings()}; compare t={t:0.##} {Count()} {Prime()}"));
        };
        _colour.ValueChanged += (_, _) =>
        {
            foreach (var p in Panes) { p.ColorByProbability = _colour.Value == CheckState.Checked; p.SetNeedsDraw(); }
        };
    }

    private string _sessionText = NoModel;

    /// <summary>The session's row in the lines its width needs (its label's own wrap kept it one row high and cut the id).</summary>
    private void WrapSessionRow()
    {
        var text = string.Join("\n", SessionLines());
        if (_session.Text != text) _session.Text = text; // setting it again would lay out again
    }

    /// <summary>The row's lines at the screen's width (the label fills it), known before the label is laid out.</summary>
    private List<string> SessionLines() => WordWrap.Lines(_sessionText, Math.Max(1, Viewport.Width), 3);

    /// <summary>Under the buttons, which are under the settings: both take more rows on a narrow screen.</summary>
    private Pos OutputRow => Pos.Func(_ => _buttons.Bottom, _prime);

    /// <summary>The least rows the screen is usable in at its present width: the settings, the buttons and two rows of output.</summary>
    internal int LeastRows => _buttons.Bottom + 4;

    /// <summary>A page of the output (and of the comparison, when open) towards older text or back towards the tail.</summary>
    public void ScrollPage(bool older)
    {
        foreach (var pane in Panes) pane.ScrollPage(older);
    }

    /// <summary>Pane 0: the session's text; pane 1: the comparison.</summary>
    public StreamTextView[] Panes { get; }

    /// <summary>The comparison pane is open beside the output (after compare, until the next gen).</summary>
    public bool Comparing => _rightFrame.Visible;

    public static Attribute PrimeStyle => Monochrome.Or(new(Color.White, Color.Black, TextStyle.Bold), TextStyle.Bold);
    private static Attribute MarkStyle => Monochrome.Or(new(Color.DarkGray, Color.Black), TextStyle.Faint);

    public void ShowSession(Session? session, string? how = null)
    {
        // Another session (use, fork, back, a reopen) or a reset one: its text starts on a line of its own.
        // New settings (set, each button press) leave the text to carry on.
        if (session == null || how != null || session.Id != _shownSessionId || session.CharactersSeen == 0 || session.CharactersSeen < _shownSeen)
        {
            _continuing[0] = null;
            _mark = session == null ? null : $"{session.ModelName} · {how ?? (session.Id != _shownSessionId ? "new session" : "reset")}";
        }
        var previousId = _shownSessionId;
        (_shownSessionId, _shownSeen) = (session?.Id, session?.CharactersSeen ?? 0);
        _sessionText = session == null
            ? NoModel
            : $"model {session.ModelName} ({session.Architecture}) · session {session.Id}";
        WrapSessionRow();
        if (session != null)
        {
            // Another model's session (use) shows its own values: an edit not sent was for the session before.
            if (how == null && session.Id != previousId) _shown.Clear();
            Show(_temperature, session.Sampling.Temperature.ToString(CultureInfo.InvariantCulture)); // as set, not rounded: each button press sends it back
            Show(_topK, session.Sampling.TopK.ToString(CultureInfo.InvariantCulture));
            Show(_topP, session.Sampling.TopP.ToString(CultureInfo.InvariantCulture));
            Show(_minP, session.Sampling.MinP.ToString(CultureInfo.InvariantCulture));
            Show(_seed, session.Sampling.Seed.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Shows the session's value in a field. An edit not yet sent stays while the session's value is
    /// the one shown before (typed, then Fork or Reset pressed: it goes with the next Generate or
    /// Continue); a value that changed (`set` at the prompt) is shown over it.
    /// </summary>
    private void Show(TextField field, string value)
    {
        if (!_shown.TryGetValue(field, out var shown) || field.Text == shown || value != shown) field.Text = value;
        _shown[field] = value;
    }

    private readonly Dictionary<TextField, string> _shown = []; // the session's values as shown: the seed is sent back only once edited
    private string? _shownSessionId;
    private long _shownSeen;

    /// <summary>
    /// A stream is about to start in a pane (its thread): its prime is shown with its first char
    /// (<see cref="Write"/>), so that a prime the server refuses is not shown as if it had been used.
    /// </summary>
    public void BeginText(int pane, string label, string prime)
    {
        lock (_pending)
        {
            _pending[pane] = (label, prime);
            // A comparison starts both panes afresh, so that the two texts stand side by side (its pane 0 starts
            // just before its pane 1; a plain gen drops a clear a failed comparison left).
            _clear[pane] = false;
            if (pane == 1) _clear[0] = _clear[1] = true;
        }
    }

    /// <summary>Generated text for a pane (the stream's thread), after the prime it continues when it is the first.</summary>
    public void Write(int pane, string text, float probability)
    {
        (string Label, string Prime)? start;
        bool clear;
        lock (_pending)
        {
            (start, clear) = (_pending[pane], _clear[pane]);
            (_pending[pane], _clear[pane]) = (null, false);
        }
        if (start is var (label, prime))
        {
            if (clear) Panes[pane].Clear();
            // A gen without a prime on the session the pane shows (Continue) carries on its text where it
            // stopped, mid-word as the model left it; a prime starts a line of its own; another model,
            // session (use, fork, back) or a reset one is marked, so that texts of different states do not run together.
            var another = _continuing[pane] != label;
            if (another && !Panes[pane].IsEmpty) Panes[pane].Append($"\n── {(pane == 0 ? _mark : null) ?? label} ──", -1, MarkStyle);
            if (pane == 0) _mark = null;
            // A line of its own under earlier text; a pane a comparison cleared starts on its first row, as the
            // other pane does (it was one row lower when only its label had changed since the last comparison).
            if ((prime.Length > 0 || another) && !Panes[pane].IsEmpty) Panes[pane].Append("\n");
            _continuing[pane] = label;
            if (prime.Length > 0) Panes[pane].Append(prime, -1, PrimeStyle);
        }
        Panes[pane].Append(text, probability);
    }

    private readonly (string Label, string Prime)?[] _pending = new (string, string)?[2];
    private readonly bool[] _clear = new bool[2];
    private volatile string? _mark; // what changed for the main pane's next text: another session, or a reset

    /// <summary>Shows a stream's pane and what it ran; the comparison pane opens beside the first when used.</summary>
    public void Begin(int pane, string label, string prime, int count)
    {
        // The fields show what ran, typed at the prompt or not: the buttons then run it again.
        _count.Text = count.ToString(CultureInfo.InvariantCulture);
        if (prime.Length > 0) _prime.Text = BackslashEscapes.Escape(prime);
        // A plain gen starts pane 0 alone and takes the whole width; compare starts pane 1 right after.
        if (pane == 0 && _rightFrame.Visible)
        {
            _leftFrame.Width = Dim.Fill();
            _rightFrame.Visible = false;
        }
        if (pane == 1 && !_rightFrame.Visible)
        {
            _leftFrame.Width = Dim.Percent(50);
            _rightFrame.Visible = true;
        }
        (pane == 0 ? _leftFrame : _rightFrame).Title = label;
        // A new stream is shown as it comes, as the log returns to its end on a new command: scrolled back, its
        // text went on out of sight, below "newer below: PgDn", as if the gen had done nothing.
        Panes[pane].ScrollToEnd();
    }

    /// <summary>The label of each pane's last stream while the next may continue it (null: the next starts a line).</summary>
    private readonly string?[] _continuing = new string?[2];

    public void Refresh()
    {
        foreach (var p in Panes) p.RedrawIfChanged();
    }

    private void Run(string line) => _ = RunThenShowInForce(line);

    /// <summary>
    /// The prime field as a quoted argument. The field reads \n, \t and \\ as the command line does inside double quotes,
    /// and shows a gen's prime so (<see cref="Begin"/>): a one-line field kept a prime's first line only, which the buttons then ran.
    /// </summary>
    private string Prime() => CommandParser.Quote(BackslashEscapes.Unescape(_prime.Text));

    /// <summary>
    /// Runs a button's line; then a setting it sent that was refused (set t=abc) shows the value in force again: the field
    /// kept the bad text, even after `use` opened a new session. A field typed in meanwhile keeps what was typed.
    /// </summary>
    private async Task RunThenShowInForce(string line)
    {
        var sent = SettingFields.ToDictionary(f => f, f => f.Text);
        await _run(line);
        App?.Invoke(() =>
        {
            foreach (var (field, text) in sent)
                if (field.Text == text && _shown.TryGetValue(field, out var inForce) && text != inForce) field.Text = inForce;
        });
    }

    private TextField[] SettingFields => [_temperature, _topK, _topP, _minP, _seed];

    /// <summary>The temperature field (tests type into it).</summary>
    internal TextField TemperatureField => _temperature;

    /// <summary>The seed field (tests read where it is).</summary>
    internal TextField SeedField => _seed;
    internal Label SessionRow => _session;

    /// <summary>The min-p field (tests type into it).</summary>
    internal TextField MinPField => _minP;

    /// <summary>The prime field (tests paste into it).</summary>
    internal ShellTextField PrimeField => _prime;

    /// <summary>The prime and chars fields (tests read them).</summary>
    internal (string Prime, string Count) RequestFields => (_prime.Text, _count.Text);

    /// <summary>The `set` command the buttons run before generating, from the fields.</summary>
    internal string Settings()
    {
        // The seed the server drew is shown, not chosen: sending it back would restart the random
        // sequence at each press and pin it for later sessions. Emptied, it is seed= (a random one), as an emptied
        // field of the others is their default: set's key with nothing after its =.
        var seed = _seed.Text.Trim() is var typed && typed != _shown.GetValueOrDefault(_seed, "") ? $" seed={Value(typed)}" : "";
        return $"set t={Value(_temperature.Text)} k={Value(_topK.Text)} p={Value(_topP.Text)} min_p={Value(_minP.Text)}{seed}";
    }

    private string Count() => int.TryParse(_count.Text, out var n) && n > 0 ? n.ToString(CultureInfo.InvariantCulture) : "300";

    /// <summary>A field's text as one value of the command: quoted unless plainly a word, so that "1; delete m" is refused as a value, not run.</summary>
    private static string Value(string text) => text.Trim() is var t && t.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '-' or '_') ? t : CommandParser.Quote(t);

}
