using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// A weight matrix W [out × in] held as a bfloat16 copy, for products x·Wᵀ that MKL's
/// <c>cblas_gemm_bf16bf16f32</c> computes: x rounded to bfloat16 (into a buffer kept between
/// calls), every product of two bfloat16 numbers exact, sums in float32, a float32 result. So the
/// result is the float32 product of the rounded operands (to ~1e-7 relative), whatever the row
/// count: a session's text does not depend on how many others step with it beyond float32's
/// rounding. Half the bytes of W to read and AVX512_BF16's dot products: measured on this project's
/// AMD EPYC (W 2048 × 512, one thread, loaded machine) 0.60 against 1.37 ms for float32's sgemm at
/// 64 rows, 0.044 against 0.11 ms at one (bench, generation section, for whole steps).
/// </summary>
/// <remarks>
/// Only where libtorch_cpu.so exports the function (MKL inside it) and the CPU has AVX512_BF16
/// (libtorch's own <c>at::cpu::is_avx512_bf16_supported</c>): elsewhere MKL emulates the bf16
/// dot products, slower than float32. One caller at a time, as for the model it belongs to.
/// </remarks>
public sealed unsafe class MklBf16Weight : IWeightProduct
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;
    private static readonly Lazy<(IntPtr Gemm, string? WhyNot)> Mkl = new(Resolve);
    private readonly Tensor _weight; // W [out × in], bfloat16, contiguous
    private readonly int _out, _in;
    private Tensor? _rounded; // x in bfloat16: [capacity × in], its first rows used

    /// <summary>
    /// Products of fewer rows run on one thread: MKL splits even a one-row bf16 product over all of them
    /// (its packed float32 product of one row does not), which on this project's loaded 2-vCPU host took
    /// 18.6 ms a product on two threads against 0.071 ms on one (W 2048 × 512, median of 7 rounds).
    /// </summary>
    private const int SharedFromRows = 8;

    /// <summary>Products of up to this many rows (generation batches) round x into a kept buffer; longer ones (a prime's whole text) into one of their own.</summary>
    private const int MaxBufferedRows = 1024;
    private bool _disposed;

    private MklBf16Weight(Tensor weight)
    {
        _weight = weight;
        _out = checked((int)weight.shape[0]);
        _in = checked((int)weight.shape[1]);
    }

    /// <summary>Why bf16 products are not offered here, or null where they are.</summary>
    public static string? WhyUnavailable => Mkl.Value.WhyNot;

    public static bool Available => WhyUnavailable == null;

    /// <summary>
    /// bf16 products of a float32 CPU <paramref name="weight"/> [out × in] (rounded to a bfloat16
    /// copy), or null where they are not available, the weight is not such a matrix, or MKL's
    /// product of the copy does not match torch's float32 product of the rounded operands.
    /// </summary>
    public static MklBf16Weight? TryCreate(Tensor weight)
    {
        if (!Available || weight.device.type != DeviceType.CPU || weight.dtype != ScalarType.Float32 || weight.dim() != 2) return null;
        MklBf16Weight made;
        using (no_grad()) made = new MklBf16Weight(weight.detach().to(ScalarType.BFloat16).contiguous().DetachFromDisposeScope());
        if (made.MultipliesRight()) return made;
        made.Dispose();
        return null;
    }

    public void MultiplyInto(Tensor x, Tensor output, bool accumulate)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        WeightProductShapes.Check(x, output, _out, _in, DeviceType.CPU, "bf16");
        int rows = checked((int)x.shape[0]);
        if (rows == 0) return;
        if (rows <= MaxBufferedRows && (_rounded is null || _rounded.shape[0] < rows))
        {
            _rounded?.Dispose();
            _rounded = empty(rows, _in, ScalarType.BFloat16).DetachFromDisposeScope();
        }
        using var rounded = rows <= MaxBufferedRows ? _rounded!.narrow(0, 0, rows) : empty(rows, _in, ScalarType.BFloat16); // a contiguous tensor's first rows: contiguous
        rounded.copy_(x); // round to nearest even, as torch rounds
        var gemm = (delegate* unmanaged<int, int, int, int, int, int, float, void*, int, void*, int, float, float*, int, void>)Mkl.Value.Gemm;
        using (rows < SharedFromRows ? MklProductThreads.UseOne() : MklProductThreads.Use())
            gemm(RowMajor, NoTrans, Trans, rows, _out, _in, 1f, (void*)TensorMemory.DataPointer(rounded), _in, (void*)TensorMemory.DataPointer(_weight), _in,
                accumulate ? 1f : 0f, (float*)TensorMemory.DataPointer(output), _out); // beta 0: output's old values, even NaN, are ignored
        GC.KeepAlive(x);
        GC.KeepAlive(output);
    }

    /// <summary>One product of a few random rows against torch's float32 product of the same rounded operands.</summary>
    private bool MultipliesRight()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = rand(3, _in) - 0.5f;
        var product = empty(3, _out);
        MultiplyInto(x, product, accumulate: false);
        var expected = x.to(ScalarType.BFloat16).to(ScalarType.Float32).mm(_weight.to(ScalarType.Float32).t());
        return product.allclose(expected, rtol: 1e-4, atol: 1e-5);
    }

    public void FreeCaches()
    {
        _rounded?.Dispose();
        _rounded = null;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        FreeCaches();
        _weight.Dispose();
    }

    private static (IntPtr, string?) Resolve()
    {
        var gemm = LibTorchCpuExports.Find("cblas_gemm_bf16bf16f32");
        if (gemm == IntPtr.Zero) return (IntPtr.Zero, "this libtorch does not carry MKL's bf16 product (cblas_gemm_bf16bf16f32)");
        var supported = LibTorchCpuExports.Find("_ZN2at3cpu24is_avx512_bf16_supportedEv"); // bool at::cpu::is_avx512_bf16_supported()
        if (supported == IntPtr.Zero || ((delegate* unmanaged<byte>)supported)() == 0)
            return (IntPtr.Zero, "this CPU has no AVX512_BF16 instructions (MKL would emulate them, slower than float32)");
        return (gemm, null);
    }
}
