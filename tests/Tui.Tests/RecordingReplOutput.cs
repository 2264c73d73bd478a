using System.Collections.Concurrent;
using CharRnn.Protos.V1;
using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>What the REPL printed, for the tests that run its commands: lines, errors, primes, generated chars and job events.</summary>
internal sealed class RecordingReplOutput : IReplOutput
{
    public ConcurrentQueue<string> Lines { get; } = new();
    public ConcurrentQueue<string> Errors { get; } = new();
    public ConcurrentQueue<string> Primes { get; } = new();
    public ConcurrentQueue<JobEvent> Events { get; } = new();
    public int Chars;
    private readonly System.Text.StringBuilder _text = new();
    /// <summary>All generated text, in order.</summary>
    public string Text { get { lock (_text) return _text.ToString(); } }
    /// <summary>Lines and the ends of jobs ("ended JOB"), in the order they were told.</summary>
    public ConcurrentQueue<string> Said { get; } = new();
    /// <summary>Runs as each line is told, for a test that acts while a command runs (changing a file being uploaded).</summary>
    public Action<string>? OnLine { get; set; }
    public void Line(string text)
    {
        Said.Enqueue(text);
        Lines.Enqueue(text);
        OnLine?.Invoke(text);
    }
    public void Error(string text) => Errors.Enqueue(text);
    public void GenerationStarted(int pane, string label, string prime, int count) => Primes.Enqueue(prime);
    public void Generated(int pane, string text, float probability)
    {
        Interlocked.Add(ref Chars, text.Length);
        lock (_text) _text.Append(text);
    }
    public void GenerationEnded(int pane) { }
    public void JobAttached(Job job) { }
    public void JobEvent(JobEvent e)
    {
        if (e.EventCase is Protos.V1.JobEvent.EventOneofCase.Finished or Protos.V1.JobEvent.EventOneofCase.Stopped or Protos.V1.JobEvent.EventOneofCase.Failed) Said.Enqueue($"ended {e.JobId}");
        Events.Enqueue(e);
    }
    public void JobDetached() { }
    public ConcurrentQueue<bool> WatchLost { get; } = new();
    public void JobWatchLost(bool lost) => WatchLost.Enqueue(lost);
    public void SessionChanged(Session? session, string? how = null) { }
    public void QuitRequested() { }
}
