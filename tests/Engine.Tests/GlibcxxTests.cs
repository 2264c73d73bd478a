using System.Reflection;
using CharRnn.Engine.Runtime;

namespace CharRnn.Engine.Tests;

/// <summary>The build's fix for TorchSharp's GLIBCXX_3.4.32 need, on the real library from the NuGet cache.</summary>
public class GlibcxxTests
{
    private static string Original()
    {
        var root = typeof(GlibcxxTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "NuGetPackageRoot").Value!;
        var path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"the unpatched library should be in the NuGet cache at {path}");
        return path;
    }

    private static readonly string[] OldSystem = ["GLIBCXX_3.4", "GLIBCXX_3.4.9", "GLIBCXX_3.4.11", "GLIBCXX_3.4.14", "GLIBCXX_3.4.15",
        "GLIBCXX_3.4.18", "GLIBCXX_3.4.19", "GLIBCXX_3.4.20", "GLIBCXX_3.4.21", "GLIBCXX_3.4.22", "GLIBCXX_3.4.26", "GLIBCXX_3.4.29",
        "GLIBCXX_3.4.30", "CXXABI_1.3", "CXXABI_1.3.1", "CXXABI_1.3.3", "CXXABI_1.3.5", "CXXABI_1.3.9", "CXXABI_1.3.13"];

    [Fact]
    public void The_library_needs_3_4_32_for_exactly_one_never_called_symbol()
    {
        var elf = ElfVersionNeeds.Read(Original());
        var need = elf.Needs.Single(n => n.Name == GlibcxxCompatibility.Version);
        Assert.Equal("libstdc++.so.6", need.File);
        Assert.False(need.IsWeak);
        Assert.Equal([GlibcxxCompatibility.OnlySymbol], elf.SymbolsUsingVersion(need.Index));
    }

    [Fact]
    public void Patching_flips_only_the_weak_flag_of_that_one_need()
    {
        using var dir = new TempFolder();
        var copy = dir.File("libLibTorchSharp.so");
        File.Copy(Original(), copy);
        var before = File.ReadAllBytes(copy);

        var decision = GlibcxxCompatibility.Apply(copy, OldSystem);

        Assert.Equal(GlibcxxOutcome.Patched, decision.Outcome);
        var after = File.ReadAllBytes(copy);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        Assert.Equal([(int)decision.Need!.FlagsOffset], changed);
        var patched = ElfVersionNeeds.Read(copy);
        Assert.True(patched.Needs.Single(n => n.Name == GlibcxxCompatibility.Version).IsWeak);
        Assert.All(patched.Needs.Where(n => n.Name != GlibcxxCompatibility.Version), n => Assert.False(n.IsWeak));
        Assert.Equal(GlibcxxOutcome.AlreadyWeak, GlibcxxCompatibility.Apply(copy, OldSystem).Outcome);
        Assert.Single(Directory.GetFiles(dir.Path)); // no temp file left
    }

    [Fact]
    public void A_build_on_a_system_that_has_the_version_is_patched_too_so_that_its_output_loads_on_one_that_has_not()
    {
        using var dir = new TempFolder();
        var copy = dir.File("libLibTorchSharp.so");
        File.Copy(Original(), copy);
        var decision = GlibcxxCompatibility.Apply(copy, [.. OldSystem, "GLIBCXX_3.4.31", GlibcxxCompatibility.Version]); // Ubuntu 24.04, the SDK image
        Assert.Equal(GlibcxxOutcome.Patched, decision.Outcome);
        Assert.True(ElfVersionNeeds.Read(copy).Needs.Single(n => n.Name == GlibcxxCompatibility.Version).IsWeak);
        // A need some other symbol uses stays as it is where the system has it: nothing to gain, calls to keep.
        var elf = ElfVersionNeeds.Read(Original());
        Assert.Equal(GlibcxxOutcome.SystemProvides, GlibcxxCompatibility.Decide(elf, OldSystem, version: "GLIBCXX_3.4.30").Outcome);
    }

    [Fact]
    public void Weakening_is_refused_when_it_would_not_be_safe_or_would_not_help()
    {
        var elf = ElfVersionNeeds.Read(Original());
        var tooOld = GlibcxxCompatibility.Decide(elf, OldSystem.Where(v => v != "GLIBCXX_3.4.29").ToArray());
        Assert.Equal(GlibcxxOutcome.Refused, tooOld.Outcome);
        Assert.Contains("GLIBCXX_3.4.29", tooOld.Reason);
        var otherSymbols = GlibcxxCompatibility.Decide(elf, OldSystem.Where(v => v != "GLIBCXX_3.4.30").ToArray(), version: "GLIBCXX_3.4.30");
        Assert.Equal(GlibcxxOutcome.Refused, otherSymbols.Outcome);
        Assert.Contains("not only", otherSymbols.Reason);
    }

    [Fact]
    public void A_non_elf_file_is_a_clear_error()
    {
        Assert.Contains("not an ELF file", Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Parse("hello, world, not an elf file at all........................................."u8.ToArray(), "x")).Message);
    }

    [Fact]
    public void A_truncated_or_32_bit_elf_file_is_a_clear_error()
    {
        var bytes = File.ReadAllBytes(Original());
        var truncated = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Parse(bytes[..4096], "cut.so")).Message;
        Assert.Contains("cut.so: section header table lies outside the file (truncated?)", truncated);
        var elf32 = (byte[])bytes.Clone();
        elf32[4] = 1; // EI_CLASS: ELFCLASS32
        Assert.Contains("only 64-bit little-endian", Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Parse(elf32, "x")).Message);
    }

    [Fact]
    public void The_system_libstdcxx_definitions_are_read_from_its_version_definition_table()
    {
        var versions = GlibcxxCompatibility.SystemVersions(out var path);
        Assert.NotNull(versions);
        Assert.Equal(GlibcxxCompatibility.FindSystemLibrary(), path);
        // Every libstdc++ since GCC 3.4 defines these; the build machine's (Debian 12 or newer) defines 3.4.30 too.
        Assert.Contains("GLIBCXX_3.4", versions);
        Assert.Contains("GLIBCXX_3.4.30", versions);
        Assert.Contains("CXXABI_1.3", versions);
        Assert.All(versions, v => Assert.Matches(@"^(GLIBCXX|CXXABI|CXXABI_TM|CXXABI_FLOAT128|GLIBCPP|libstdc\+\+\.so\.6)", v));
        // A library that only needs versions defines none of them.
        Assert.DoesNotContain(ElfVersionNeeds.Read(Original()).Definitions, d => d.StartsWith("GLIBCXX_", StringComparison.Ordinal));
    }

    [Fact]
    public void The_build_output_copy_loads_here_because_the_build_handled_it()
    {
        var output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var system = GlibcxxCompatibility.SystemVersions(out var systemPath);
        Assert.NotNull(system);
        var need = ElfVersionNeeds.Read(output).Needs.Single(n => n.Name == GlibcxxCompatibility.Version);
        Assert.True(need.IsWeak, "the build marks the need weak whatever the system has"); // so a copy of the output loads anywhere
        Assert.True(TorchSharp.torch.ones(2).sum().item<float>() == 2f, $"libtorch should run (system libstdc++: {systemPath})");
    }
}
