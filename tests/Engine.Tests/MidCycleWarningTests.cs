using CharRnn.Engine.Training;

namespace CharRnn.Engine.Tests;

/// <summary>MidCycleWarning: the warning that the epochs stop an SGDR cycle midway, and only then.</summary>
public class MidCycleWarningTests
{
    private static string? For(string schedule, int epochs) => MidCycleWarning.For(schedule, epochs)?.Say(TrainingSettingNames.CommandLine);

    [Theory]
    [InlineData("sgdr:cycle_len=1,cycle_mult=2,epochs=7; constant", 20)]     // the run ends in the constant phase, which has no cycles
    [InlineData("sgdr:cycle_len=1,cycle_mult=2,epochs=15; steps:0=0.1", 16)] // a fine-tune at a tenth after the SGDR
    [InlineData("constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2", 9)]       // a cycle's end, counted from the phase's start
    [InlineData("sgdr:cycle_len=1,cycle_mult=2", 7)]
    [InlineData("steps:3=0.1", 5)]
    public void A_run_that_does_not_end_inside_a_cycle_is_not_warned(string schedule, int epochs) =>
        Assert.Null(For(schedule, epochs));

    [Fact]
    public void A_run_ending_where_a_phase_cuts_its_cycle_gives_that_phases_rate_not_the_next_phases_restart()
    {
        // Epoch 5 ends the first SGDR midway through its cycle [3, 7): half the peak, whatever the phase after starts at.
        var warning = For("sgdr:cycle_len=1,cycle_mult=2,epochs=5; sgdr:cycle_len=1,cycle_mult=2", 5);
        Assert.Equal("cycles end after epochs 1, 3, 6; --epochs 5 stops mid-cycle, the rate still at 50% of its peak (--epochs 3 or 6 ends at a cycle's end).", warning);
    }

    [Fact]
    public void A_run_stopped_inside_a_cycle_is_warned_with_the_ends_around_it() =>
        Assert.Equal("cycles end after epochs 1, 3, 7, 15; --epochs 10 stops mid-cycle, the rate still at 69% of its peak (--epochs 7 or 15 ends at a cycle's end).",
            For("sgdr:cycle_len=1,cycle_mult=2", 10));

    [Fact]
    public void The_warning_keeps_its_settings_apart_so_any_caller_spells_them_its_way()
    {
        var warning = MidCycleWarning.For("sgdr:cycle_len=1,cycle_mult=2", 10)!;
        Assert.Equal([WarningPart.Of(TrainingSetting.Epochs, "10"), WarningPart.Of(TrainingSetting.Epochs, "7 or 15")],
            warning.Parts.Where(p => p.Setting != null), (a, b) => a.Setting == b.Setting && a.Values.SequenceEqual(b.Values));
        Assert.Equal("cycles end after epochs 1, 3, 7, 15; epochs=10 stops mid-cycle, the rate still at 69% of its peak (epochs=7 or 15 ends at a cycle's end).",
            warning.Say(new TrainingSettingNames("epochs", "patience", "lr", "=", ListsInBrackets: false)));
    }

    [Fact]
    public void The_server_names_the_requests_field() =>
        Assert.Equal("cycles end after epochs 1, 3, 7, 15; epochs = 10 stops mid-cycle, the rate still at 69% of its peak (epochs = 7 or 15 ends at a cycle's end).",
            MidCycleWarning.For("sgdr:cycle_len=1,cycle_mult=2", 10)?.Say(TrainingSettingNames.Api));
}
