using System.Diagnostics;
using System.Globalization;
using CharRnn.Engine.Runtime;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>The machine's measured float32 matrix-product rate (GFLOP/s): what training could reach at best.</summary>
public static class GemmPeak
{
    /// <summary>1024² on a CPU; on a GPU 1024² is mostly launch and tail (37 TFLOP/s on an H200), so 4096².</summary>
    public static int Size => BenchDevice.Device.type == TorchSharp.DeviceType.CPU ? 1024 : 4096;

    public static Stats Measure(int threads, int runs)
    {
        set_num_threads(threads);
        Once(); // warm-up
        return new Stats(Enumerable.Range(0, runs).Select(_ => Once()));
    }

    /// <summary>
    /// One ~1 s measurement at the current thread count. The training bench takes one beside each
    /// of its runs, so a ratio to the peak compares two figures from the same phase of the host.
    /// </summary>
    public static double Once(double seconds = 1.0)
    {
        var size = Size;
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

    /// <summary>
    /// The same measurement in a child bench process with MKL as shipped
    /// (<see cref="MklVendorCheck.EnvironmentVariable"/>=keep): the reference for the lifted vendor
    /// check, on the same machine minutes apart. Thread count → the child's median and its formatted figure.
    /// </summary>
    public static Dictionary<int, (double Median, string Text)> MeasureAsShipped(int[] threadCounts, int runs)
    {
        var output = Path.Combine(Path.GetTempPath(), $"charrnn-bench-gemm-{Environment.ProcessId}.md");
        // Through SelfLaunch: `make bench` runs `dotnet charrnn-bench.dll`, where the process itself is dotnet.
        var start = SelfLaunch.StartInfo("--only", "gemm", "--threads", string.Join(",", threadCounts), "--runs", runs.ToString(CultureInfo.InvariantCulture),
            "--device", BenchDevice.Name, "--out", output);
        start.RedirectStandardOutput = true; // its own tables stay out of ours
        start.Environment[MklVendorCheck.EnvironmentVariable] = "keep";
        try
        {
            using (var child = Process.Start(start)!)
            {
                child.StandardOutput.ReadToEnd();
                child.WaitForExit();
                if (child.ExitCode != 0) return [];
            }
            // Rows of its GEMM table: "| 2 | 190.8 (187.1–191.7, n=5) |", the median first.
            return File.ReadLines(output).Select(l => l.Split('|', StringSplitOptions.TrimEntries))
                .Where(c => c.Length == 4 && int.TryParse(c[1], out _))
                .ToDictionary(c => int.Parse(c[1], CultureInfo.InvariantCulture),
                    c => (double.Parse(c[2].Split(' ')[0], NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture), c[2]));
        }
        finally
        {
            File.Delete(output);
        }
    }
}
