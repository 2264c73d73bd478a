using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Runtime;

/// <summary>A tensor's memory, for the few places that hand it to native code or fill it from C#.</summary>
internal static class TensorMemory
{
    /// <summary>Where a tensor's first element is (its storage plus offset).</summary>
    public static IntPtr DataPointer(Tensor t)
    {
        var data = THSTensor_data(t.Handle);
        if (data == IntPtr.Zero) torch.CheckForErrors(); // libtorch's error, as TorchSharp reports it
        return data != IntPtr.Zero ? data : throw new InvalidOperationException("A tensor's data pointer is null.");
    }

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);
}
