using CharRnn.Protos.V1;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;
using CharRnn.Tui.ViewModels;
using CharRnn.Tui.Views;
using Terminal.Gui.App;
using Terminal.Gui.Drivers;

namespace CharRnn.Tui.Tests;

/// <summary>The status bar of a window over a server that generates in bf16 (a canned one: bf16 needs AVX512_BF16), driven headless.</summary>
[Collection(TuiCollection.Name)]
public sealed class StatusBarPrecisionTests
{
    private static ServerInfo Bf16Server => new() { Device = "cpu · 16 threads", ActiveSessions = 2, RunningJobs = 0, QueuedJobs = 1, GenerationPrecision = "bf16" };

    [Theory]
    [InlineData(200, @"│ F7  Log │ cpu · bf16 · 2 session\(s\) · jobs: 0 running, 1 queued +│ F2  Models │")]
    [InlineData(100, @"│F7 Log│connected · cpu · bf16│F2 Models│")]
    [InlineData(80, @"^│F1 Help│\^Q Quit│F7 Log│bf16 *│F2 Models│F3 Train│F4 Gen│F5 Type│F6 Beat│? *│$")] // every key whole beside it
    public async Task A_server_generating_in_bf16_says_so_in_the_status_bar_at_any_width(int columns, string statusRow)
    {
        using var client = new CharRnnClient(new CannedServerInfoInvoker(Bf16Server), new Uri("http://canned"));
        var completion = new CompletionSource();
        var status = new ServerStatus(client, completion);
        await status.RefreshAsync();
        using var app = Application.Create();
        app.Init(DriverRegistry.Names.ANSI);
        app.Driver!.SetScreenSize(columns, 24);
        using var window = new MainWindow(client, status, completion, "canned");
        var context = SynchronizationContext.Current;
        var token = app.Begin(window)!;
        try
        {
            string Row() => app.Driver!.ToString()!.Split('\n').LastOrDefault(r => r.Contains("F1") && r.Contains("Help")) ?? "";
            for (var frame = 0; frame < 5 && !System.Text.RegularExpressions.Regex.IsMatch(Row(), statusRow); frame++)
            {
                window.RenderFrame();
                app.LayoutAndDraw();
            }
            Assert.Matches(statusRow, Row());
        }
        finally
        {
            app.End(token);
            SynchronizationContext.SetSynchronizationContext(context);
        }
        await window.Runner.DisposeAsync();
        await status.DisposeAsync();
    }

    [Fact]
    public async Task A_float32_server_or_one_older_than_the_field_shows_no_precision()
    {
        foreach (var precision in new[] { "float32", "" })
        {
            using var client = new CharRnnClient(new CannedServerInfoInvoker(new ServerInfo { Device = "cpu", GenerationPrecision = precision }), new Uri("http://canned"));
            var status = new ServerStatus(client, new CompletionSource());
            await status.RefreshAsync();
            Assert.Equal("cpu · 0 session(s) · jobs: 0 running, 0 queued", status.Line);
            Assert.Equal("connected", status.LineFitting(12));
        }
    }
}
