using static TorchSharp.torch;

namespace CharRnn.Engine.Batching;

/// <summary>
/// A tensor made on the host and moved to the device, owned by the caller alone. The host copy
/// and any views on the way are freed at once: left to the garbage collector, which does not see
/// their native size, a corpus's host copy stayed in memory beside the device's (a GPU run).
/// </summary>
internal static class DeviceTensor
{
    public static Tensor From(Func<Tensor> makeOnHost, Device device)
    {
        using var scope = NewDisposeScope();
        return makeOnHost().to(device).DetachFromDisposeScope();
    }
}
