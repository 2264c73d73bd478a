using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// A weight matrix W [out × in] packed once into MKL's internal layout, for products x·Wᵀ
/// ([rows × in] → [rows × out]) that skip the packing MKL's sgemm does to W on every call.
/// Generation multiplies the same weights by a few rows at every step, where that packing is a
/// large part of the work. Measured on this project's 2-vCPU AMD EPYC (W 2048 × 512, the LSTM's,
/// median of 7 rounds): 1 row 47 against 57 µs, 8 rows 53 against 139, 64 rows 334 against 425,
/// 256 rows 1.29 against 1.38 ms (2 threads); 51/59, 81/206, 611/657 µs on one thread.
/// </summary>
/// <remarks>
/// MKL is inside libtorch_cpu.so, which exports its packed-GEMM functions (cblas_sgemm_pack,
/// cblas_sgemm_compute); where they are missing (a libtorch without MKL) nothing is packed.
/// The packed copy holds W's values when it was made: whoever changes W (training, loading
/// other weights) must drop it. It takes about 3× W's memory plus ~8 MB (MKL's layout for
/// every thread count); results equal torch's product to float rounding, and one packed copy
/// serves any number of rows and threads.
/// </remarks>
public sealed unsafe class MklPackedWeight : IDisposable
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112, Packed = 151, BMatrix = 162;
    private static readonly Lazy<Functions?> Mkl = new(Resolve);
    [ThreadStatic] private static int _productThreads;
    private readonly int _out, _in;
    private float* _packed;

    private MklPackedWeight(int outFeatures, int inFeatures, float* packed)
    {
        _out = outFeatures;
        _in = inFeatures;
        _packed = packed;
    }

    /// <summary>
    /// Threads MKL uses for packed products made on the calling thread; 0 (the default): as many
    /// as libtorch uses. A generation loop sets its full count here and tunes libtorch's (which
    /// also runs the elementwise work) per step: a product of 8 or more rows is 1.5–2× faster on
    /// two threads than on one on this project's machine, where the elementwise gate arithmetic
    /// between products can be 10× slower split over two (OpenMP's fork and join).
    /// </summary>
    public static int ProductThreads
    {
        get => _productThreads;
        set => _productThreads = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A thread count is 0 (libtorch's) or more.");
    }

    /// <summary>True where this process's libtorch carries MKL's packed GEMM.</summary>
    public static bool Available => Mkl.Value != null;

    /// <summary>A packed copy of a float32 CPU <paramref name="weight"/> [out × in], or null where MKL's packed GEMM is not available.</summary>
    public static MklPackedWeight? TryPack(Tensor weight)
    {
        if (Mkl.Value is not { } mkl || weight.device.type != DeviceType.CPU || weight.dtype != ScalarType.Float32 || weight.dim() != 2) return null;
        using var w = weight.detach().contiguous();
        int outFeatures = checked((int)w.shape[0]), inFeatures = checked((int)w.shape[1]);
        // Packed for the product x·Wᵀ with x of one row; MKL's packed layout does not depend on the row count.
        var size = mkl.PackSize(BMatrix, 1, outFeatures, inFeatures);
        var packed = (float*)NativeMemory.AlignedAlloc(size, 64);
        mkl.Pack(RowMajor, BMatrix, Trans, 1, outFeatures, inFeatures, 1f, (float*)DataPointer(w), inFeatures, packed);
        return new MklPackedWeight(outFeatures, inFeatures, packed);
    }

    /// <summary>
    /// <paramref name="output"/> [rows × out] = x·Wᵀ, or += x·Wᵀ when <paramref name="accumulate"/>;
    /// both contiguous float32 CPU tensors (x [rows × in]).
    /// </summary>
    public void MultiplyInto(Tensor x, Tensor output, bool accumulate)
    {
        ObjectDisposedException.ThrowIf(_packed == null, this);
        if (x.dim() != 2 || x.shape[1] != _in || output.dim() != 2 || output.shape[0] != x.shape[0] || output.shape[1] != _out)
            throw new ArgumentException($"A packed [{_out} × {_in}] weight multiplies [rows × {_in}] into [rows × {_out}]; got [{string.Join(" × ", x.shape)}] into [{string.Join(" × ", output.shape)}].");
        if (!IsDenseCpuFloat(x) || !IsDenseCpuFloat(output))
            throw new ArgumentException("A packed product needs contiguous float32 CPU tensors.");
        int rows = checked((int)x.shape[0]);
        if (rows == 0) return;
        var mkl = Mkl.Value!;
        // MKL's thread-local count wins over the one libtorch sets; restored so that libtorch's own products keep theirs.
        int previous = _productThreads > 0 ? mkl.SetLocalThreads(_productThreads) : 0;
        try
        {
            mkl.Compute(RowMajor, NoTrans, Packed, rows, _out, _in, (float*)DataPointer(x), _in, _packed, _in,
                accumulate ? 1f : 0f, (float*)DataPointer(output), _out);
        }
        finally
        {
            if (_productThreads > 0) mkl.SetLocalThreads(previous);
        }
        GC.KeepAlive(x);
        GC.KeepAlive(output);
    }

    private static bool IsDenseCpuFloat(Tensor t) => t.device.type == DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous();

    public void Dispose()
    {
        if (_packed == null) return;
        NativeMemory.AlignedFree(_packed);
        _packed = null;
        GC.SuppressFinalize(this);
    }

    ~MklPackedWeight() => Dispose();

    private static IntPtr DataPointer(Tensor t) => THSTensor_data(t.Handle);

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);

    private sealed class Functions
    {
        public required delegate* unmanaged<int, int, int, int, nuint> PackSize;
        public required delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, void> Pack;
        public required delegate* unmanaged<int, int, int, int, int, int, float*, int, float*, int, float, float*, int, void> Compute;
        public required delegate* unmanaged<int, int> SetLocalThreads; // returns the previous local count (0: none)
    }

    private static Functions? Resolve()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var library = MklVendorCheck.LoadedLibrary("libtorch_cpu.so");
        if (library == null || !NativeLibrary.TryLoad(library, out var handle)) return null;
        if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm_pack_get_size", out var size)
            || !NativeLibrary.TryGetExport(handle, "cblas_sgemm_pack", out var pack)
            || !NativeLibrary.TryGetExport(handle, "cblas_sgemm_compute", out var compute)
            || !NativeLibrary.TryGetExport(handle, "MKL_Set_Num_Threads_Local", out var localThreads)) // the C entry; mkl_set_num_threads_local is Fortran's (by reference)
            return null;
        return new Functions
        {
            PackSize = (delegate* unmanaged<int, int, int, int, nuint>)size,
            Pack = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, void>)pack,
            Compute = (delegate* unmanaged<int, int, int, int, int, int, float*, int, float*, int, float, float*, int, void>)compute,
            SetLocalThreads = (delegate* unmanaged<int, int>)localThreads,
        };
    }
}
