using System.Diagnostics;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>
/// How long a training job holds the device at once outside its steps: each call of an epoch's
/// end (validation batches, sample chars, the record, checkpoints), and a checkpoint save split
/// into the part on the device thread (taking the bytes) and the part in the background
/// (hash, write, fsync). On the server every stream waits for the longest of these.
/// </summary>
public static class EpochEndBench
{
    public sealed record Result(string Arch, int Threads, int Calls, Stats MedianCall, Stats LongestCall, Stats SaveOnDevice, Stats SaveInBackground);

    public static Result Run(Corpus corpus, string arch, int threads, int runs, int chars)
    {
        set_num_threads(threads);
        var text = corpus.Text[..Math.Min(chars, corpus.Text.Length)];
        var slice = new Corpus($"{corpus.Name}-{text.Length / 1000}k", text, Corpus.HexSha256(System.Text.Encoding.UTF8.GetBytes(text)));
        var architecture = Architectures.Get("stateful-" + arch);
        var medians = new List<double>();
        var longest = new List<double>();
        var onDevice = new List<double>();
        var inBackground = new List<double>();
        int calls = 0;
        for (int run = 0; run < runs; run++)
        {
            var folder = Path.Combine(Path.GetTempPath(), $"charrnn-bench-epoch-end-{Environment.ProcessId}-{arch}");
            try
            {
                using var trainer = Trainer.Create(architecture, architecture.Resolve(new Dictionary<string, double>()),
                    new TrainingOptions { Epochs = 2, Lowercase = true }, slice, BenchDevice.Device, folder);
                trainer.SaveCheckpoint("warm-up"); // the first save pays one-off costs (JIT, JSON metadata)
                while (!trainer.InEpochEnd) trainer.StepPiece(1);
                var times = new List<double>();
                var clock = new Stopwatch();
                while (trainer.InEpochEnd)
                {
                    clock.Restart();
                    trainer.StepPiece(1);
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }
                calls = times.Count;
                var stats = new Stats(times);
                medians.Add(stats.Median);
                longest.Add(stats.Max);

                trainer.FlushCheckpoints();
                clock.Restart();
                trainer.QueueCheckpoint("bench");
                onDevice.Add(clock.Elapsed.TotalMilliseconds);
                trainer.FlushCheckpoints();
                inBackground.Add(clock.Elapsed.TotalMilliseconds - onDevice[^1]);
            }
            finally
            {
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            }
        }
        var result = new Result(arch, threads, calls, new Stats(medians), new Stats(longest), new Stats(onDevice), new Stats(inBackground));
        Console.WriteLine($"  epoch end {arch}: {calls} calls, median {result.MedianCall.Median:F1} ms, longest {result.LongestCall.Median:F1} ms; " +
                          $"save {result.SaveOnDevice.Median:F1} ms on the device thread + {result.SaveInBackground.Median:F1} ms in the background");
        return result;
    }
}
