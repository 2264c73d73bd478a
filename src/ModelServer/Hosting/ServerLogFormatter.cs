using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// The server's console log: one line an entry, with the date and time in UTC (operators read logs across days and zones) and
/// only the server's own scopes ("job 3 model tiny", "session s-…"). The simple console formatter with
/// scopes on also printed ASP.NET Core's per request (SpanId, TraceId, ConnectionId, RequestPath,
/// RequestId): some 250 characters on every line a call logged.
/// </summary>
public sealed class ServerLogFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "charrnn";

    public override void Write<TState>(in LogEntry<TState> entry, IExternalScopeProvider? scopeProvider, TextWriter writer)
    {
        var message = entry.Formatter(entry.State, entry.Exception);
        if (message == null && entry.Exception == null) return;
        var line = new System.Text.StringBuilder();
        // UTC, marked Z: a local time without its zone is ambiguous across servers, daylight saving and the operator's own clock.
        line.Append(DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z' ", System.Globalization.CultureInfo.InvariantCulture))
            .Append(Level(entry.LogLevel)).Append(": ").Append(entry.Category).Append('[').Append(entry.EventId.Id).Append(']');
        scopeProvider?.ForEachScope((scope, text) =>
        {
            if (IsOwn(scope)) text.Append(" => ").Append(scope);
        }, line);
        line.Append(' ').Append(message);
        if (entry.Exception != null) line.Append(' ').Append(entry.Exception.ToString().ReplaceLineEndings(" "));
        writer.WriteLine(line.ToString().ReplaceLineEndings(" "));
    }

    /// <summary>A scope the server began with a message template (BeginScope("job {JobId} …")); ASP.NET Core's scopes have none.</summary>
    private static bool IsOwn(object? scope) =>
        scope is IReadOnlyList<KeyValuePair<string, object?>> values && values.Any(v => v.Key == "{OriginalFormat}");

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => level.ToString(),
    };
}
