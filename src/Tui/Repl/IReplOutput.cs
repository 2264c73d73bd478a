using CharRnn.Protos.V1;

namespace CharRnn.Tui.Repl;

/// <summary>Where the REPL's results go: the TUI's panes, or stdout for `charrnn --exec`.</summary>
public interface IReplOutput
{
    void Line(string text);
    void Error(string text);
    /// <summary>
    /// Something to know beside a command's output, where no line of the log says it (--exec: on stderr, as charrnn
    /// generate's notes): the interactive REPL says it on the command's own line instead.
    /// </summary>
    void Note(string text) { }
    /// <summary>What is wrong with something a command lists that can still be used: --exec says it on stderr, after the command's output.</summary>
    void Warning(string text) => Line("warning: " + text);
    /// <summary>
    /// A Generate call is about to start in a pane (0: main, 1: the comparison). Its label and prime are shown
    /// with its first char: a call the server refuses (a prime with unknown characters) leaves only its error.
    /// </summary>
    void GenerationStarted(int pane, string label, string prime, int count);
    void Generated(int pane, string text, float probability);
    void GenerationEnded(int pane);
    void JobAttached(Job job);
    void JobEvent(JobEvent e);
    /// <summary>`arch NAME` described an architecture: the TUI shows it in its training form too.</summary>
    void ArchitectureShown(string name) { }
    /// <summary>The watch of the job lost its server and reconnects (true), or is back (false).</summary>
    void JobWatchLost(bool lost) { }
    /// <summary>The REPL stopped watching the job (it keeps training).</summary>
    void JobDetached();
    /// <param name="how">What became of the session, where a look at it cannot tell ("fork", "back from the fork"): the Generate pane marks the text that follows with it.</param>
    void SessionChanged(Session? session, string? how = null);
    void QuitRequested();
}
