using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace CharRnn.Engine.Runtime;

/// <summary>Copies a tensor's values into a host array in one block.</summary>
public static class HostCopy
{
    /// <summary>
    /// The values of <paramref name="t"/> as float32, in row-major order. TorchSharp's
    /// <c>data&lt;float&gt;().ToArray()</c> walks element by element: 90–130 µs for 64 rows of
    /// logits on this machine, against 7 µs for this, more than a tenth of a batched GRU step.
    /// </summary>
    public static float[] Floats(Tensor t)
    {
        using var scope = NewDisposeScope();
        var host = t.to(ScalarType.Float32).cpu().contiguous();
        return MemoryMarshal.Cast<byte, float>(host.bytes).ToArray();
    }
}
