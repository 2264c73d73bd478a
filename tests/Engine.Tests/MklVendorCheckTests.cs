using System.Runtime.Intrinsics.X86;
using CharRnn.Engine.Runtime;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>MKL's vendor check, lifted on AMD so that it uses the CPU's AVX-512 kernels.</summary>
public class MklVendorCheckTests
{
    [Theory]
    [InlineData("AuthenticAMD", null, MklVendorAction.Lift)]
    [InlineData("AuthenticAMD", "", MklVendorAction.Lift)]
    [InlineData("AuthenticAMD", "lift", MklVendorAction.Lift)]
    [InlineData("AuthenticAMD", " KEEP ", MklVendorAction.Keep)]
    [InlineData("GenuineIntel", null, MklVendorAction.NotNeeded)]
    [InlineData("GenuineIntel", "keep", MklVendorAction.NotNeeded)]
    public void Amd_is_lifted_unless_the_environment_says_keep(string vendor, string? setting, MklVendorAction expected) =>
        Assert.Equal(expected, MklVendorCheck.Decide(vendor, setting));

    [Fact]
    public void An_unknown_setting_is_refused_with_the_allowed_values()
    {
        var e = Assert.Throws<ArgumentException>(() => MklVendorCheck.Decide("AuthenticAMD", "off")); // a user error: the CLI prints one line, exit 2
        Assert.Contains("CHARRNN_MKL_VENDOR_CHECK='off' is not known", e.Message);
        Assert.Contains("lift", e.Message);
        Assert.Contains("keep", e.Message);
    }

    [Fact]
    public void On_this_machine_initialization_lifts_it_exactly_on_amd_and_products_stay_exact()
    {
        TorchRuntime.Initialize("cpu");
        var amd = X86Base.IsSupported && X86Base.CpuId(0, 0) is var (_, ebx, _, _) && ebx == 0x68747541; // "Auth"
        var keep = string.Equals(Environment.GetEnvironmentVariable(MklVendorCheck.EnvironmentVariable)?.Trim(), "keep", StringComparison.OrdinalIgnoreCase);
        Assert.True(MklVendorCheck.Lifted == (amd && !keep), MklVendorCheck.Status);

        // Whatever kernels MKL now runs, float32 products agree with float64 ones.
        using var scope = NewDisposeScope();
        manual_seed(7);
        var a = randn(300, 500);
        var b = randn(500, 700);
        var product = matmul(a, b).to(ScalarType.Float64);
        var exact = matmul(a.to(ScalarType.Float64), b.to(ScalarType.Float64));
        var error = ((product - exact).abs().max() / exact.abs().max()).item<double>();
        Assert.True(error < 1e-5, $"float32 product off by {error:G3} of its largest entry");
    }
}
