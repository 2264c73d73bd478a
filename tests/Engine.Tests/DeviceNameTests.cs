using CharRnn.Engine.Runtime;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>--device: what each name resolves to, and what a user is told when it cannot be had.</summary>
public class DeviceNameTests
{
    [Theory]
    [InlineData("cpu")]
    [InlineData(" CPU ")]
    public void Cpu_resolves_to_the_cpu(string name) => Assert.Equal(TorchSharp.DeviceType.CPU, TorchRuntime.ResolveDevice(name).type);

    [Fact]
    public void Auto_is_the_cpu_where_cuda_is_not_available() =>
        Assert.Equal(cuda.is_available() ? TorchSharp.DeviceType.CUDA : TorchSharp.DeviceType.CPU, TorchRuntime.ResolveDevice("auto").type);

    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:0")]
    public void Cuda_without_a_gpu_is_refused_with_the_ways_to_get_one(string name)
    {
        if (cuda.is_available()) return; // a CUDA build on a GPU host: nothing to refuse
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice(name));
        Assert.Contains($"device '{name}' was asked for, but CUDA is not available", e.Message);
        Assert.Contains("TORCH_BACKEND=cuda", e.Message);
        Assert.Contains("docs/deploy.md", e.Message);
        Assert.Contains("--device cpu", e.Message);
    }

    [Fact]
    public void An_unknown_device_is_refused_with_the_names_allowed()
    {
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice("tpu"));
        Assert.Equal($"device 'tpu' is not known; use {TorchRuntime.DeviceHelp}.", e.Message);
    }

    [Theory]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("CUDA:0:1")]
    [InlineData("cuda:")]
    public void A_malformed_cuda_name_is_refused_as_malformed_on_every_build(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice(name));
        Assert.StartsWith($"device '{name}' is not known; use {TorchRuntime.DeviceHelp}", e.Message);
    }
}
