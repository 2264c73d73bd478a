using System.Globalization;
using CharRnn.Tui.Cli;
using CharRnn.Tui.ViewModels;
using Terminal.Gui.Drawing;
using Terminal.Gui.Text;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Views;

/// <summary>
/// Watch training live: the loss (a dotted line) and validation loss (a mark per epoch), the learning
/// rate (SGDR's saw-tooth), progress, speed, ETA, and each epoch's sample text.
/// </summary>
public sealed class TrainingView : View
{
    private readonly TrainingMonitor _monitor;
    private readonly LineChart _loss = new("step", "loss", Color.BrightCyan, Color.BrightYellow);
    private readonly LineChart _learningRate = new("step", "lr", Color.BrightMagenta, Color.BrightMagenta);
    // Three short lines, not two long ones: at 80 columns a long line wrapped, and the label cut what the progress line said.
    // The first, the job's state, may be long (how it ended): it wraps onto rows of its own, and the rest move down.
    private readonly Label _stats = new() { X = 0, Y = 0, Width = Dim.Fill(), Height = 3, HotKeySpecifier = HotKeys.None };
    private readonly ProgressBar _progress = new() { X = 0, Width = Dim.Fill(), ProgressBarFormat = ProgressBarFormat.SimplePlusPercentage };
    private string _jobLine = "";
    private IReadOnlyList<string> _warnings = [];
    // Two rows of figures, each a figure with its rank (0 the most important): a narrow tab leaves out the least important whole.
    private (string Text, int Rank)[] _progressFigures = [], _lossFigures = [];
    private int _statsRows = 3;
    private readonly StreamTextView _samples = new() { Width = Dim.Fill(), Height = Dim.Fill(), NewestLineFromStart = true };
    private int _drawn = -1;
    private int _samplesShown;
    private int _samplesRestarted;

    public TrainingView(TrainingMonitor monitor)
    {
        _monitor = monitor;
        // A long state is cut at the edge, not wrapped over the lines below it.
        _stats.TextFormatter.WordWrap = false;
        _stats.TextFormatter.MultiLine = true;
        Title = "Train";
        HotKeySpecifier = HotKeys.None; // a title hotkey fires on its bare letter from any tab that does not take it; F2–F6 switch tabs
        Width = Dim.Fill();
        Height = Dim.Fill();
        // The charts get what the samples leave: 40% of the tab, on a short terminal only the newest sample's line,
        // and on a shorter one (80×24) nothing: a chart of two rows shows no curve.
        _progress.Y = Pos.Bottom(_stats);
        var chartRows = Dim.Func(_ => Math.Max(0, Viewport.Height - _stats.Frame.Height - 1 - (Viewport.Height < 16 ? 0 : Viewport.Height < 20 ? 3 : Viewport.Height * 2 / 5)));
        var lossFrame = new FrameView { Title = LossTitles[0], X = 0, Y = Pos.Bottom(_progress), Width = Dim.Percent(65), Height = chartRows };
        // The title is the chart's legend: at 80 columns the wide one was cut to "… validation at each epoch e".
        lossFrame.FrameChanged += (_, _) => FitTitle(lossFrame, LossTitles);
        _loss.Width = Dim.Fill();
        _loss.Height = Dim.Fill();
        lossFrame.Add(_loss);
        var lrFrame = new FrameView { Title = LearningRateTitles[0], X = Pos.Right(lossFrame), Y = Pos.Bottom(_progress), Width = Dim.Fill(), Height = chartRows };
        lrFrame.FrameChanged += (_, _) => FitTitle(lrFrame, LearningRateTitles);
        _learningRate.Width = Dim.Fill();
        _learningRate.Height = Dim.Fill();
        lrFrame.Add(_learningRate);
        var samplesFrame = new FrameView { Title = "Epoch samples", X = 0, Y = Pos.Bottom(lossFrame), Width = Dim.Fill(), Height = Dim.Fill() };
        samplesFrame.Add(_samples);
        Add(_stats, _progress, lossFrame, lrFrame, samplesFrame);
        // On the label's three rows (it does not wrap), each short enough for the screen's least width: one line was cut at 100 columns.
        _stats.Text = "No job watched. Train one:\ntrain stateful-lstm epochs=1 lower=true\nor watch a running one: jobs, attach ID";
        // A narrower or wider tab wraps the job's line anew.
        ViewportChanged += (_, e) => { if (e.NewViewport.Width != e.OldViewport.Width) ShowStats(); };
    }

    /// <summary>The job line word-wrapped to the tab's width (at most three rows: a failure's reason is cut after them), then the figures.</summary>
    private void ShowStats()
    {
        if (_jobLine.Length == 0) return;
        // A number keeps its unit on its row ("accuracy 50.3 %", not "50.3" then "%").
        var rows = WordWrap.Lines(_jobLine.Replace(" %", "\u00a0%", StringComparison.Ordinal), Math.Max(1, Viewport.Width), 3)
            .Select(r => r.Replace('\u00a0', ' ')).ToList();
        // The job's settings warnings under its line, each on at most two rows: the REPL said them once, in a log that scrolls on.
        foreach (var warning in _warnings) rows.AddRange(WordWrap.Lines("warning: " + warning, Math.Max(1, Viewport.Width), 2));
        // At 40–50 columns the figures' rows were cut mid-figure ("… lr 1.0e-3 · 112"): the step (the bar's percentage says as
        // much) and the learning rate (its chart shows it) are left out first, the loss and ETA last.
        var width = Math.Max(1, Viewport.Width);
        _stats.Text = string.Join("\n", rows) + "\n" + FiguresLine.Fit(_progressFigures, width) + "\n" + FiguresLine.Fit(_lossFigures, width);
        if (rows.Count + 2 == _statsRows) return;
        _statsRows = rows.Count + 2;
        _stats.Height = _statsRows; // a relayout only when the rows change: not on every progress report
    }

    /// <summary>
    /// The rows the tab needs: the job's line as wrapped now and the figures' two, the progress bar, and a chart pane with two
    /// rows inside its border. A fixed 8 counted the job's line as one row: a state wrapped onto three left the charts none.
    /// </summary>
    internal int LeastRows => _statsRows + 1 + 4;

    /// <summary>The loss chart's legend, widest first: the widest that fits its pane is its title.</summary>
    private static readonly string[] LossTitles =
        ["Loss (··· train, ● validation at each epoch end)", "Loss (··· train, ● validation per epoch)", "Loss (··· train, ● val)", "Loss ··· train ● val", "Loss"];
    /// <summary>The learning-rate chart's title, widest first: at 44 columns its pane has 10 columns ("Learning r").</summary>
    private static readonly string[] LearningRateTitles = ["Learning rate", "LR"];

    /// <summary>The widest of <paramref name="titles"/> that fits <paramref name="frame"/>'s top border (the last where none does): at 44 columns they were cut mid-word.</summary>
    private static void FitTitle(View frame, string[] titles) =>
        frame.Title = titles.FirstOrDefault(t => t.GetColumns() <= frame.Frame.Width - TitleFrame) ?? titles[^1];
    /// <summary>Columns of a pane's top border beside its title: the corners and the "┤" "├" around it.</summary>
    private const int TitleFrame = 4;

    /// <summary>The loss chart and the samples pane, for layout tests.</summary>
    internal (View Loss, View Samples) Panes => (_loss, _samples);

    /// <summary>Called by the render loop: redraws only what changed.</summary>
    public void Refresh()
    {
        var version = _monitor.Version;
        if (version == _drawn) return;
        _drawn = version;
        var m = _monitor;
        if (m.JobId.Length == 0) return;
        // Cut off from the server, or detached from the job, the figures are as of then: no ETA or rate that reads as current.
        var stale = m.Disconnected || m.Detached;
        var eta = m.EtaSeconds is { } s && !stale ? Durations.Format(TimeSpan.FromSeconds(s)) : "?";
        var rate = stale || m.Halted || !m.Measured ? "- chars/s" : string.Create(CultureInfo.InvariantCulture, $"{m.CharsPerSecond:N0} chars/s");
        _jobLine = $"job {m.JobId} · model {m.ModelName} · {(m.Disconnected ? $"server unreachable, reconnecting (last seen {m.State})" : m.State)}";
        _warnings = m.Warnings;
        // A queued job (a resume's at its model's step) has no total, rate or speed yet, nor an epoch until an event gives it: '?' and '-', not 0.
        var epoch = m.EpochKnown ? string.Create(CultureInfo.InvariantCulture, $"{m.EpochProgress:F2}") : "?";
        var total = m.TotalSteps > 0 ? m.TotalSteps.ToString(CultureInfo.InvariantCulture) : "?";
        var learningRate = m.Measured ? string.Create(CultureInfo.InvariantCulture, $"{m.LearningRate:0.0e+0}") : "-";
        _progressFigures = [($"epoch {epoch}", 0), ($"step {m.Step}/{total}", 2), ($"ETA {eta}", 1)];
        _lossFigures = [($"loss {Show(m.LastLoss)}", 0), ($"val {Show(m.LastValidLoss)}", 1), ($"lr {learningRate}", 3), (rate, 2)];
        ShowStats();
        _progress.Fraction = (float)m.Fraction;
        _loss.Show(m.Loss, m.ValidLoss);
        _learningRate.Show(m.LearningRates, []);
        var samples = m.Samples;
        if (m.SamplesRestarted != _samplesRestarted) { _samples.Clear(); _samplesShown = 0; _samplesRestarted = m.SamplesRestarted; }
        // Each sample after a line break, not followed by one: the pane shows its last line, and a trailing
        // break made that an empty one (a one-row pane was always blank).
        foreach (var sample in samples.Skip(_samplesShown))
            _samples.Append((_samples.IsEmpty ? "" : "\n") + sample.Replace("\n", " ", StringComparison.Ordinal));
        _samplesShown = samples.Count;
        SetNeedsDraw();
    }

    private static string Show(double v) => double.IsFinite(v) ? v.ToString("F3", CultureInfo.InvariantCulture) : "-";
}
