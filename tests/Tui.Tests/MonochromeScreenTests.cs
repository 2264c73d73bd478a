using CharRnn.Tui.Repl;
using CharRnn.Tui.ViewModels;
using CharRnn.Tui.Views;
using Terminal.Gui.App;
using Terminal.Gui.Configuration;
using Terminal.Gui.Drawing;
using Terminal.Gui.Drivers;
using Terminal.Gui.ViewBase;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Tests;

/// <summary>
/// NO_COLOR (no-color.org): the full-screen client adds no colour. Every cell of every screen is drawn in the terminal's own
/// foreground and background (<see cref="Color.None"/>, written as SGR 39 and 49), focus and marks in reverse, bold,
/// underline or faint; it drew its 16 colours, and a button's shadow in black.
/// </summary>
[Collection(TuiCollection.Name)]
public sealed class MonochromeScreenTests(TuiFixture fixture)
{
    /// <summary>The cells drawn in a colour, as "row,column fg/bg 'char'" (none where nothing added colour).</summary>
    private static List<string> Coloured(IDriver driver, System.Drawing.Rectangle? area = null)
    {
        var cells = driver.Contents!;
        var found = new List<string>();
        var within = area ?? new(0, 0, cells.GetLength(1), cells.GetLength(0));
        for (var row = within.Top; row < within.Bottom; row++)
            for (var column = within.Left; column < within.Right; column++)
                if (cells[row, column].Attribute is { } a && (a.Foreground != Color.None || a.Background != Color.None))
                    found.Add($"{row},{column} {a.Foreground}/{a.Background} '{cells[row, column].Grapheme}'");
        return found;
    }

    [Fact]
    public async Task Under_no_color_every_screen_the_log_the_marks_and_the_help_draw_in_the_terminals_own_colours()
    {
        var saved = SchemeManager.GetSchemesForCurrentTheme().ToDictionary(s => s.Key, s => s.Value);
        var context = SynchronizationContext.Current;
        Monochrome.On = true;
        Monochrome.Apply();
        var app = Application.Create();
        var completion = new CompletionSource();
        var status = new ServerStatus(fixture.Client, completion);
        try
        {
            app.Init(DriverRegistry.Names.ANSI);
            app.Driver!.SetScreenSize(80, 24);
            await status.RefreshAsync();
            using var window = new MainWindow(fixture.Client, status, completion, "test");
            var token = app.Begin(window)!;
            SynchronizationContext.SetSynchronizationContext(context);
            // What the views colour themselves: a command's echo, a failure, text coloured by its probability.
            window.Repl.Log.AppendLine("> archs", ReplView.Echo);
            window.Error("something failed");
            window.Generate.Panes[0].ColorByProbability = true;
            foreach (var p in new[] { 0.9f, 0.6f, 0.3f, 0.1f }) window.Generate.Panes[0].Append("abc ", p);
            foreach (var screen in new View[] { window.Models, window.Training, window.Generate, window.TypeView, window.Beat })
            {
                window.Show(screen);
                window.RenderFrame();
                app.LayoutAndDraw();
                Assert.True(Coloured(app.Driver).Count == 0, $"{screen.Title}: {string.Join("; ", Coloured(app.Driver).Take(5))}\n{app.Driver}");
                if (screen == window.Models) Assert.Contains("⟦ Train ⟧ ", app.Driver.ToString()); // drawn, and with no shadow (▖)
            }
            app.End(token);
            await window.Runner.DisposeAsync();
            await window.Typing.DisposeAsync();
            using var help = new HelpDialog("Keys: F2 Models.", () => { });
            var helpToken = app.Begin(help)!;
            SynchronizationContext.SetSynchronizationContext(context);
            app.LayoutAndDraw();
            // The dialog's own cells: around it, a test's screen has no window under it.
            Assert.True(Coloured(app.Driver, help.Frame).Count == 0, $"help: {string.Join("; ", Coloured(app.Driver, help.Frame).Take(5))}\n{app.Driver}");
            app.End(helpToken);
            // The marks drawn only with a model or a game: in styles, not colours.
            var normal = Monochrome.Plain();
            Assert.All(new[] { SurpriseColors.ForLoss(0, normal), SurpriseColors.ForLoss(5, normal), StreamTextView.ForProbability(0.1f, normal), TypeWithModelView.Ghost, GenerateView.PrimeStyle, ReplView.Waiting },
                a => Assert.Equal((Color.None, Color.None), (a.Foreground, a.Background)));
            Assert.NotEqual(SurpriseColors.ForLoss(0, normal), SurpriseColors.ForLoss(5, normal)); // a surprise still told apart
            Assert.Equal(["plain ≥ 10%", "underlined 2–10%", "bold < 2%"], SurpriseColors.Legend(normal).Skip(1).Select(l => l.Text));
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
            Monochrome.On = false;
            foreach (var (name, scheme) in saved) if (scheme != null) SchemeManager.AddScheme(name, scheme);
            await status.DisposeAsync();
            app.Dispose();
        }
    }
}
