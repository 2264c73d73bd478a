using CharRnn.Engine.Runtime;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>The device line names the libtorch that loaded: TorchSharp's own, or a host PyTorch's with its version.</summary>
public sealed class LoadedLibTorchTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("charrnn-libtorch-").FullName;

    [Fact]
    public void The_copy_beside_the_application_is_TorchSharps_own()
    {
        var app = Path.Combine(_root, "app");
        Assert.Equal($"libtorch {__version__}", LoadedLibTorch.Describe(Path.Combine(app, "runtimes/linux-x64/native/libtorch_cpu.so"), app));
    }

    // A self-contained publish (dotnet publish -r linux-x64, docs/deploy.md) puts libtorch in the application's
    // own folder, not under runtimes/: /opt/charrnn/libtorch_cpu.so beside /opt/charrnn/charrnn.
    [Theory]
    [InlineData("app")]
    [InlineData("app/")]
    public void The_copy_in_a_published_applications_own_folder_is_TorchSharps_own(string appFolder)
    {
        var app = Path.Combine(_root, "app");
        Assert.Equal($"libtorch {__version__}", LoadedLibTorch.Describe(Path.Combine(app, "libtorch_cpu.so"), Path.Combine(_root, appFolder)));
    }

    [Fact]
    public void A_host_PyTorchs_libtorch_is_named_with_its_folder_and_version()
    {
        var lib = Directory.CreateDirectory(Path.Combine(_root, "site-packages/torch/lib")).FullName;
        File.WriteAllText(Path.Combine(_root, "site-packages/torch/version.py"), "from typing import Optional\n__version__ = '2.11.0+cu130'\ncuda: Optional[str] = '13.0'\n");
        Assert.Equal($"libtorch 2.11.0+cu130 from {lib} (TorchSharp built for {__version__})",
            LoadedLibTorch.Describe(Path.Combine(lib, "libtorch_cpu.so"), Path.Combine(_root, "app")));
    }

    [Fact]
    public void Another_libtorch_without_a_version_file_says_so()
    {
        var lib = Directory.CreateDirectory(Path.Combine(_root, "opt/libtorch/lib")).FullName;
        Assert.Equal($"libtorch (version unknown) from {lib} (TorchSharp built for {__version__})",
            LoadedLibTorch.Describe(Path.Combine(lib, "libtorch_cpu.so"), Path.Combine(_root, "app")));
    }

    [Fact]
    public void This_test_process_runs_on_TorchSharps_own()
    {
        InitializeDeviceType(TorchSharp.DeviceType.CPU);
        Assert.Equal($"libtorch {__version__}", LoadedLibTorch.Describe());
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
