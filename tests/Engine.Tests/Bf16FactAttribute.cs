namespace CharRnn.Engine.Tests;

/// <summary>
/// A test of bf16 generation, skipped (saying why) only on a CPU without AVX512_BF16, where MKL would
/// emulate bf16 products and the engine refuses them. CI's machines have it, so there these run;
/// there a missing MKL export fails them instead of skipping. xunit 2 decides a skip when it finds
/// the test, so the check reads /proc/cpuinfo then, without loading libtorch.
/// </summary>
public sealed class Bf16FactAttribute : FactAttribute
{
    public Bf16FactAttribute()
    {
        if (!CpuHasAvx512Bf16) Skip = "this CPU has no avx512_bf16 (/proc/cpuinfo): bf16 generation is refused here, so its tests do not run";
    }

    public static bool CpuHasAvx512Bf16 =>
        File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").Any(line => line.StartsWith("flags", StringComparison.Ordinal) && line.Split(' ').Contains("avx512_bf16"));
}
