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
        Assert.Equal(12.0 * 10_000_000, TrainingFootprint.Bytes(seq, seqHp, 85, 10_001_000) - TrainingFootprint.Bytes(seq, seqHp, 85, 1_000), precision: 0);
        var char3 = Architectures.Get("char3"); // a window every 3 chars
        var char3Hp = char3.Resolve();
        Assert.InRange(TrainingFootprint.Bytes(char3, char3Hp, 85, 10_001_002) - TrainingFootprint.Bytes(char3, char3Hp, 85, 1_000), 12 * 10_000_002 - 16, 12 * 10_000_002 + 16);
    }

    [Fact]
    public void A_windowed_model_counts_every_stored_window()
    {
        var loop = Architectures.Get("loop");
        var hp = loop.Resolve(new Dictionary<string, double> { ["context"] = 64 });
        var small = TrainingFootprint.Bytes(loop, hp, vocabulary: 85, characters: 1_000);
        var large = TrainingFootprint.Bytes(loop, hp, vocabulary: 85, characters: 10_001_000);
        Assert.Equal(12.0 * 64 * 10_000_000, large - small, precision: 0);
    }
}

public class MachineMemoryTests
{
    [Fact]
    public void The_memory_a_process_may_use_is_the_machines_or_its_containers_not_dotnets_heap_limit()
    {
        var heapLimit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes; // the machine's, or 75% of a container's limit
        Assert.InRange(Runtime.MachineMemory.Bytes, heapLimit, heapLimit / 3 * 4 + (1L << 20));
    }
}
