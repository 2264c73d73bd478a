using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// A weight matrix W [out × in] for products x·Wᵀ ([rows × in] → [rows × out]) that MKL computes
/// from copies of W packed into its internal layout ahead of time, skipping the packing its sgemm
/// does to W on every call. Generation multiplies the same weights by a few rows at every step,
/// where that packing is a large part of the work. Measured on this project's 2-vCPU AMD EPYC
/// (W 2048 × 512, the LSTM's, median of 7 rounds): 1 row 47 against 57 µs, 8 rows 53 against 139,
/// 64 rows 334 against 425, 256 rows 1.29 against 1.38 ms (2 threads); 51/59, 81/206, 611/657 µs
/// on one thread. Packing a copy costs the time of 7–40 such products (bench `packed`).
/// </summary>
/// <remarks>
/// MKL is inside libtorch_cpu.so, which exports its packed-GEMM functions (cblas_sgemm_pack,
/// cblas_sgemm_compute); where they are missing (a libtorch without MKL) nothing is packed.
/// MKL packs for one product shape, rows included: a packed copy serves only the row count it was
/// packed for (Intel's own PyTorch extension falls back to plain sgemm when rows change). A copy
/// packed for one row and used for 127 gave right results on this project's machine; on CI's
/// machine a test host crashed in that test (no crash report then: the likely cause). So a copy is
/// packed per row count: when a product's row count was also that of <see cref="SightingsToPack"/>
/// of the <see cref="RecentCalls"/> products before it (a generation loop's steps, or the server's
/// alternating batches of 256 and the rest), at most <see cref="MaxPacks"/> of them, the least
/// recently used dropped first; any other product (a prime's one-off row count, batches whose size
/// changes every step or two, where packing would cost more than it saves) is torch's. Each copy
/// is checked against torch's product when made, and a row count whose copy fails the check stays
/// torch's. A copy takes ~2.3× W's memory, at least ~6 MB (MKL's layout
/// for every thread count). The copies hold W's values when this was made (W is copied): whoever
/// changes W (training, loading other weights) must drop this. One caller at a time, as for the
/// model it belongs to.
/// </remarks>
public sealed unsafe class MklPackedWeight : IWeightProduct
{
    /// <summary>Row counts with a packed copy at once: a steady generation loop needs one, the server's batches of 256 and the rest two.</summary>
    public const int MaxPacks = 2;

    /// <summary>Products whose row counts are remembered.</summary>
    public const int RecentCalls = 8;

    /// <summary>A row count used by this many of the remembered products is packed at its next.</summary>
    public const int SightingsToPack = 2;

    private const int RowMajor = 101, NoTrans = 111, Trans = 112, Packed = 151, BMatrix = 162;
    private static readonly Lazy<Functions?> Mkl = new(Resolve);
    private readonly Tensor _weight; // a copy of W, contiguous: packed from, and torch's product where no copy serves
    private readonly int _out, _in;
    private readonly List<Pack> _packs = []; // most recently used first
    private readonly HashSet<int> _refused = []; // row counts whose packed copy failed its check
    private readonly int[] _recentRows = new int[RecentCalls]; // ring of the last products' row counts (0: none yet)
    private int _recentNext;
    private bool _disposed;

    private MklPackedWeight(Tensor weight)
    {
        _weight = weight;
        _out = checked((int)weight.shape[0]);
        _in = checked((int)weight.shape[1]);
    }

    /// <summary>True where this process's libtorch carries MKL's packed GEMM.</summary>
    public static bool Available => Mkl.Value != null;

    /// <summary>
    /// Packed products of a float32 CPU <paramref name="weight"/> [out × in] (copied), or null
    /// where MKL's packed GEMM is not available or the weight is not such a matrix.
    /// </summary>
    public static MklPackedWeight? TryCreate(Tensor weight)
    {
        if (!Available || weight.device.type != DeviceType.CPU || weight.dtype != ScalarType.Float32 || weight.dim() != 2) return null;
        using (no_grad()) return new MklPackedWeight(weight.detach().clone().contiguous().DetachFromDisposeScope());
    }

    /// <summary>The row counts packed now, most recently used first.</summary>
    public IReadOnlyList<int> PackedRows => _packs.Select(p => p.Rows).ToArray();

    /// <summary>
    /// <paramref name="output"/> [rows × out] = x·Wᵀ, or += x·Wᵀ when <paramref name="accumulate"/>;
    /// both contiguous float32 CPU tensors (x [rows × in]). Packed where a copy for these rows is
    /// (or, on a row count seen often enough among the last <see cref="RecentCalls"/>, can be) made; else torch's product.
    /// </summary>
    public void MultiplyInto(Tensor x, Tensor output, bool accumulate)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        WeightProductShapes.Check(x, output, _out, _in, DeviceType.CPU, "packed");
        int rows = checked((int)x.shape[0]);
        if (rows == 0) return;
        var pack = PackFor(rows);
        if (pack != null && pack.Rows != rows) throw new InvalidOperationException($"A copy packed for {pack.Rows} rows was chosen for {rows}."); // the bug this class exists to avoid
        using (MklProductThreads.Use())
        {
            if (pack == null)
                output.addmm_(x, _weight.t(), beta: accumulate ? 1 : 0); // beta 0: output's old values, even NaN, are ignored
            else
                Mkl.Value!.Compute(RowMajor, NoTrans, Packed, rows, _out, _in, (float*)TensorMemory.DataPointer(x), _in, pack.Data, _in,
                    accumulate ? 1f : 0f, (float*)TensorMemory.DataPointer(output), _out);
        }
        GC.KeepAlive(x);
        GC.KeepAlive(output);
        GC.KeepAlive(pack); // its finalizer must not free the packed copy during the call
    }

    /// <summary>The copy for <paramref name="rows"/>: kept, or made now when enough of the last products had these rows too.</summary>
    private Pack? PackFor(int rows)
    {
        var seen = 0;
        foreach (var recent in _recentRows) seen += recent == rows ? 1 : 0;
        _recentRows[_recentNext] = rows;
        _recentNext = (_recentNext + 1) % RecentCalls;
        for (int i = 0; i < _packs.Count; i++) // a loop, not FindIndex: its lambda would allocate every step
        {
            if (_packs[i].Rows != rows) continue;
            var kept = _packs[i];
            _packs.RemoveAt(i);
            _packs.Insert(0, kept);
            return kept;
        }
        if (seen < SightingsToPack || _refused.Contains(rows)) return null;
        var made = MakeChecked(rows);
        if (made == null)
        {
            _refused.Add(rows);
            return null;
        }
        if (_packs.Count == MaxPacks)
        {
            _packs[^1].Dispose();
            _packs.RemoveAt(_packs.Count - 1);
        }
        _packs.Insert(0, made);
        return made;
    }

    /// <summary>W packed for products of <paramref name="rows"/> rows, or null where MKL gives no such copy or it does not give torch's product.</summary>
    private Pack? MakeChecked(int rows)
    {
        var mkl = Mkl.Value!;
        var size = mkl.PackSize(BMatrix, rows, _out, _in);
        if (size < (nuint)_out * (nuint)_in * sizeof(float)) return null; // 0: MKL's error; a copy holds W at least
        Pack? pack = null;
        try
        {
            pack = new Pack(rows, (float*)NativeMemory.AlignedAlloc(size, 64), (long)size);
            if (PacksRight(pack)) return pack;
        }
        catch (Exception e) when (e is ExternalException or InvalidOperationException or OutOfMemoryException)
        {
            // torch's product serves these rows instead
        }
        pack?.Dispose();
        return null;
    }

    /// <summary>Packs W into <paramref name="pack"/> and compares one product through it with torch's.</summary>
    private bool PacksRight(Pack pack)
    {
        var mkl = Mkl.Value!;
        int rows = pack.Rows;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using (MklProductThreads.Use()) // MKL: pack on the threads that compute, for speed
            mkl.Pack(RowMajor, BMatrix, Trans, rows, _out, _in, 1f, (float*)TensorMemory.DataPointer(_weight), _in, pack.Data);
        var x = rand(rows, _in) - 0.5f;
        var product = empty(rows, _out);
        using (MklProductThreads.Use())
            mkl.Compute(RowMajor, NoTrans, Packed, rows, _out, _in, (float*)TensorMemory.DataPointer(x), _in, pack.Data, _in,
                0f, (float*)TensorMemory.DataPointer(product), _out);
        return product.allclose(x.mm(_weight.t()), rtol: 1e-4, atol: 1e-4);
    }

    /// <summary>Frees the packed copies (W's copy stays): products pack again as their row counts repeat.</summary>
    public void DropPacks()
    {
        foreach (var pack in _packs) pack.Dispose();
        _packs.Clear();
        Array.Clear(_recentRows);
    }

    public void FreeCaches() => DropPacks();

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        DropPacks();
        _weight.Dispose();
    }

    /// <summary>One packed copy, in memory MKL's layout asks for (freed by its finalizer if not disposed).</summary>
    private sealed class Pack : IDisposable
    {
        private readonly long _bytes;

        public Pack(int rows, float* data, long bytes)
        {
            Rows = rows;
            Data = data;
            _bytes = bytes;
            GC.AddMemoryPressure(bytes);
        }

        public int Rows { get; }
        public float* Data { get; private set; }

        public void Dispose()
        {
            if (Data == null) return;
            NativeMemory.AlignedFree(Data);
            Data = null;
            GC.RemoveMemoryPressure(_bytes);
            GC.SuppressFinalize(this);
        }

        ~Pack() => Dispose();
    }

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
