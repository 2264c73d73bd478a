using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// bf16 products on any device by torch's own operations: W held as a bfloat16 copy of Wᵀ on its
/// device, x rounded to bfloat16, the product taken in bfloat16 (on a GPU cuBLAS sums in float32)
/// and added to the float32 output. Unlike <see cref="MklBf16Weight"/> the product itself is rounded
/// to bfloat16 before it is added. The GPU path of bf16 generation; untested on a GPU (this
/// project's machines have none); the CPU uses MKL's instead.
/// </summary>
public sealed class TorchBf16Weight : IWeightProduct
{
    private readonly Tensor _transposed; // Wᵀ [in × out], bfloat16, contiguous, on W's device
    private readonly int _out, _in;

    private TorchBf16Weight(Tensor transposed)
    {
        _transposed = transposed;
        _in = checked((int)transposed.shape[0]);
        _out = checked((int)transposed.shape[1]);
    }

    /// <summary>bf16 products of a float32 <paramref name="weight"/> [out × in], or null where it is not such a matrix.</summary>
    public static TorchBf16Weight? TryCreate(Tensor weight)
    {
        if (weight.dtype != ScalarType.Float32 || weight.dim() != 2) return null;
        using (no_grad()) return new TorchBf16Weight(weight.detach().t().to(ScalarType.BFloat16).contiguous().DetachFromDisposeScope());
    }

    public void MultiplyInto(Tensor x, Tensor output, bool accumulate)
    {
        WeightProductShapes.Check(x, output, _out, _in, _transposed.device.type, "bf16");
        using var scope = NewDisposeScope();
        var product = x.to(ScalarType.BFloat16).mm(_transposed);
        if (accumulate) output.add_(product);
        else output.copy_(product);
    }

    public void FreeCaches() { }

    public void Dispose() => _transposed.Dispose();
}
