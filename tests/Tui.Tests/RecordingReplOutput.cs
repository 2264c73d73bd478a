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
    public void Line(string text) => Lines.Enqueue(text);
    public void Error(string text) => Errors.Enqueue(text);
    public void GenerationStarted(int pane, string label, string prime) => Primes.Enqueue(prime);
    public void Generated(int pane, string text, float probability) => Interlocked.Add(ref Chars, text.Length);
    public void GenerationEnded(int pane) { }
    public void JobAttached(Job job) { }
    public void JobEvent(JobEvent e) => Events.Enqueue(e);
    public void JobDetached() { }
    public void SessionChanged(Session? session) { }
    public void QuitRequested() { }
}
