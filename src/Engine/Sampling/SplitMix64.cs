namespace CharRnn.Engine.Sampling;

/// <summary>
/// A tiny, fast, seedable random generator whose whole state is one number, so a session's
/// draws are reproducible, forkable (copy the state) and independent of every other session.
/// (Steele, Lea &amp; Flood, "Fast splittable pseudorandom number generators", 2014.)
/// </summary>
public struct SplitMix64(ulong seed)
{
    public const ulong Gamma = 0x9E3779B97F4A7C15UL, Mix1 = 0xBF58476D1CE4E5B9UL, Mix2 = 0x94D049BB133111EBUL;

    public ulong State = seed;

    public ulong NextUInt64()
    {
        ulong z = State += Gamma;
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 bits of precision.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
