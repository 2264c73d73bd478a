using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// Where tensors live and how many CPU threads libtorch may use. Call <see cref="Initialize"/>
/// once per process before any other Torch work: it checks that the native library can load
/// (and explains how to fix it when it cannot), resolves "auto", and sets the thread count.
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _checked;
    private static bool _mklChecked;

    public const string DeviceHelp = "cpu, cuda, cuda:N or auto (cuda when available, else cpu)";

    /// <summary>
    /// The most libtorch threads one may ask for: 256, or the core count where that is more. Thousands
    /// (a typo) made the process spin up a pool that starved both cores for minutes before any work.
    /// </summary>
    public static int MaxThreads => Math.Max(256, Environment.ProcessorCount);

    /// <summary>Resolves a device name and sets libtorch's thread count (0: leave libtorch's default).</summary>
    public static Device Initialize(string deviceName = "auto", int threads = 0)
    {
        MallocSettings.ThrowIfInvalid();
        EnsureNativeLibraryLoads();
        LiftMklVendorCheck();
        if (threads is < 0 || threads > MaxThreads) throw new ArgumentException($"threads = {threads} is not allowed; use 0 (libtorch's default: one per core) to {MaxThreads}.");
        if (threads > 0) set_num_threads(threads);
        return ResolveDevice(deviceName);
    }

    public static Device ResolveDevice(string deviceName)
    {
        var name = (deviceName ?? "auto").Trim().ToLowerInvariant();
        if (name == "auto") return cuda.is_available() ? CUDA : CPU;
        if (name == "cpu") return CPU;
        if (name == "cuda" || name.StartsWith("cuda:", StringComparison.Ordinal))
        {
            // Parsed before CUDA is asked about: a malformed name ("cuda:x", "cuda:-1") is wrong on every build,
            // and "CUDA is not available" would send the user to rebuild for a typo.
            var index = 0;
            if (name != "cuda" && !int.TryParse(name[5..], NumberStyles.None, CultureInfo.InvariantCulture, out index))
                throw new ArgumentException($"device '{deviceName}' is not known; use {DeviceHelp}; N is a device number (0, 1, …).");
            if (!cuda.is_available())
                throw new ArgumentException($"device '{deviceName}' was asked for, but CUDA is not available in this build or on this machine " +
                                            "(the default build uses libtorch's CPU package: on a GPU host build with TORCH_BACKEND=cuda, " +
                                            "or run on the libtorch of a PyTorch built with CUDA, docs/deploy.md; or use --device cpu).");
            if (name == "cuda") return CUDA;
            if (index >= cuda.device_count())
                throw new ArgumentException($"device '{deviceName}' is not available; this machine has {cuda.device_count()} CUDA device(s): use cuda:0 to cuda:{cuda.device_count() - 1}.");
            return new Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"device '{deviceName}' is not known; use {DeviceHelp}.");
    }

    /// <summary>
    /// Held around building a model: a seeded one's initialisation must come out as seeded, and a
    /// model built on another thread at the same time (the server loading one for a new session)
    /// draws from the same process-wide generator.
    /// </summary>
    public static readonly Lock DefaultGenerators = new();

    /// <summary>Seeds libtorch's generators (initialisation, dropout).</summary>
    public static void Seed(long seed)
    {
        manual_seed(seed);
        if (CudaAvailable) cuda.manual_seed_all(seed);
    }

    private static readonly Lazy<bool> _cudaAvailable = new(cuda.is_available);
    private static bool CudaAvailable => _cudaAvailable.Value; // asked once: training seeds every step

    public static string Describe(Device device) =>
        $"{device} · {get_num_threads()} thread(s) · {LoadedLibTorch.Describe()}" + (MklVendorCheck.OnAmd ? $" · MKL vendor check {MklVendorCheck.Status}" : "") +
        $" · malloc {MallocSettings.Summary}";

    /// <summary>Loads libtorch (TorchSharp's own loader, no Torch work yet) and lets MKL use this CPU's widest kernels; see <see cref="MklVendorCheck"/>.</summary>
    private static void LiftMklVendorCheck()
    {
        lock (Gate)
        {
            if (_mklChecked) return;
            _mklChecked = true;
            InitializeDeviceType(DeviceType.CPU);
            MklVendorCheck.Apply();
        }
    }

    /// <summary>
    /// Fails with a message a user can act on when libLibTorchSharp.so cannot load because it
    /// needs a newer libstdc++ than the system has and the build did not patch it.
    /// </summary>
    private static void EnsureNativeLibraryLoads()
    {
        lock (Gate)
        {
            if (_checked) return;
            _checked = true;
            if (!OperatingSystem.IsLinux()) return;
            var library = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            if (!File.Exists(library)) library = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
            if (!File.Exists(library)) return;
            var system = GlibcxxCompatibility.SystemVersions(out var systemPath);
            if (system == null) return;
            var decision = GlibcxxCompatibility.Decide(ElfVersionNeeds.Read(library), system);
            // Decide's Patched means "should be patched": this copy is not, which matters only where the system lacks the version.
            if (decision.Outcome == GlibcxxOutcome.Patched && !system.Contains(GlibcxxCompatibility.Version))
                throw new InvalidOperationException(
                    $"{library} needs {GlibcxxCompatibility.Version}, which {systemPath} lacks, and it has not been patched: this copy was not " +
                    "built or published from this repository, whose build step marks that need weak " +
                    $"(only {GlibcxxCompatibility.OnlySymbol}, never called, uses it). Run 'make build' (or dotnet build/publish here); see README, Troubleshooting.");
            if (decision.Outcome == GlibcxxOutcome.Refused)
                throw new InvalidOperationException($"{library} cannot load with {systemPath}: {decision.Reason}");
        }
    }
}
