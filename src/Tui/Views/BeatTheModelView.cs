using System.Globalization;
using System.Text;
using CharRnn.Tui.ViewModels;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.Text;
using Terminal.Gui.ViewBase;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Views;

/// <summary>
/// "Beat the model": held-out text is revealed one character at a time; you and the model each
/// guess the next one. The score board shows who is ahead and how sure the model is.
/// </summary>
public sealed class BeatTheModelView : View
{
    private readonly BeatTheModelGame _game;
    private readonly Func<(string Model, bool Lowercase)?> _model;
    private int _drawn = -1;

    private readonly Action<Key> _toCommandLine;

    /// <param name="toCommandLine">Where keys typed before a game starts go: they are a command, not a guess.</param>
    public BeatTheModelView(BeatTheModelGame game, Func<(string Model, bool Lowercase)?> currentModel, Action<Key> toCommandLine)
    {
        _game = game;
        _model = currentModel;
        _toCommandLine = toCommandLine;
        Title = "Beat";
        HotKeySpecifier = HotKeys.None; // a title hotkey fires on its bare letter from any tab that does not take it; F2–F6 switch tabs
        Width = Dim.Fill();
        Height = Dim.Fill();
        CanFocus = true;
    }

    public void Refresh()
    {
        if (_game.Version == _drawn) return;
        _drawn = _game.Version;
        SetNeedsDraw();
    }

    protected override bool OnKeyDown(Key key)
    {
        if (_game.Starting) return IsGuess(key) || key == Key.Enter || base.OnKeyDown(key); // guesses before the passage is shown mean nothing
        if (!_game.Playing)
        {
            if (key == Key.Enter && _model() is { } m)
            {
                _ = _game.StartAsync(m.Model, m.Lowercase);
                return true;
            }
            // A letter typed before the game starts is a command (`use NAME`), not a hotkey for
            // another tab's button. Once a game's end is on screen it is a guess typed one too many:
            // sent on, it would make the next Enter (the screen's "new passage") run it as a command.
            if (!IsGuess(key)) return base.OnKeyDown(key);
            if (_game.Passage.Count == 0) _toCommandLine(key);
            return true;
        }
        if (key == Key.Enter) { _ = _game.GuessAsync(new Rune('\n')); return true; }
        if (IsGuess(key))
        {
            _ = _game.GuessAsync(key.AsRune);
            return true;
        }
        return base.OnKeyDown(key);
    }

    /// <summary>
    /// Where to start drawing so that the rows up to <paramref name="position"/> (and the '?' after it)
    /// fit in <paramref name="rows"/>: laid out as drawn, newlines and wrapping both ending a row,
    /// and a wide char (CJK, most emoji) taking two columns.
    /// </summary>
    internal static int FirstShown(IReadOnlyList<Rune> passage, int position, int width, int rows)
    {
        // Laid out from the passage's start, so rows keep their breaks as the position moves on.
        var rowStarts = new List<int> { 0 };
        int col = 0;
        for (int i = 0; i < position; i++)
        {
            if (passage[i].Value == '\n') { rowStarts.Add(i + 1); col = 0; continue; }
            var columns = Columns(passage[i]);
            if (col > 0 && col + columns > width) { rowStarts.Add(i); col = 0; }
            col += columns;
        }
        if (col >= width) rowStarts.Add(position); // the '?' wraps onto a row of its own
        return rowStarts.Count > rows ? rowStarts[rowStarts.Count - rows] : 0;
    }

    /// <summary>Columns a char takes on screen: 2 for wide ones, and 1 for those drawn as nothing, which still take a turn.</summary>
    private static int Columns(Rune rune) => Math.Max(1, rune.GetColumns());

    private static bool IsGuess(Key key) => key.AsRune.Value >= 32 && !key.IsCtrl && !key.IsAlt;

    /// <summary>The first of <paramref name="forms"/> (longest first) that fits <paramref name="width"/> columns, else the last.</summary>
    private static string Fitting(int width, params string[] forms) => forms.FirstOrDefault(f => f.GetColumns() <= width) ?? forms[^1];

    protected override bool OnDrawingContent(DrawContext? context)
    {
        int width = Viewport.Width;
        if (width <= 0 || Viewport.Height <= 0) return true;
        var normal = GetAttributeForRole(VisualRole.Normal);
        var title = Monochrome.Or(new Attribute(Color.BrightYellow, normal.Background), TextStyle.Bold);
        SetAttribute(title);
        var model = _game.Playing ? _game.Model : _model()?.Model; // the game's own model, even after `use` picks another
        // The first row whole at every width the screen takes (30 columns cut it): with no model, the rows the passage
        // would take; else without the model's name where it does not fit.
        var first = model == null ? WordWrap.Lines("Pick a model first (use NAME), then press Enter here.", width, 3)
            : model != _game.Model ? [Fitting(width, $"You vs {model} · press Enter to start", "Press Enter to start")] // the last game's scores were against another model
            : [Fitting(width, $"You vs {model} · you {_game.PlayerScore} · model {_game.ModelScore} · rounds {_game.Rounds.Count}",
                $"you {_game.PlayerScore} · model {_game.ModelScore} · rounds {_game.Rounds.Count}")];
        for (var i = 0; i < first.Count; i++)
        {
            Move(0, i);
            AddStr(first[i]);
        }
        SetAttribute(normal);
        if (model != null)
        {
            // rows 1 and 2: the passage starts on row 3. A model `use`d mid-game plays from the next passage: the game went on
            // against the old one with nothing saying so, so row 2 says it (the message keeps row 1).
            var inUse = _model()?.Model;
            var message = _game.Playing && inUse != null && inUse != _game.Model
                ? [.. WordWrap.Lines(_game.Message, width, 1),
                    Fitting(width, $"{inUse} is in use now: it plays from the next passage", $"{inUse} plays from the next passage", $"next passage: {inUse}")]
                : WordWrap.Lines(_game.Message, width, 2);
            for (var i = 0; i < message.Count; i++)
            {
                Move(0, 1 + i);
                AddStr(message[i]);
            }
        }
        if (_game.Passage.Count == 0) return true;

        // The revealed text (last lines), each past round coloured by who got it right.
        var rounds = _game.Rounds;
        var start = FirstShown(_game.Passage, _game.Position, width, Math.Max(1, Viewport.Height - 5));
        int row = 3, col = 0;
        Move(0, row);
        for (int i = start; i < _game.Position; i++)
        {
            var roundIndex = i - BeatTheModelGame.ContextChars;
            // Without colour (NO_COLOR): the context faint, the player's rounds bold, the model's underlined.
            var attr = roundIndex < 0 ? Monochrome.Or(new Attribute(Color.Gray, normal.Background), TextStyle.Faint)
                : rounds[roundIndex].Player == rounds[roundIndex].Actual ? Monochrome.Or(new Attribute(Color.BrightGreen, normal.Background), TextStyle.Bold)
                : rounds[roundIndex].Model == rounds[roundIndex].Actual.ToString() ? Monochrome.Or(new Attribute(Color.BrightRed, normal.Background), TextStyle.Underline)
                : normal;
            var c = _game.Passage[i];
            var columns = Columns(c);
            if (c.Value == '\n' || (col > 0 && col + columns > width)) { row++; col = 0; Move(0, row); if (c.Value == '\n') continue; }
            SetAttribute(attr);
            AddRune(c.GetColumns() > 0 ? c : new Rune('·')); // a char drawn as nothing (a control, a joiner) still shows where it is
            col += columns;
        }
        if (col >= width) Move(0, ++row); // as FirstShown lays it out
        SetAttribute(Monochrome.Or(new Attribute(Color.Black, Color.BrightYellow), TextStyle.Reverse));
        AddRune(new Rune('?'));
        var (guess, p) = _game.ModelGuess;
        SetAttribute(Monochrome.Or(new Attribute(Color.Gray, normal.Background), TextStyle.Faint));
        // Wrapped on the last two rows, which the passage leaves free: on one row, 80 columns cut it mid-sentence.
        var hint = WordWrap.Lines(_game.Playing
            ? string.Create(CultureInfo.InvariantCulture, $"The model has guessed (hidden). It is {p:P0} sure. {(Monochrome.On ? "Bold" : "Green")}: you were right; {(Monochrome.On ? "underlined" : "red")}: only the model was.")
            : "Press Enter for a new passage (Esc: the command line).", width, 2);
        for (var i = 0; i < hint.Count; i++)
        {
            Move(0, Viewport.Height - hint.Count + i);
            AddStr(hint[i]);
        }
        _ = guess;
        return true;
    }
}
