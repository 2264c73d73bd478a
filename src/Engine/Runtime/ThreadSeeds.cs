namespace CharRnn.Engine.Runtime;

/// <summary>
/// 64-bit seeds drawn on this thread within <see cref="Use"/>, from its seed alone. A training
/// piece's dropout masks take their seeds here, not from libtorch's process-wide generator, which
/// a model built on another thread meanwhile (the server loading one for a new session) draws from
/// too: that changed the masks, and a resumed run was no longer exact.
/// </summary>
public static class ThreadSeeds
{
    [ThreadStatic] private static bool _seeded;
    [ThreadStatic] private static ulong _state;

    /// <summary>Seeds this thread's sequence until the returned scope ends (outside one, <see cref="Next"/> is null).</summary>
    public static Scope Use(long seed)
    {
        _seeded = true;
        _state = (ulong)seed;
        return new Scope();
    }

    public readonly struct Scope : IDisposable
    {
        public void Dispose() => _seeded = false;
    }

    /// <summary>The next seed of this thread's sequence; null outside <see cref="Use"/>.</summary>
    public static ulong? Next()
    {
        if (!_seeded) return null;
        // SplitMix64: consecutive states give well-mixed, independent-looking outputs.
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
