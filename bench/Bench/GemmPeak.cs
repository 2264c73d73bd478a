using System.Diagnostics;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>The machine's measured float32 matrix-product rate (GFLOP/s): what training could reach at best.</summary>
public static class GemmPeak
{
    public static Stats Measure(int threads, int runs, int size = 1024)
    {
        set_num_threads(threads);
        Once(size); // warm-up
        return new Stats(Enumerable.Range(0, runs).Select(_ => Once(size)));
    }

    /// <summary>
    /// One ~1 s measurement at the current thread count. The training bench takes one beside each
    /// of its runs, so a ratio to the peak compares two figures from the same phase of the host.
    /// </summary>
    public static double Once(int size = 1024, double seconds = 1.0)
    {
        using var a = randn(size, size, device: BenchDevice.Device);
        using var b = randn(size, size, device: BenchDevice.Device);
        BenchDevice.Synchronize();
        var clock = Stopwatch.StartNew();
        int n = 0;
        while (clock.Elapsed.TotalSeconds < seconds || n < 3)
        {
            using var c = mm(a, b);
            n++;
            if (n % 16 == 0) BenchDevice.Synchronize();
        }
        BenchDevice.Synchronize();
        return 2.0 * size * size * size * n / clock.Elapsed.TotalSeconds / 1e9;
    }
}
