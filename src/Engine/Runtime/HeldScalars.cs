using TorchSharp;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// TorchSharp Scalars that stay alive through the native calls they are passed to.
/// </summary>
/// <remarks>
/// Where TorchSharp takes a Scalar and is given a number (the alpha of 1 in a.add(b) and a + b,
/// Adam's betas), it makes a Scalar that nothing references once its handle has been read: a GC
/// that another thread starts during the native call can finalize it, and libtorch then reads
/// freed memory. Seen on the server with 256 streams, whose gRPC threads allocate and so make
/// GCs frequent: about one run in ten lost a batched LSTM step to "Expected false to be true …
/// toFloat", and every stream in it ended with INTERNAL. The freed memory may as well hold another
/// Scalar by then, which gives a silently wrong value. (TorchSharp's own fix is open:
/// dotnet/TorchSharp#1434 and #1496.) The engine's Torch code passes <see cref="One"/> or
/// <see cref="Zero"/>, or a Scalar a <c>using</c> keeps until the call has returned.
/// </remarks>
public static class HeldScalars
{
    /// <summary>1, for the life of the process: the alpha of a plain add.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>0, for the life of the process.</summary>
    public static readonly Scalar Zero = 0.ToScalar();
}
