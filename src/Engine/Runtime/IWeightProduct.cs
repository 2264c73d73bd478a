using static TorchSharp.torch;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// A weight matrix W [out × in] held in the form a generation step multiplies rows by fastest:
/// MKL-packed float32 (<see cref="MklPackedWeight"/>), or bfloat16 (<see cref="MklBf16Weight"/>,
/// <see cref="TorchBf16Weight"/>). Holds W's values when it was made: whoever changes W drops it.
/// </summary>
public interface IWeightProduct : IDisposable
{
    /// <summary><paramref name="output"/> [rows × out] = x·Wᵀ, or += x·Wᵀ when <paramref name="accumulate"/>; x [rows × in], both contiguous float32.</summary>
    void MultiplyInto(Tensor x, Tensor output, bool accumulate);

    /// <summary>Frees what it caches for speed (packed copies, buffers) and makes again when needed.</summary>
    void FreeCaches();
}
