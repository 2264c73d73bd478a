using CharRnn.Tui.Repl;
using CharRnn.Tui.ViewModels;
using CharRnn.Tui.Views;
using Terminal.Gui.App;
using Terminal.Gui.Drivers;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;

namespace CharRnn.Tui.Tests;

/// <summary>The main screens driven headlessly through Terminal.Gui's ANSI driver: keys in, screen text out.</summary>
[Collection(TuiCollection.Name)]
public sealed partial class ScreenTests : IDisposable
{
    private readonly TuiFixture _fixture;
    private readonly IApplication _app;
    private readonly MainWindow _window;
    private readonly ServerStatus _status;
    private readonly SessionToken _token;

    public ScreenTests(TuiFixture fixture)
    {
        _fixture = fixture;
        _app = Application.Create();
        _app.Init(DriverRegistry.Names.ANSI);
        _app.Driver!.SetScreenSize(130, 42);
        var completion = new CompletionSource();
        _status = new ServerStatus(fixture.Client, completion);
        _window = new MainWindow(fixture.Client, _status, completion, "test");
        _status.RefreshAsync().GetAwaiter().GetResult();
        var testContext = SynchronizationContext.Current;
        _window.TakePastes(_app);
        _window.Repl.Input.SetFocus(); // before the window runs, as charrnn does (which Terminal.Gui's navigation loses track of)
        _token = _app.Begin(_window)!;
        // Begin makes this thread the UI thread with the loop's synchronization context. Keep it
        // for UI work only (Ui below), so the test framework's own continuations are not queued on a
        // loop that nobody runs after the test.
        _loopContext = SynchronizationContext.Current!;
        SynchronizationContext.SetSynchronizationContext(testContext);
        _window.Repl.Input.SetFocus();
    }

    private readonly SynchronizationContext _loopContext;

    /// <summary>Runs UI work (key handlers that start async commands) with the loop's context, as the real loop would.</summary>
    private void Ui(Action action)
    {
        var saved = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_loopContext);
        try { action(); }
        finally { SynchronizationContext.SetSynchronizationContext(saved); }
    }

    private void Press(Key key) => Ui(() => _app.InjectKey(key));

    private string Screen => _app.Driver!.ToString() ?? "";

    /// <summary>Runs the loop's work (queued Invokes, timers, render frames) until the condition holds.</summary>
    private void PumpUntil(Func<bool> condition, string what, int timeoutMs = 20_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            Ui(() =>
            {
                _app.TimedEvents!.RunTimers();
                _window.RenderFrame();
                _app.LayoutAndDraw();
            });
            if (condition()) return;
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"Timed out waiting for {what}. Screen:\n{Screen}\nLog:\n{_window.Repl.Log.Content}");
            Thread.Sleep(15);
        }
    }

    private void Type(string text)
    {
        foreach (var c in text) Press(new Key(c));
    }

    private void Command(string line)
    {
        _window.Repl.Input.SetFocus();
        Type(line);
        Press(Key.Enter);
    }

    /// <summary>Opens a greedy session on the fixture's model.</summary>
    private void UseGru()
    {
        Command("use gru t=0");
        PumpUntil(() => _window.Runner.Session != null, "a session");
    }

    /// <summary>Waits for a task whose continuations may be queued on the UI loop, running that loop meanwhile.</summary>
    private void Await(Task task)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!task.IsCompleted && DateTime.UtcNow < deadline)
        {
            Ui(() => _app.TimedEvents!.RunTimers());
            Thread.Sleep(10);
        }
        // Left running, its clean-up would land in the next test (closing sessions that test counts).
        Assert.True(task.IsCompleted, "the screen's clean-up did not finish within 30 s");
    }

    public void Dispose()
    {
        Await(_window.Runner.DisposeAsync().AsTask());
        Await(_window.Typing.DisposeAsync().AsTask());
        Await(_status.DisposeAsync().AsTask());
        _app.End(_token);
        _window.Dispose();
        _app.Dispose();
    }
}
