using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// Lets Intel MKL, which libtorch_cpu.so carries for float32 matrix products, use its AVX-512
/// kernels on AMD processors.
/// </summary>
/// <remarks>
/// MKL asks <c>mkl_serv_intel_cpu_true()</c> (a CPUID test for "GenuineIntel", exported by
/// libtorch_cpu.so) before it looks at the CPU's features, and on any other vendor it runs its
/// AVX2 kernels. Measured on a 2-vCPU AMD EPYC (Zen 5) with AVX-512: a 1024² product 180–205 →
/// 460–475 GFLOP/s, GRU training 1.5×, 64 batched LSTM or GRU sessions 2× the chars/s. Answering
/// 1 there makes MKL choose by the CPU's features as it does on Intel; this is the well-known
/// "fake Intel" preload, done in process so that every entry point gets it. MKL decides on its
/// first product, so this runs as libtorch loads, before any Torch work. oneDNN (nn.LSTM's
/// training path) picks kernels by features already and is unaffected.
/// Set CHARRNN_MKL_VENDOR_CHECK=keep to leave MKL as shipped.
/// </remarks>
public static class MklVendorCheck
{
    public const string EnvironmentVariable = "CHARRNN_MKL_VENDOR_CHECK";
    private const string Symbol = "mkl_serv_intel_cpu_true";
    private static readonly byte[] ReturnOne = [0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3]; // mov eax, 1; ret

    /// <summary>What <see cref="Apply"/> did: the server's device line and the bench's header show it.</summary>
    public static string Status { get; private set; } = "not checked";

    /// <summary>True when MKL now takes the path it takes on Intel processors.</summary>
    public static bool Lifted { get; private set; }

    /// <summary>An AMD processor, where lifting applies: lifted, kept by request, or failed (say so in the device line).</summary>
    public static bool OnAmd { get; private set; }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int IntelCpuTrue();

    /// <summary>Once per process, after TorchSharp has loaded libtorch and before any product runs.</summary>
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux() || !X86Base.IsSupported) { Status = "not applicable (Linux x64 only)"; return; }
        var vendor = Vendor();
        var action = Decide(vendor, Environment.GetEnvironmentVariable(EnvironmentVariable));
        if (action == MklVendorAction.NotNeeded) { Status = $"not needed ({vendor})"; return; }
        OnAmd = true;
        if (action == MklVendorAction.Keep) { Status = $"kept ({EnvironmentVariable}=keep: MKL runs its non-Intel kernels)"; return; }
        var library = LoadedLibrary("libtorch_cpu.so");
        if (library == null) { Status = "not applied: libtorch_cpu.so is not loaded"; return; }
        if (!NativeLibrary.TryLoad(library, out var handle) || !NativeLibrary.TryGetExport(handle, Symbol, out var function))
        {
            Status = $"not applied: {library} has no {Symbol} (a libtorch without MKL)";
            return;
        }
        var check = Marshal.GetDelegateForFunctionPointer<IntelCpuTrue>(function);
        if (check() == 0)
        {
            if (!Overwrite(function, ReturnOne)) { Status = "not applied: the code page could not be made writable"; return; }
            if (check() == 0) { Status = $"not applied: {Symbol} still answers 0"; return; }
        }
        Lifted = true;
        Status = "lifted"; // MKL picks its kernels by this CPU's features
    }

    /// <summary>
    /// Lift on AMD unless <paramref name="setting"/> (the environment variable) says keep; Intel
    /// needs nothing. A value other than keep or lift is refused, so a typo does not go unseen.
    /// </summary>
    public static MklVendorAction Decide(string vendor, string? setting)
    {
        var value = setting?.Trim().ToLowerInvariant();
        if (!string.IsNullOrEmpty(value) && value != "keep" && value != "lift")
            throw new ArgumentException(
                $"{EnvironmentVariable}='{setting}' is not known; use lift (the default: MKL's AVX-512 kernels on AMD) or keep (MKL as shipped).");
        if (vendor != "AuthenticAMD") return MklVendorAction.NotNeeded;
        return value == "keep" ? MklVendorAction.Keep : MklVendorAction.Lift;
    }

    /// <summary>"GenuineIntel", "AuthenticAMD", ...: CPUID leaf 0 spells it in EBX, EDX, ECX.</summary>
    private static string Vendor()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        var bytes = new byte[12];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), ebx);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), edx);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), ecx);
        return System.Text.Encoding.ASCII.GetString(bytes);
    }

    /// <summary>The path this process mapped <paramref name="fileName"/> from: the copy TorchSharp loaded, not another on the search path.</summary>
    internal static string? LoadedLibrary(string fileName)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var slash = line.IndexOf('/');
            if (slash >= 0 && line.EndsWith("/" + fileName, StringComparison.Ordinal)) return line[slash..];
        }
        return null;
    }

    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;

    [DllImport("libc", SetLastError = true)]
    private static extern int mprotect(IntPtr address, UIntPtr length, int protection);

    /// <summary>Writes <paramref name="code"/> over the start of a function in a read-only, executable mapping.</summary>
    private static bool Overwrite(IntPtr function, byte[] code)
    {
        long page = Environment.SystemPageSize;
        var start = function.ToInt64() & ~(page - 1);
        var length = (UIntPtr)(function.ToInt64() + code.Length - start);
        if (mprotect((IntPtr)start, length, ProtRead | ProtWrite | ProtExec) != 0) return false;
        Marshal.Copy(code, 0, function, code.Length);
        mprotect((IntPtr)start, length, ProtRead | ProtExec);
        return true;
    }
}

public enum MklVendorAction { NotNeeded, Lift, Keep }
