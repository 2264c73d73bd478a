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
/// every thread count); results equal torch's product to float rounding, for any number of
/// threads (<see cref="MklProductThreads"/> sets how many) and the rows it was checked for.
/// </remarks>
public sealed unsafe class MklPackedWeight : IDisposable
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112, Packed = 151, BMatrix = 162;
    private static readonly Lazy<Functions?> Mkl = new(Resolve);
    private readonly int _out, _in;
    private float* _packed;
    private readonly long _bytes;

    private MklPackedWeight(int outFeatures, int inFeatures, int maxRows, float* packed, long bytes)
    {
        _out = outFeatures;
        _in = inFeatures;
        MaxRows = maxRows;
        _packed = packed;
        _bytes = bytes;
        GC.AddMemoryPressure(bytes);
    }

    /// <summary>True where this process's libtorch carries MKL's packed GEMM.</summary>
    public static bool Available => Mkl.Value != null;

    /// <summary>The most rows a product may have (<see cref="TryPack"/> checked up to these).</summary>
    public int MaxRows { get; }

    /// <summary>
    /// A packed copy of a float32 CPU <paramref name="weight"/> [out × in] for products of 1 to
    /// <paramref name="maxRows"/> rows, or null where MKL's packed GEMM is not available or does
    /// not give torch's product there. MKL packs for a given row count and does not promise the
    /// layout serves others (it did for 1 to 256 rows on this project's machine), so the copy is
    /// checked against torch's product at one row and at <paramref name="maxRows"/>.
    /// </summary>
    public static MklPackedWeight? TryPack(Tensor weight, int maxRows)
    {
        if (maxRows < 1) throw new ArgumentOutOfRangeException(nameof(maxRows), maxRows, "A product has at least one row.");
        if (Mkl.Value is not { } mkl || weight.device.type != DeviceType.CPU || weight.dtype != ScalarType.Float32 || weight.dim() != 2) return null;
        using var scope = NewDisposeScope();
        var w = weight.detach().contiguous();
        int outFeatures = checked((int)w.shape[0]), inFeatures = checked((int)w.shape[1]);
        var size = mkl.PackSize(BMatrix, 1, outFeatures, inFeatures);
        var packed = (float*)NativeMemory.AlignedAlloc(size, 64);
        mkl.Pack(RowMajor, BMatrix, Trans, 1, outFeatures, inFeatures, 1f, (float*)TensorMemory.DataPointer(w), inFeatures, packed);
        var result = new MklPackedWeight(outFeatures, inFeatures, maxRows, packed, (long)size);
        using (no_grad())
        {
            foreach (var rows in maxRows == 1 ? [1] : new[] { 1, maxRows })
            {
                var x = rand(rows, inFeatures) - 0.5f;
                var product = empty(rows, outFeatures);
                result.MultiplyInto(x, product, accumulate: false);
                if (!product.allclose(x.mm(w.t()), rtol: 1e-4, atol: 1e-4))
                {
                    result.Dispose();
                    return null;
                }
            }
        }
        return result;
    }

    /// <summary>
    /// <paramref name="output"/> [rows × out] = x·Wᵀ, or += x·Wᵀ when <paramref name="accumulate"/>;
    /// both contiguous float32 CPU tensors (x [rows × in], rows up to <see cref="MaxRows"/>).
    /// </summary>
    public void MultiplyInto(Tensor x, Tensor output, bool accumulate)
    {
        ObjectDisposedException.ThrowIf(_packed == null, this);
        if (x.dim() != 2 || x.shape[1] != _in || output.dim() != 2 || output.shape[0] != x.shape[0] || output.shape[1] != _out)
            throw new ArgumentException($"A packed [{_out} × {_in}] weight multiplies [rows × {_in}] into [rows × {_out}]; got [{string.Join(" × ", x.shape)}] into [{string.Join(" × ", output.shape)}].");
        if (x.shape[0] > MaxRows)
            throw new ArgumentException($"This packed weight multiplies up to {MaxRows} rows (it was checked for those); got {x.shape[0]}.");
        if (!IsDenseCpuFloat(x) || !IsDenseCpuFloat(output))
            throw new ArgumentException("A packed product needs contiguous float32 CPU tensors.");
        int rows = checked((int)x.shape[0]);
        if (rows == 0) return;
        using (MklProductThreads.Use())
            Mkl.Value!.Compute(RowMajor, NoTrans, Packed, rows, _out, _in, (float*)TensorMemory.DataPointer(x), _in, _packed, _in,
                accumulate ? 1f : 0f, (float*)TensorMemory.DataPointer(output), _out);
        GC.KeepAlive(x);
        GC.KeepAlive(output);
        GC.KeepAlive(this); // its finalizer must not free the packed copy during the call
    }

    private static bool IsDenseCpuFloat(Tensor t) => t.device.type == DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous();

    public void Dispose()
    {
        if (_packed == null) return;
        NativeMemory.AlignedFree(_packed);
        _packed = null;
        GC.RemoveMemoryPressure(_bytes);
        GC.SuppressFinalize(this);
    }

    ~MklPackedWeight() => Dispose();

    private sealed class Functions
    {
        public required delegate* unmanaged<int, int, int, int, nuint> PackSize;
        public required delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, void> Pack;
        public required delegate* unmanaged<int, int, int, int, int, int, float*, int, float*, int, float, float*, int, void> Compute;
    }

    private static Functions? Resolve()
    {
        IntPtr size = LibTorchCpuExports.Find("cblas_sgemm_pack_get_size"), pack = LibTorchCpuExports.Find("cblas_sgemm_pack"),
            compute = LibTorchCpuExports.Find("cblas_sgemm_compute");
        if (size == IntPtr.Zero || pack == IntPtr.Zero || compute == IntPtr.Zero) return null;
        return new Functions
        {
            PackSize = (delegate* unmanaged<int, int, int, int, nuint>)size,
            Pack = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, void>)pack,
            Compute = (delegate* unmanaged<int, int, int, int, int, int, float*, int, float*, int, float, float*, int, void>)compute,
        };
    }
}
