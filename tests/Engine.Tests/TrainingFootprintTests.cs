using CharRnn.Engine.Models;
using CharRnn.Engine.Training;

namespace CharRnn.Engine.Tests;

public class TrainingFootprintTests
{
    public static TheoryData<string> AllArchitectures() => [.. Architectures.All.Select(a => a.Name)];

    [Theory]
    [MemberData(nameof(AllArchitectures))]
    public void The_parameter_estimate_is_within_ten_percent_of_the_built_model(string name)
    {
        var architecture = Architectures.Get(name);
        foreach (var hidden in new[] { 16, 96 })
        {
            var given = new Dictionary<string, double> { ["n_hidden"] = hidden, ["n_fac"] = 10 };
            if (architecture.Parameters.Any(p => p.Name == "layers")) given["layers"] = 3;
            var hp = architecture.Resolve(given);
            using var model = architecture.Create(hp, vocabSize: 60);
            var estimate = TrainingFootprint.Parameters(architecture, hp, vocabulary: 60);
            Assert.InRange(estimate / model.ParameterCount, 0.9, 1.1);
        }
    }

    [Fact]
    public void A_model_at_every_cap_is_hundreds_of_gigabytes_and_the_lessons_lstm_well_under_one()
    {
        var lstm = Architectures.Get("stateful-lstm");
        var huge = lstm.Resolve(new Dictionary<string, double> { ["n_hidden"] = 2048, ["layers"] = 4, ["bs"] = 1024, ["bptt"] = 512 });
        Assert.True(TrainingFootprint.Bytes(lstm, huge, vocabulary: 85, characters: 600_000) > 100e9);
        var lesson = lstm.Resolve(new Dictionary<string, double> { ["bptt"] = 70 });
        var bytes = TrainingFootprint.Bytes(lstm, lesson, vocabulary: 85, characters: 600_000);
        Assert.InRange(bytes, 100e6, 1e9); // measured: ~0.4 GB above the runtime at bptt 64 (TrainingFootprint's notes)
        // Bigger in each of its sizes.
        Assert.True(TrainingFootprint.Bytes(lstm, lstm.Resolve(new Dictionary<string, double> { ["bptt"] = 140 }), 85, 600_000) > bytes);
        Assert.True(TrainingFootprint.Bytes(lstm, lstm.Resolve(new Dictionary<string, double> { ["bptt"] = 70, ["bs"] = 128 }), 85, 600_000) > bytes);
        Assert.True(TrainingFootprint.Bytes(lstm, lstm.Resolve(new Dictionary<string, double> { ["bptt"] = 70, ["n_hidden"] = 1024 }), 85, 600_000) > bytes);
    }

    [Fact]
    public void Only_models_of_overlapping_windows_store_a_window_per_character()
    {
        var seq = Architectures.Get("seq-rnn"); // windows side by side: the text once
        var seqHp = seq.Resolve(new Dictionary<string, double> { ["context"] = 64 });
        Assert.Equal(2 * 24.0 * 10_000_000, TrainingFootprint.Bytes(seq, seqHp, 85, 10_001_000) - TrainingFootprint.Bytes(seq, seqHp, 85, 1_000), precision: 0); // inputs and targets
        var char3 = Architectures.Get("char3"); // a window every 3 chars
        var char3Hp = char3.Resolve();
        Assert.InRange(TrainingFootprint.Bytes(char3, char3Hp, 85, 10_001_002) - TrainingFootprint.Bytes(char3, char3Hp, 85, 1_000), 24 * 4 * 10_000_002 / 3 - 16, 24 * 4 * 10_000_002 / 3 + 16); // 3 ids and a target
    }

    [Fact]
    public void A_windowed_model_counts_every_stored_window()
    {
        var loop = Architectures.Get("loop");
        var hp = loop.Resolve(new Dictionary<string, double> { ["context"] = 64 });
        var small = TrainingFootprint.Bytes(loop, hp, vocabulary: 85, characters: 1_000);
        var large = TrainingFootprint.Bytes(loop, hp, vocabulary: 85, characters: 10_001_000);
        Assert.Equal(24.0 * 65 * 10_000_000, large - small, precision: 0); // 64 ids and a target a window, a window a char
    }
}

public class MachineMemoryTests
{
    [Theory]
    [InlineData("0::/system.slice/charrnn.service", "system.slice/charrnn.service=4294967296;system.slice=max;=max", 4L << 30)] // a unit's MemoryMax=
    [InlineData("0::/system.slice/charrnn.service", "system.slice/charrnn.service=max;system.slice=2147483648", 2L << 30)] // a parent's, lower
    [InlineData("0::/", "=max", 8L << 30)] // no limit: the machine's
    [InlineData("5:cpu,memory:/docker/abc\n3:cpuset:/docker/abc", "memory/docker/abc=9223372036854771712", 8L << 30)] // cgroup v1, unlimited
    [InlineData("5:memory:/docker/abc", "memory/docker/abc=1073741824", 1L << 30)] // cgroup v1, a container's limit
    public void The_memory_a_process_may_use_is_the_machines_or_its_lowest_cgroup_limit(string selfCgroup, string limits, long expected)
    {
        using var root = new TempFolder();
        var proc = Path.Combine(root.Path, "proc");
        var cgroups = Path.Combine(root.Path, "cgroup");
        Directory.CreateDirectory(Path.Combine(proc, "self"));
        File.WriteAllText(Path.Combine(proc, "meminfo"), "MemTotal:        8388608 kB\nMemFree:         1000 kB\n");
        File.WriteAllText(Path.Combine(proc, "self", "cgroup"), selfCgroup.Replace("\\n", "\n"));
        foreach (var entry in limits.Split(';'))
        {
            var (folder, value) = (entry[..entry.IndexOf('=')], entry[(entry.IndexOf('=') + 1)..]);
            var dir = Path.Combine(cgroups, folder);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, folder.StartsWith("memory", StringComparison.Ordinal) ? "memory.limit_in_bytes" : "memory.max"), value + "\n");
        }
        Assert.Equal(expected, Runtime.MachineMemory.Read(proc, cgroups));
    }

    [Fact]
    public void Without_proc_it_says_so_and_the_runtime_falls_back_to_dotnets_figure()
    {
        using var root = new TempFolder();
        Assert.Null(Runtime.MachineMemory.Read(Path.Combine(root.Path, "proc"), root.Path));
        Assert.True(Runtime.MachineMemory.Bytes > 0);
    }
}
