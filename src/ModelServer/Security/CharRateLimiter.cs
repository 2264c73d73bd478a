using System.Collections.Concurrent;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Security;

/// <summary>
/// Characters per minute per key: a call that generates (Generate, an Interact prediction)
/// reserves its chars up front (so a burst of calls cannot overshoot) and, when it ends, gives
/// back from that same reservation what it did not use: the reservation leaves the window a
/// minute after it was made, whatever happened to it since. Text a call feeds (a prime, Feed's
/// or Interact's text) counts in the same window (<see cref="ChargeFed"/>): feeding takes the
/// device as generating does, and unmetered, one key feeding long texts in a loop held it. The minute is counted on the clock's
/// monotonic timestamps: a wall clock set back an hour would otherwise hold a key's quota for it.
/// </summary>
public sealed class CharRateLimiter(IOptions<ServerOptions> options, TimeProvider time)
{
    private readonly long _perMinute = options.Value.Limits.MaxCharsPerMinutePerKey;
    private readonly ConcurrentDictionary<string, Window> _windows = new();

    /// <summary>A key's reservations of the last minute, oldest first, and their chars' total (kept as they change: summing a busy key's minute each call would cost it).</summary>
    internal sealed class Window
    {
        internal readonly Queue<Reservation> Reservations = new();
        internal long Total;
    }

    /// <summary>Chars a call may generate, counted against its key's last minute until they are given back.</summary>
    public sealed class Reservation
    {
        internal Reservation(Window window, long timestamp, long chars) => (Window, Timestamp, Chars) = (window, timestamp, chars);

        internal Window Window { get; }
        internal long Timestamp { get; }
        internal long Chars { get; set; }
        internal bool Counted { get; set; } = true; // still in its window's total (false once a minute old)
    }

    /// <summary>Reserves the chars a call may generate; RESOURCE_EXHAUSTED naming the limit when the key's minute has not room for them.</summary>
    public Reservation Reserve(Caller caller, long chars) => Take(caller, chars, $"asks for {chars:N0}", "ask for at most");

    /// <summary>
    /// Reserves the chars a call may generate and counts the text it feeds first (a prime) in one step, so that
    /// neither is taken without the other. Refund gives back the generated part's unused chars; the fed part too
    /// when nothing of the text was fed.
    /// </summary>
    public Reservation Reserve(Caller caller, long chars, long fed) =>
        fed <= 0 ? Reserve(caller, chars) : Take(caller, chars + fed, $"asks for {chars:N0} and feeds {fed:N0}", "ask for and feed at most");

    /// <summary>
    /// Counts the chars of a text a call is about to feed (null for none). A call that ends before anything of
    /// the text was fed gives them back (<see cref="Refund"/>); once fed, they stay counted, a call cancelled
    /// midway having fed part of it.
    /// </summary>
    public Reservation? ChargeFed(Caller caller, long chars) => chars > 0 ? Take(caller, chars, $"feeds {chars:N0}", "send at most") : null;

    /// <param name="does">What the call does with its chars, for the refusal ("asks for 20", "feeds 300").</param>
    /// <param name="fewer">What the refusal suggests with the chars left ("ask for at most").</param>
    private Reservation Take(Caller caller, long chars, string does, string fewer)
    {
        var window = _windows.GetOrAdd(caller.Name, _ => new Window());
        lock (window)
        {
            var now = time.GetTimestamp();
            DropOld(window, now);
            var used = window.Total;
            if (used + chars > _perMinute && WaitFor(window, used + chars - _perMinute, now) is var wait)
                throw ServerException.Exhausted(QuotaLimits.MaxCharsPerMinutePerKey, $"{QuotaHolder.Subject(caller.Name)} has generated, fed or reserved {used:N0} of its {_perMinute:N0} characters a minute " +
                                                $"({QuotaHolder.Limit(caller.Name, "max_chars_per_minute_per_key")}), and this call {does}: " +
                                                $"{(used < _perMinute ? $"{fewer} {_perMinute - used:N0}, or " : "")}wait {wait} s.", TimeSpan.FromSeconds(wait));
            var reservation = new Reservation(window, now, chars);
            window.Reservations.Enqueue(reservation);
            window.Total += chars;
            return reservation;
        }
    }

    /// <summary>Chars <paramref name="name"/>'s key generated, fed or holds reserved in the last minute (what its quota counts).</summary>
    public long UsedLastMinute(string name)
    {
        if (!_windows.TryGetValue(name, out var window)) return 0;
        lock (window)
        {
            DropOld(window, time.GetTimestamp());
            return window.Total;
        }
    }

    /// <summary>Reservations a minute old leave the window (under its lock).</summary>
    private void DropOld(Window window, long now)
    {
        while (window.Reservations.Count > 0 && time.GetElapsedTime(window.Reservations.Peek().Timestamp, now) > TimeSpan.FromMinutes(1))
        {
            var old = window.Reservations.Dequeue();
            window.Total -= old.Chars;
            old.Counted = false;
        }
    }

    /// <summary>Whole seconds until reservations holding <paramref name="excess"/> chars have left the window (under its lock).</summary>
    private int WaitFor(Window window, long excess, long now)
    {
        long freed = 0;
        foreach (var r in window.Reservations)
        {
            freed += r.Chars;
            if (freed >= excess) return Math.Max(1, (int)Math.Ceiling((TimeSpan.FromMinutes(1) - time.GetElapsedTime(r.Timestamp, now)).TotalSeconds));
        }
        return 60;
    }

    /// <summary>Gives back <paramref name="unused"/> chars of a reservation (at most what it holds).</summary>
    public static void Refund(Reservation reservation, long unused)
    {
        if (unused <= 0) return;
        lock (reservation.Window)
        {
            var back = Math.Min(unused, reservation.Chars);
            reservation.Chars -= back;
            if (reservation.Counted) reservation.Window.Total -= back;
        }
    }
}
