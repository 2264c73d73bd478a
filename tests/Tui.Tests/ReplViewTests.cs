using CharRnn.Tui.Repl;
using CharRnn.Tui.Views;

namespace CharRnn.Tui.Tests;

/// <summary>The command line's log as lines run one after another (no app: the runner is a stand-in).</summary>
public class ReplViewTests
{
    [Fact]
    public async Task A_line_waiting_behind_a_slow_one_says_so_and_is_echoed_when_its_turn_comes()
    {
        var slow = new TaskCompletionSource();
        Task chain = Task.CompletedTask;
        async Task RunAfter(Task previous, string line, Action started)
        {
            await previous;
            started();
            if (line == "slow") await slow.Task;
        }
        var view = new ReplView(new CompletionSource(), (line, started) => chain = RunAfter(chain, line, started));

        _ = view.Submit("slow");
        var waiting = view.Submit("models");
        await Task.Delay(ReplView.WaitingNoteAfter * 3);
        Assert.Equal("> slow\n  (waiting for the command before it to end: models)\n", view.Log.Content);
        slow.SetResult();
        await waiting;
        Assert.EndsWith("(waiting for the command before it to end: models)\n> models\n", view.Log.Content);

        await view.Submit("status"); // its turn at once: no note
        await Task.Delay(ReplView.WaitingNoteAfter * 3);
        Assert.EndsWith("> models\n> status\n", view.Log.Content);
    }
}
