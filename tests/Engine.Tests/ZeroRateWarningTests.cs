using CharRnn.Engine.Training;

namespace CharRnn.Engine.Tests;

/// <summary>ZeroRateWarning: the warning that a run whose every rate is 0 changes no weight, and only then.</summary>
public class ZeroRateWarningTests
{
    private static string? For(LayerGroupValues lr) => ZeroRateWarning.For(lr)?.Say(TrainingSettingNames.CommandLine);

    [Fact]
    public void A_run_whose_every_rate_is_0_is_warned() =>
        Assert.Equal("--lr 0: no weight will change, every layer group's rate being 0 (0 freezes a group, as --lr 0,1e-3,1e-3 does the embedding); give a rate above 0 to train.",
                     For(LayerGroupValues.Parse("0", "lr", 0, 10)));

    [Fact]
    public void A_stored_rate_of_0_is_named_as_the_models_with_the_setting_that_changes_it() =>
        Assert.Equal("the model's stored learning rate is 0: no weight will change, every layer group's rate being 0; give a rate above 0 on the resume (--lr 1e-3, or one per group as --lr 0,1e-3,1e-3) to train.",
                     ZeroRateWarning.For(LayerGroupValues.All(0), rateGiven: false)?.Say(TrainingSettingNames.CommandLine));

    [Fact]
    public void The_server_names_the_requests_field_and_writes_three_rates_as_a_list() =>
        Assert.Equal("learning_rate = 0: no weight will change, every layer group's rate being 0 (0 freezes a group, as learning_rate = [0, 1e-3, 1e-3] does the embedding); give a rate above 0 to train.",
                     ZeroRateWarning.For(LayerGroupValues.Parse("0,0,0", "lr", 0, 10))?.Say(TrainingSettingNames.Api));

    [Fact]
    public void Three_zero_rates_are_warned_too() => Assert.NotNull(For(LayerGroupValues.Parse("0,0,0", "lr", 0, 10)));

    [Theory]
    [InlineData("0,1e-3,1e-3")] // a frozen embedding: the rest trains
    [InlineData("1e-3,1e-3,0")]
    [InlineData("1e-3")]
    public void A_run_with_a_rate_above_0_is_not_warned(string lr) => Assert.Null(For(LayerGroupValues.Parse(lr, "lr", 0, 10)));
}
