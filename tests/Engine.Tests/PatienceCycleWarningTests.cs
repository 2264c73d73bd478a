using CharRnn.Engine.Training;

namespace CharRnn.Engine.Tests;

/// <summary>PatienceCycleWarning: the warning that --patience may stop an SGDR run at a restart, before a cycle's end, and only then.</summary>
public class PatienceCycleWarningTests
{
    private static string? For(string schedule, int epochs, int patience) =>
        PatienceCycleWarning.For(schedule, epochs, patience)?.Say(TrainingSettingNames.CommandLine);

    [Theory]
    [InlineData("sgdr:cycle_len=1,cycle_mult=2", 15, 0)]   // off
    [InlineData("sgdr:cycle_len=1,cycle_mult=2", 15, 8)]   // the cycle from epoch 8 to 15, the longest, fits in the patience (docs/cli.md's example)
    [InlineData("sgdr:cycle_len=1,cycle_mult=2", 7, 4)]    // the run ends at 7: the cycle after it does not count
    [InlineData("sgdr:cycle_len=1,cycle_mult=2", 10, 4)]   // the cycle of epochs 8 to 15 is cut at 10: three epochs of it, fewer than 4 to 7's four
    [InlineData("constant", 20, 1)]                        // no restarts
    [InlineData("steps:3=0.1", 20, 1)]
    [InlineData("sgdr:cycle_len=1", 20, 1)]                // one-epoch cycles: each epoch ends one
    [InlineData("constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2", 9, 4)] // the phase's cycles end at 3, 5, 9
    public void A_patience_that_outlasts_every_restarted_cycle_of_the_run_is_not_warned(string schedule, int epochs, int patience) =>
        Assert.Null(For(schedule, epochs, patience));

    [Fact]
    public void A_patience_shorter_than_a_restarted_cycle_is_warned_with_that_cycle_and_the_patience_that_outlasts_it() =>
        Assert.Equal("--patience 2 is shorter than the SGDR cycle of epochs 8 to 15 (8 epochs): a restart raises the validation loss for a while, " +
                     "so the run may stop early inside it, before its end's annealed low; --patience 8 or more lets every cycle of the run end (0: off).",
            For("sgdr:cycle_len=1,cycle_mult=2", 15, 2));

    [Fact]
    public void The_server_names_the_requests_field() =>
        Assert.EndsWith("patience = 4 or more lets every cycle of the run end (0: off).",
            PatienceCycleWarning.For("sgdr:cycle_len=1,cycle_mult=2", 7, 3)?.Say(TrainingSettingNames.Api));
}
