using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Runtime;

/// <summary>The argument checks every <see cref="IWeightProduct"/> makes, in the same words.</summary>
internal static class WeightProductShapes
{
    /// <summary>Throws unless x [rows × <paramref name="inFeatures"/>] and output [rows × <paramref name="outFeatures"/>] are contiguous float32 tensors on <paramref name="device"/>.</summary>
    public static void Check(Tensor x, Tensor output, int outFeatures, int inFeatures, DeviceType device, string kind)
    {
        if (x.dim() != 2 || x.shape[1] != inFeatures || output.dim() != 2 || output.shape[0] != x.shape[0] || output.shape[1] != outFeatures)
            throw new ArgumentException($"A {kind} [{outFeatures} × {inFeatures}] weight multiplies [rows × {inFeatures}] into [rows × {outFeatures}]; got [{string.Join(" × ", x.shape)}] into [{string.Join(" × ", output.shape)}].");
        if (!IsDenseFloat(x, device) || !IsDenseFloat(output, device))
            throw new ArgumentException($"A {kind} product needs contiguous float32 {device} tensors.");
    }

    private static bool IsDenseFloat(Tensor t, DeviceType device) => t.device.type == device && t.dtype == ScalarType.Float32 && t.is_contiguous();
}
