using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Bench;

/// <summary>The device every measurement runs on (--device; cuda on a GPU host).</summary>
public static class BenchDevice
{
    public static string Name { get; set; } = "cpu";
    public static Device Device { get; set; } = CPU;

    /// <summary>Waits for queued device work (CUDA runs asynchronously), so a clock reading means something.</summary>
    public static void Synchronize()
    {
        if (Device.type == DeviceType.CUDA) cuda.synchronize();
    }
}
