using System.Runtime.InteropServices;
using TorchSharp;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// Functions of the libtorch_cpu.so this process loaded (MKL's, which it carries and exports),
/// found by name; none where it is missing (another OS, a libtorch without MKL).
/// </summary>
internal static class LibTorchCpuExports
{
    private static readonly Lazy<IntPtr> Library = new(Load);

    /// <summary>The function named <paramref name="name"/>, or <see cref="IntPtr.Zero"/>.</summary>
    public static IntPtr Find(string name) =>
        Library.Value != IntPtr.Zero && NativeLibrary.TryGetExport(Library.Value, name, out var function) ? function : IntPtr.Zero;

    private static IntPtr Load()
    {
        if (!OperatingSystem.IsLinux()) return IntPtr.Zero;
        torch.InitializeDeviceType(DeviceType.CPU); // loads libtorch if nothing has yet, so that the copy TorchSharp loaded is the one found
        var path = MklVendorCheck.LoadedLibrary("libtorch_cpu.so");
        return path != null && NativeLibrary.TryLoad(path, out var handle) ? handle : IntPtr.Zero;
    }
}
