using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace CharRnn.Bench;

/// <summary>
/// Runs bench/pytorch_reference.py and reads its JSON result: with Debian's python3-torch on the
/// CPU, or with a GPU host's own PyTorch (--python) on CUDA.
/// </summary>
/// <param name="device">"cpu" or "cuda": where the reference runs, always the engine's device.</param>
public sealed class PyTorchReference(string script, string corpus, string python, string device)
{
    public string? Blas { get; private set; }
    public string? Version { get; private set; }
    public string? Problem { get; private set; }

    public bool Available()
    {
        var probe = Run(["generate", "--arch", "rnn", "--seconds", "0.1", "--warmup", "1"]);
        return probe != null;
    }

    /// <summary>What the header says of the reference.</summary>
    public string Describe() => device == "cpu"
        ? $"PyTorch {Version} (Debian python3-torch) · BLAS mapped: {Blas} · CPU kernels: {Kernels}"
        : $"PyTorch {Version} on {device} ({python})";

    public JsonElement? Train(string arch, int bs, int bptt, int threads, double seconds) =>
        Run(["train", "--arch", arch, "--bs", bs.ToString(CultureInfo.InvariantCulture), "--bptt", bptt.ToString(CultureInfo.InvariantCulture),
             "--threads", threads.ToString(CultureInfo.InvariantCulture), "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--corpus", corpus]);

    /// <param name="vocabulary">The engine model's vocabulary size: its output layer's width.</param>
    public JsonElement? Generate(string arch, int batch, int threads, double seconds, int vocabulary) =>
        Run(["generate", "--arch", arch, "--batch", batch.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture),
             "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--vocab", vocabulary.ToString(CultureInfo.InvariantCulture)]);

    /// <summary>The CPU kernels PyTorch is run with.</summary>
    public static string Kernels => System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "AVX-512" : "its default";

    private JsonElement? Run(string[] args)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        // Its widest kernels: Debian's build picks AVX2 on this AVX-512 CPU unless told (the engine's libtorch uses AVX-512).
        if (device == "cpu" && Kernels == "AVX-512") start.Environment["ATEN_CPU_CAPABILITY"] = "avx512";
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.ArgumentList.Add("--device");
        start.ArgumentList.Add(device);
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Problem = $"{python} {Path.GetFileName(script)} --device {device} failed: {stderr.Result.Trim().Split('\n').LastOrDefault()}";
                return null;
            }
            var json = JsonDocument.Parse(stdout.Result.Trim().Split('\n').Last()).RootElement;
            Blas = json.GetProperty("blas").GetString();
            Version = json.GetProperty("torch").GetString();
            return json;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or JsonException or InvalidOperationException)
        {
            Problem = $"PyTorch reference unavailable ({python}): {e.Message}";
            return null;
        }
    }
}
