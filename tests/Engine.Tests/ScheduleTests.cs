using CharRnn.Engine.Models;
using CharRnn.Engine.Training;

namespace CharRnn.Engine.Tests;

public class ScheduleTests
{
    [Fact]
    public void Sgdr_anneals_by_half_cosines_and_restarts_with_growing_cycles()
    {
        var s = (SgdrSchedule)LearningRateSchedule.Parse("sgdr:cycle_len=1,cycle_mult=2");
        Assert.Equal(1.0, s.Factor(0), 9);
        Assert.Equal(0.5, s.Factor(0.5), 9);
        Assert.Equal(1.0, s.Factor(1.0), 9);   // restart
        Assert.Equal(0.5, s.Factor(2.0), 9);   // middle of the 2-epoch cycle [1, 3)
        Assert.Equal(1.0, s.Factor(3.0), 9);
        Assert.True(s.Factor(2.99) < 0.001);
        Assert.Equal([1, 3, 7, 15, 31, 63], Enumerable.Range(1, 63).Where(s.IsCycleEnd));
    }

    [Fact]
    public void Equal_sgdr_cycles_are_found_without_walking_through_them()
    {
        var s = (SgdrSchedule)LearningRateSchedule.Parse("sgdr:cycle_len=0.25");
        Assert.Equal(1.0, s.Factor(9999.0), 9); // the 39,996th restart
        Assert.Equal(0.5, s.Factor(9999.125), 9);
        Assert.True(s.IsCycleEnd(3));
        var thirds = (SgdrSchedule)LearningRateSchedule.Parse("sgdr:cycle_len=0.3333333333333333");
        Assert.Equal(1.0, thirds.Factor(1.0), 6);
        var tenths = (SgdrSchedule)LearningRateSchedule.Parse("sgdr:cycle_len=0.1"); // not exact in binary: its sum strays as it grows
        Assert.Equal([1, 2, 9_999, 10_000], new[] { 1, 2, 9_999, 10_000 }.Where(tenths.IsCycleEnd));
        Assert.Equal(100_000, tenths.CyclesEndedBy(10_000));
        var hundredths = (SgdrSchedule)LearningRateSchedule.Parse("sgdr:cycle_len=0.01");
        Assert.True(hundredths.IsCycleEnd(99_999));
        Assert.Equal(9_999_900, hundredths.CyclesEndedBy(99_999));
        var halves = (SgdrSchedule)LearningRateSchedule.Parse("sgdr:cycle_len=1.5"); // ends at 1.5, 3, 4.5, 6
        Assert.Equal([0, 0, 1, 2, 2, 4], new[] { 0, 1, 2, 3, 4, 6 }.Select(halves.CyclesEndedBy)); // at epoch 3 the second cycle ends: cycle-2.ckpt
        var doubling = (SgdrSchedule)LearningRateSchedule.Parse("sgdr:cycle_len=1,cycle_mult=2"); // ends at 1, 3, 7, 15
        Assert.Equal([1, 1, 2, 3, 4], new[] { 1, 2, 3, 7, 15 }.Select(doubling.CyclesEndedBy));
    }

    [Theory]
    [InlineData("sgdr:cycle_len=1,cycle_mult=2", 10)]
    [InlineData("sgdr:cycle_len=1,cycle_mult=2", 63)]
    [InlineData("sgdr:cycle_len=0.25", 7)]
    [InlineData("sgdr:cycle_len=0.3", 10)]
    [InlineData("sgdr:cycle_len=1.5,cycle_mult=1.5", 20)]
    [InlineData("sgdr:cycle_len=0.1,cycle_mult=1.01", 50)] // its ends never land on whole epochs again: walked to the end
    [InlineData("constant", 10)]
    [InlineData("steps:3=0.1", 10)]
    [InlineData("constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2", 40)]
    [InlineData("sgdr:cycle_len=1,cycle_mult=2,epochs=5; sgdr:cycle_len=0.5,epochs=3; constant", 30)]
    public void Cycle_ends_found_in_one_walk_are_those_each_epoch_asked_in_turn_finds(string text, int epochs)
    {
        var schedule = LearningRateSchedule.Parse(text);
        var asked = new List<int>(); // the brute force: every whole epoch asked in turn
        for (var e = 1; e <= TrainingOptions.MaxEpochs; e++)
        {
            if (!schedule.IsCycleEnd(e)) continue;
            asked.Add(e);
            if (e >= epochs) break;
        }
        Assert.Equal(asked, schedule.CycleEndsThrough(epochs));
    }

    [Fact]
    public void Step_schedules_switch_at_whole_epochs()
    {
        var s = LearningRateSchedule.Parse("steps:2=0.1,4=0.01");
        Assert.Equal(1.0, s.Factor(1.99));
        Assert.Equal(0.1, s.Factor(2));
        Assert.Equal(0.01, s.Factor(10));
        Assert.Equal("steps:2=0.1,4=0.01", s.ToString());
    }

    [Theory]
    [InlineData("cosine", "not known")]
    [InlineData("sgdr:cycle_len=0", "from 0.01 to 10000 epochs")]
    [InlineData("sgdr:cycle_len=1e-20", "from 0.01 to 10000 epochs")] // would have walked cycles forever
    [InlineData("sgdr:period=2", "not an sgdr setting")]
    [InlineData("steps:x=1", "EPOCH=FACTOR")]
    [InlineData("sgdr:cycle_len=0.001", "schedule 'sgdr:cycle_len=0.001': sgdr cycle_len = 0.001 must be")] // names the schedule, as the others do
    public void Bad_schedules_say_what_is_allowed(string text, string expected)
    {
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => LearningRateSchedule.Parse(text)).Message);
    }

    // A slip in a kind or a setting is named with what it probably was, and a phase's epochs=N is among the settings
    // offered: 'epoch=15' in the lesson's schedule was refused as "not an sgdr setting; use cycle_len and cycle_mult".
    [Theory]
    [InlineData("step:1=0.1", "schedule 'step:1=0.1' is not known ('step' is not a kind of schedule: did you mean 'steps'?); use constant | ")]
    [InlineData("sgd:cycle_len=1,cycle_mult=2", "('sgd' is not a kind of schedule: did you mean 'sgdr'?)")]
    [InlineData("sgdr:cycle_len=1,cycle_mul=2", "'cycle_mul' is not an sgdr setting; use cycle_len and cycle_mult (and, in a phase followed by another, epochs=N). Did you mean 'cycle_mult'?")]
    [InlineData("constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epoch=15; sgdr", "phase 2 ('sgdr:cycle_len=1,cycle_mult=2,epoch=15'): 'epoch' is not an sgdr setting; use cycle_len and cycle_mult (and, in a phase followed by another, epochs=N). Did you mean 'epochs'?")]
    [InlineData("constant,epoch=2; sgdr", "constant takes no settings (but, in a phase followed by another, epochs=N), and was given 'epoch=2'. Did you mean 'epochs'?")]
    [InlineData("steps:4=0.1,epoch=8; sgdr", "'epoch=8' should be EPOCH=FACTOR with a whole epoch ≥ 0 (and, in a phase followed by another, epochs=N). Did you mean 'epochs'?")]
    public void A_mistyped_kind_or_setting_is_named_with_the_one_it_probably_was(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => LearningRateSchedule.Parse(text)).Message);

    [Fact]
    public void Layer_group_values_take_one_or_three_numbers()
    {
        Assert.Equal(LayerGroupValues.All(0.01), LayerGroupValues.Parse("1e-2", "lr", 0, 1));
        Assert.Equal(new LayerGroupValues(1e-4, 1e-3, 1e-2), LayerGroupValues.Parse("1e-4, 1e-3, 1e-2", "lr", 0, 1));
        Assert.Contains("is not allowed; give a number from 0 to 10, or three such numbers", Assert.Throws<ArgumentException>(() => LayerGroupValues.Parse("1,2", "lr", 0, 10)).Message);
        Assert.Contains("from 0 to 1", Assert.Throws<ArgumentException>(() => LayerGroupValues.Parse("2", "lr", 0, 1)).Message);
        Assert.Equal(LayerGroup.Embedding, LayerGroups.Of("e.weight"));
        Assert.Equal(LayerGroup.Output, LayerGroups.Of("l_out.bias"));
        Assert.Equal(LayerGroup.Recurrent, LayerGroups.Of("rnn.weight_hh_l1"));
    }

    [Fact]
    public void Hyperparameters_fill_defaults_and_reject_unknown_or_out_of_range_values()
    {
        var lstm = Architectures.Get("stateful-lstm");
        var hp = lstm.Resolve(new Dictionary<string, double> { ["n_hidden"] = 128 });
        Assert.Equal(128, hp.Int("n_hidden"));
        Assert.Equal(2, hp.Int("layers"));
        Assert.Equal(0.5, hp.Float("dropout"));
        Assert.Equal(64, hp.Int("bs"));
        Assert.Equal(8, hp.Int("bptt"));
        var unknown = Assert.Throws<HyperParameterException>(() => lstm.Resolve(new Dictionary<string, double> { ["context"] = 8 }));
        Assert.Contains("'context' is not a hyperparameter of architecture 'stateful-lstm'", unknown.Message);
        var range = Assert.Throws<HyperParameterException>(() => lstm.Resolve(new Dictionary<string, double> { ["layers"] = 2.5 }));
        Assert.Equal("layers", range.Parameter);
        Assert.Contains("an integer from 1 to 8", range.Message);
        Assert.Contains("must be true or false", Assert.Throws<HyperParameterException>(() => lstm.Parameters.Single(p => p.Name == "random_bptt").Parse("maybe")).Message);
    }

    [Fact]
    public void Training_options_name_the_bad_field()
    {
        Assert.Contains("epochs = 0", Assert.Throws<ArgumentException>(() => new TrainingOptions { Epochs = 0 }.Validate()).Message);
        Assert.Contains("optimizer = 'sgd'", Assert.Throws<ArgumentException>(() => new TrainingOptions { Optimizer = "sgd" }.Validate()).Message);
        Assert.Contains("val_fraction", Assert.Throws<ArgumentException>(() => new TrainingOptions { ValidFraction = 0.9 }.Validate()).Message);
        Assert.StartsWith("lr × wd = 2 × 0.6 is not allowed with adamw", Assert.Throws<ArgumentException>(() =>
            new TrainingOptions { Optimizer = "adamw", LearningRate = LayerGroupValues.All(2), WeightDecay = LayerGroupValues.All(0.6) }.Validate()).Message);
        Assert.StartsWith("lr × wd = 2 × 0.6 for the output layers is not allowed", Assert.Throws<ArgumentException>(() =>
            new TrainingOptions { Optimizer = "adamw", LearningRate = new LayerGroupValues(0.01, 0.01, 2), WeightDecay = LayerGroupValues.All(0.6) }.Validate()).Message);
        new TrainingOptions { Optimizer = "adam", LearningRate = LayerGroupValues.All(2), WeightDecay = LayerGroupValues.All(0.6) }.Validate(); // L2 decay: no such bound
        Assert.StartsWith("lr × wd = 3 × 0.5 (lr 0.01 at the schedule's peak factor 300) is not allowed with adamw", Assert.Throws<ArgumentException>(() => // 0.01 × the schedule's 300 from epoch 2
            new TrainingOptions { Optimizer = "adamw", LearningRate = LayerGroupValues.All(0.01), WeightDecay = LayerGroupValues.All(0.5), Schedule = "steps:0=1,2=300" }.Validate()).Message);
    }
}
