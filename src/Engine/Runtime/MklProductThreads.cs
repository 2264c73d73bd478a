namespace CharRnn.Engine.Runtime;

/// <summary>
/// Threads MKL's matrix products use on the calling thread, apart from libtorch's thread count,
/// which also runs the elementwise work between them. A generation loop sets its full count here
/// and tunes libtorch's per step (<see cref="StepThreadTuner"/>): on this project's 2-vCPU machine
/// a product of 8 or more rows is 1.5–2× faster on two threads than on one, while in the host's
/// slow phases the LSTM's nine elementwise gate operations took 1.2 ms split over two threads
/// against 60 µs on one (OpenMP's fork and join). MKL keeps a count per calling thread
/// (<c>MKL_Set_Num_Threads_Local</c>, exported by libtorch_cpu.so), which wins over the one
/// libtorch sets; where it is missing this does nothing.
/// </summary>
public static class MklProductThreads
{
    private static readonly Lazy<IntPtr> SetLocal = new(Resolve);
    [ThreadStatic] private static int _count;

    /// <summary>Threads for products made on this thread inside <see cref="Use"/>; 0 (the default): libtorch's count.</summary>
    public static int Count
    {
        get => _count;
        set => _count = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A thread count is 0 (libtorch's) or more.");
    }

    /// <summary>Until disposed, MKL's products on this thread run on <see cref="Count"/> threads.</summary>
    public static Scope Use() => _count > 0 && SetLocal.Value != IntPtr.Zero ? new Scope(Set(_count)) : default;

    /// <summary>Until disposed, MKL's products on this thread run on one thread, whatever <see cref="Count"/> is (products too small to share).</summary>
    public static Scope UseOne() => SetLocal.Value != IntPtr.Zero ? new Scope(Set(1)) : default;

    /// <summary>Restores MKL's earlier count for this thread (the one libtorch set) when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly int _previous;
        private readonly bool _active;

        internal Scope(int previous)
        {
            _previous = previous;
            _active = true;
        }

        public void Dispose()
        {
            if (_active) Set(_previous);
        }
    }

    /// <summary>Sets this thread's count and returns the one before (0: none of its own).</summary>
    private static unsafe int Set(int count) => ((delegate* unmanaged<int, int>)SetLocal.Value)(count);

    // The C entry takes the count by value; the lowercase mkl_set_num_threads_local is Fortran's, by reference.
    private static IntPtr Resolve() => LibTorchCpuExports.Find("MKL_Set_Num_Threads_Local");
}
