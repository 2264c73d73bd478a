using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// The lines an in-process server logs ("Warning: message"), for tests of what an operator reads: the latest
/// <see cref="MaxLines"/>, so a server fixture shared by many tests does not grow without bound.
/// </summary>
public sealed class CapturedLog : ILoggerProvider
{
    public const int MaxLines = 10_000;

    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToList();

    /// <summary>The lines that contain <paramref name="text"/> (read from the queue as it is, not from a copy of it).</summary>
    public IReadOnlyList<string> With(string text) => _lines.Where(l => l.Contains(text, StringComparison.Ordinal)).ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(_lines);

    public void Dispose() { }

    private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
            while (lines.Count > MaxLines) lines.TryDequeue(out _);
        }
    }
}
