using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace CharRnn.Engine.Checkpoints;

/// <summary>
/// Writes encoded checkpoints (<see cref="CheckpointFile.Encode"/>) on a background thread, one
/// at a time in the order queued, so a later save of a file always lands after an earlier one.
/// Hashing and writing the lesson LSTM's 40 MB checkpoint with fsync takes 230–300 ms here; the
/// thread that trains (and, on the server, generates) only pays for taking the bytes. Completions and
/// failures are handed back on the owner's thread by <see cref="TakeCompleted"/>.
/// </summary>
public sealed class CheckpointWriter<TTag> : IDisposable
{
    private readonly ConcurrentQueue<TTag> _completed = new();
    private readonly ConcurrentQueue<ExceptionDispatchInfo> _failures = new();
    private Task _tail = Task.CompletedTask;

    public void Queue(string path, ReadOnlyMemory<byte> body, TTag tag)
    {
        _tail = _tail.ContinueWith(_ =>
        {
            try
            {
                CheckpointWriteGate.Wait(path);
                CheckpointFile.WriteEncoded(path, body);
                _completed.Enqueue(tag);
            }
            catch (Exception e)
            {
                _failures.Enqueue(ExceptionDispatchInfo.Capture(e));
            }
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Blocks until every queued write has finished.</summary>
    public void WaitAll() => _tail.Wait();

    /// <summary>Completes (never faults) once every write queued so far has finished; <see cref="TakeCompleted"/> then says how each went.</summary>
    public Task Written => _tail;

    /// <summary>The writes finished since the last call, in order; a failed write throws its own exception here.</summary>
    public List<TTag> TakeCompleted()
    {
        if (_failures.TryDequeue(out var failure)) failure.Throw();
        var done = new List<TTag>();
        while (_completed.TryDequeue(out var tag)) done.Add(tag);
        return done;
    }

    /// <summary>Lets queued writes finish: a file being written is never left behind as a temp file.</summary>
    public void Dispose() => _tail.Wait();
}

/// <summary>
/// Tests hold a checkpoint write here to see what waits for it and what does not. Null (no wait)
/// outside tests.
/// </summary>
internal static class CheckpointWriteGate
{
    internal static Action<string>? BeforeWrite;

    internal static void Wait(string path) => Volatile.Read(ref BeforeWrite)?.Invoke(path);
}
