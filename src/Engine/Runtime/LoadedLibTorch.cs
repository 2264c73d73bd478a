using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// Which libtorch this process runs on, for the device line: TorchSharp's own (the version it was
/// built for), or another found first on the library path, such as a GPU host's PyTorch
/// (docs/deploy.md), named by its folder and, where it sits in a PyTorch install, its version.
/// </summary>
public static partial class LoadedLibTorch
{
    /// <summary>"libtorch 2.10.0.0", or "libtorch 2.11.0+cu130 from /…/torch/lib (TorchSharp built for 2.10.0.0)".</summary>
    public static string Describe() =>
        Describe(OperatingSystem.IsLinux() ? MklVendorCheck.LoadedLibrary("libtorch_cpu.so") : null, AppContext.BaseDirectory);

    public static string Describe(string? loadedLibrary, string applicationDirectory)
    {
        var own = $"libtorch {__version__}";
        if (loadedLibrary == null) return own;
        var folder = Path.GetDirectoryName(loadedLibrary)!;
        if (IsWithin(folder, applicationDirectory) || IsWithin(folder, NuGetPackages())) return own;
        return $"libtorch {PyTorchVersion(folder) ?? "(version unknown)"} from {folder} (TorchSharp built for {__version__})";
    }

    /// <summary>A PyTorch install keeps its version beside lib/: torch/version.py's <c>__version__ = '2.11.0+cu130'</c>.</summary>
    private static string? PyTorchVersion(string libraryFolder)
    {
        try
        {
            var file = Path.Combine(libraryFolder, "..", "version.py");
            if (!File.Exists(file)) return null;
            var match = VersionLine().Match(File.ReadAllText(file));
            return match.Success ? match.Groups[1].Value : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    // The folder itself counts: a self-contained publish keeps libtorch_cpu.so beside the executable.
    private static bool IsWithin(string folder, string? root) =>
        root != null && (Path.GetFullPath(folder).TrimEnd('/') + "/").StartsWith(Path.GetFullPath(root).TrimEnd('/') + "/", StringComparison.Ordinal);

    // TorchSharp's fallback loads libtorch from the NuGet cache when the build output lacks it.
    private static string? NuGetPackages() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    [GeneratedRegex(@"^__version__\s*=\s*['""]([^'""]+)['""]", RegexOptions.Multiline)]
    private static partial Regex VersionLine();
}
