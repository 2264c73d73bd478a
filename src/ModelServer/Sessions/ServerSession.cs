using CharRnn.Engine.Sampling;
using CharRnn.ModelServer.TrainedModels;

namespace CharRnn.ModelServer.Sessions;

/// <summary>
/// A generation session as the server keeps it: the engine session (hidden state, RNG,
/// settings) on a loaded model, plus bookkeeping. The engine session and the model are touched
/// only on the device thread; the bookkeeping fields may be read from any thread.
/// </summary>
public sealed class ServerSession
{
    private long _lastUsed;

    /// <param name="time">Idle time is counted on its monotonic timestamps: a change of the wall clock (an NTP step, a VM resumed) neither expires sessions nor keeps them.</param>
    public ServerSession(string id, string owner, LoadedModel model, GenerationSession engine, TimeSpan idleTimeout, TimeProvider time)
    {
        Id = id;
        Owner = owner;
        Model = model;
        Generation = engine;
        IdleTimeout = idleTimeout;
        Time = time;
        Created = time.GetUtcNow();
        Touch();
    }

    public TimeProvider Time { get; }

    public string Id { get; }
    /// <summary>The API key that opened (or forked) the session; only it (and admins) may use it.</summary>
    public string Owner { get; }
    /// <summary>Which key that was (<see cref="Security.Caller.KeyHash"/>): the session closes when that key is removed, even if a new key takes its name.</summary>
    public string? KeyHash { get; init; }
    public LoadedModel Model { get; }
    /// <summary>Device thread only.</summary>
    public GenerationSession Generation { get; }
    public DateTimeOffset Created { get; }
    public TimeSpan IdleTimeout { get; }

    /// <summary>What an operator reads when it ends: "model M, owner O, open 00:05:12, 340 chars seen" (fed and generated).</summary>
    public string Summary() =>
        $"model {Model.Name}, owner {Owner}, open {TimeSpan.FromSeconds(Math.Round((Time.GetUtcNow() - Created).TotalSeconds))}, {CharactersSeen} chars seen";
    /// <summary>Set once the session is closed and its state freed (device thread): later commands get NOT_FOUND.</summary>
    public bool Closed { get; private set; }
    /// <summary>Set while a Generate call streams from this session (device thread writes it).</summary>
    public volatile bool Generating;
    /// <summary>
    /// The call feeding a long text in pieces, from its first piece to its last (device thread):
    /// other calls on the session are refused meanwhile, so none lands in the middle of the text.
    /// </summary>
    public object? FedBy { get; set; }
    /// <summary>Settings and characters seen as of the last operation (each char of a Generate, each piece of a long feed), readable from any thread.</summary>
    public SamplingSettings Settings { get; set; } = SamplingSettings.Greedy;
    /// <summary>Characters of fed text the model cannot read: refused or dropped (set at open, by Configure on the device thread; read by any).</summary>
    public UnknownCharPolicy UnknownChars { get; set; }
    public long CharactersSeen { get; set; }

    public void Touch() => Interlocked.Exchange(ref _lastUsed, Time.GetTimestamp());

    public bool IsIdle() => IdleFor() > IdleTimeout;

    /// <summary>How long no call has used it: zero while a call streams from it (the idle time counts from the call's end).</summary>
    public TimeSpan IdleFor() => Generating || Volatile.Read(ref _streams) > 0 ? TimeSpan.Zero : Time.GetElapsedTime(Interlocked.Read(ref _lastUsed));

    /// <summary>
    /// When a call last used it, on the wall clock (counted back from now on the monotonic one, as its idle time is);
    /// never before <see cref="Created"/>, which the two clocks' readings, taken apart, could otherwise put it a tick before.
    /// </summary>
    public DateTimeOffset LastUsed => Time.GetUtcNow() - IdleFor() is var used && used > Created ? used : Created;

    /// <summary>What is left of its idle time before it expires (zero once it is due).</summary>
    public TimeSpan IdleLeft => IdleTimeout - IdleFor() is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

    private int _streams;

    /// <summary>
    /// A streaming call on the session, from its start to its end: a Generate until its last message is
    /// written (the loop samples ahead of a slow reader and is done long before the client has read it all;
    /// <see cref="Generating"/> is cleared then), an Interact while it is open, however long the user
    /// pauses. The session is not idle meanwhile; the idle time counts from the call's end.
    /// </summary>
    public IDisposable Streaming()
    {
        Interlocked.Increment(ref _streams);
        return new StreamEnd(this);
    }

    private sealed class StreamEnd(ServerSession session) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 1) return;
            session.Touch();
            Interlocked.Decrement(ref session._streams);
        }
    }

    /// <summary>Why a closed session was closed, when not by CloseSession or idling (its API key removed).</summary>
    public Errors.ServerException? ClosedBecause { get; private set; }

    /// <summary>Device thread: marks the session closed; false when it already was.</summary>
    public bool MarkClosed(Errors.ServerException? because = null)
    {
        if (Closed) return false;
        Closed = true;
        ClosedBecause = because;
        return true;
    }

    /// <summary>Copies the engine's state of affairs into the thread-safe fields (device thread).</summary>
    public void Snapshot()
    {
        Settings = Generation.Settings;
        CharactersSeen = Generation.CharactersSeen;
        Touch();
    }
}
