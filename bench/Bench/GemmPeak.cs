using System.Diagnostics;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>The machine's measured float32 matrix-product rate (GFLOP/s): what training could reach at best.</summary>
public static class GemmPeak
{
    public static Stats Measure(int threads, int runs, int size = 1024)
    {
        set_num_threads(threads);
        using var a = randn(size, size, device: BenchDevice.Device);
        using var b = randn(size, size, device: BenchDevice.Device);
        var results = new List<double>();
        for (int run = 0; run < runs + 1; run++)
        {
            var clock = Stopwatch.StartNew();
            int n = 0;
            while (clock.Elapsed.TotalSeconds < 1.0 || n < 3)
            {
                using var c = mm(a, b);
                n++;
                if (n % 16 == 0) BenchDevice.Synchronize();
            }
            BenchDevice.Synchronize();
            if (run > 0) results.Add(2.0 * size * size * size * n / clock.Elapsed.TotalSeconds / 1e9); // first run: warm-up
        }
        return new Stats(results);
    }
}
