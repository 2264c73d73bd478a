using System.Collections.Concurrent;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Security;

/// <summary>
/// Characters per minute per key: a Generate call reserves its max_chars up front (so a burst of
/// calls cannot overshoot) and gives back what it did not use when it ends.
/// </summary>
public sealed class CharRateLimiter(IOptions<ServerOptions> options)
{
    private readonly long _perMinute = options.Value.Limits.MaxCharsPerMinutePerKey;
    private readonly ConcurrentDictionary<string, Queue<(DateTimeOffset Time, long Chars)>> _windows = new();

    public void Reserve(Caller caller, long chars)
    {
        var window = _windows.GetOrAdd(caller.Name, _ => new Queue<(DateTimeOffset, long)>());
        lock (window)
        {
            var now = DateTimeOffset.UtcNow;
            while (window.Count > 0 && now - window.Peek().Time > TimeSpan.FromMinutes(1)) window.Dequeue();
            var used = window.Sum(w => w.Chars);
            if (used + chars > _perMinute)
                throw ServerException.Exhausted($"Key '{caller.Name}' asked for {used + chars:N0} characters in the last minute; its quota is {_perMinute:N0} (limit max_chars_per_minute_per_key). Wait, or ask for fewer.");
            window.Enqueue((now, chars));
        }
    }

    public void Refund(Caller caller, long chars)
    {
        if (chars <= 0 || !_windows.TryGetValue(caller.Name, out var window)) return;
        lock (window) window.Enqueue((DateTimeOffset.UtcNow, -chars));
    }
}
