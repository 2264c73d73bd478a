using System.Diagnostics;
using System.Globalization;
using CharRnn.Engine.Runtime;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>
/// glibc malloc as the product runs it (<see cref="MallocSettings"/>: freed memory kept for
/// reuse) against malloc as shipped, each in child processes of this program taken in turn
/// (tuned, shipped, tuned, …) so the host's fast and slow phases hit both alike. Each child
/// measures a 64 MB tensor's allocation and first write, and nn.LSTM's forward and backward at
/// bs 64, bptt 64 (<see cref="TwoLayerLstmAlone"/>), whose oneDNN workspace is the largest block a
/// training step allocates.
/// </summary>
public static class MallocBench
{
    public const string ProbeOption = "--malloc-probe";

    public sealed record Figures(Stats AllocationMs, Stats LstmCharsPerSecond);

    /// <summary>Tuned and as shipped, <paramref name="runs"/> children each.</summary>
    public static (Figures Tuned, Figures Shipped) Run(int threads, int runs)
    {
        var tuned = new List<(double, double)>();
        var shipped = new List<(double, double)>();
        for (int r = 0; r < runs; r++)
        {
            tuned.Add(Child(threads, keep: false));
            shipped.Add(Child(threads, keep: true));
        }
        static Figures Of(List<(double Ms, double Chars)> values) => new(new Stats(values.Select(v => v.Ms)), new Stats(values.Select(v => v.Chars)));
        return (Of(tuned), Of(shipped));
    }

    /// <summary>In a child: one measurement of each figure, printed as "ALLOC_MS LSTM_CHARS_PER_S".</summary>
    public static string Probe()
    {
        var allocation = new List<double>();
        for (int i = 0; i < 12; i++)
        {
            var clock = Stopwatch.StartNew();
            using (var block = zeros(16L << 20)) { } // 64 MB of float32, written once
            allocation.Add(clock.Elapsed.TotalMilliseconds);
        }
        using var lstm = new TwoLayerLstmAlone(bptt: 64);
        for (int i = 0; i < 2; i++) lstm.Step(); // warm-up
        var timer = Stopwatch.StartNew();
        int steps = 0;
        while (timer.Elapsed.TotalSeconds < 3 || steps < 3)
        {
            lstm.Step();
            steps++;
        }
        var charsPerSecond = lstm.CharactersPerStep * steps / timer.Elapsed.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture, $"{new Stats(allocation.Skip(2)).Median:F3} {charsPerSecond:F0}");
    }

    private static (double Ms, double Chars) Child(int threads, bool keep)
    {
        var start = SelfLaunch.StartInfo(ProbeOption, "--threads", threads.ToString(CultureInfo.InvariantCulture));
        start.RedirectStandardOutput = true;
        // A tuned child re-executes itself with the settings, as the product does; a shipped one is told to keep.
        start.Environment.Remove(MallocSettings.TunablesVariable);
        start.Environment.Remove(MallocSettings.EnvironmentVariable);
        if (keep) start.Environment[MallocSettings.EnvironmentVariable] = "keep";
        using var child = Process.Start(start)!;
        var line = child.StandardOutput.ReadToEnd().Trim().Split('\n')[^1].Split(' ');
        child.WaitForExit();
        if (child.ExitCode != 0 || line.Length != 2) return (double.NaN, double.NaN);
        return (double.Parse(line[0], CultureInfo.InvariantCulture), double.Parse(line[1], CultureInfo.InvariantCulture));
    }
}
