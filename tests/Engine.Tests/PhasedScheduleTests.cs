using CharRnn.Engine.Training;

namespace CharRnn.Engine.Tests;

public class PhasedScheduleTests
{
    private const string Lesson = "constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; sgdr:cycle_len=1,cycle_mult=2";

    [Fact]
    public void The_lessons_three_fits_run_one_after_another_each_counting_epochs_from_its_own_start()
    {
        var s = LearningRateSchedule.Parse(Lesson);
        Assert.Equal(1.0, s.Factor(0), 9);
        Assert.Equal(1.0, s.Factor(1.5), 9);       // the constant fit
        Assert.Equal(1.0, s.Factor(2), 9);         // the first SGDR starts at full rate
        Assert.Equal(0.5, s.Factor(2.5), 9);       // half its first 1-epoch cycle
        Assert.Equal(0.5, s.Factor(4), 9);         // middle of its 2-epoch cycle [3, 5)
        Assert.Equal(0.5, s.Factor(13), 9);        // middle of its 8-epoch cycle [9, 17)
        Assert.True(s.Factor(16.99) < 0.001);
        Assert.Equal(1.0, s.Factor(17), 9);        // a fresh SGDR: its cycles are 1, 2, 4 … again, not 16
        Assert.Equal(0.5, s.Factor(17.5), 9);
        Assert.Equal(0.5, s.Factor(19), 9);        // middle of the fresh 2-epoch cycle [18, 20)
        Assert.Equal(0.5, s.Factor(17 + 31 + 16), 9); // middle of its 32-epoch cycle [48, 80)
        Assert.True(s.Factor(79.999) < 1e-6);      // 80 epochs end at the end of a cycle
    }

    [Fact]
    public void Cycle_ends_are_found_in_every_sgdr_phase_and_numbered_across_them()
    {
        var s = LearningRateSchedule.Parse(Lesson);
        Assert.True(s.HasCycles);
        int[] ends = [3, 5, 9, 17, 18, 20, 24, 32, 48, 80];
        Assert.Equal(ends, Enumerable.Range(1, 90).Where(s.IsCycleEnd));
        Assert.Equal(Enumerable.Range(1, ends.Length), ends.Select(s.CyclesEndedBy)); // cycle-1 … cycle-10: no name taken twice
        Assert.Equal(0, s.CyclesEndedBy(2));
        Assert.Equal(4, s.CyclesEndedBy(17));
        Assert.False(LearningRateSchedule.Parse("constant,epochs=2; steps:1=0.1").HasCycles);
    }

    [Fact]
    public void A_run_stops_mid_cycle_only_inside_an_sgdr_phase_and_at_the_rate_of_the_phase_that_ran_its_last_epoch()
    {
        var s = LearningRateSchedule.Parse("sgdr:cycle_len=1,cycle_mult=2,epochs=5; constant");
        Assert.Null(s.MidCycleFactor(3));                  // a cycle's end
        Assert.Equal(0.5, s.MidCycleFactor(2)!.Value, 9);  // middle of the cycle [1, 3)
        Assert.Equal(0.5, s.MidCycleFactor(5)!.Value, 9);  // the phase ends midway through [3, 7): its rate, not the constant's 1
        Assert.Null(s.MidCycleFactor(6));                  // the constant phase has no cycle to stop in
        Assert.Null(s.MidCycleFactor(0));
        Assert.Null(LearningRateSchedule.Parse("steps:3=0.1").MidCycleFactor(2));
    }

    [Fact]
    public void Phases_read_back_from_their_text_and_one_phase_alone_is_that_schedule()
    {
        var s = LearningRateSchedule.Parse(" Constant , epochs = 2 ;SGDR:epochs=15,cycle_mult=2;steps:3=0.1 ");
        Assert.Equal("constant,epochs=2; sgdr:cycle_len=1,cycle_mult=2,epochs=15; steps:3=0.1", s.ToString());
        Assert.Equal(s.ToString(), LearningRateSchedule.Parse(s.ToString()).ToString());
        Assert.Equal(0.1, s.Factor(2 + 15 + 3), 9);    // the steps phase counts from its own start
        Assert.Equal(1.0, s.Factor(2 + 15 + 2.9), 9);
        Assert.Equal(10, LearningRateSchedule.Parse("constant,epochs=1; steps:0=10").MaxFactor);
        Assert.IsType<SgdrSchedule>(LearningRateSchedule.Parse("sgdr:cycle_len=1,cycle_mult=2"));
        Assert.Equal(1.0, LearningRateSchedule.Parse("steps:0=0.1,epochs=99999; constant").Factor(99999), 9); // the last epoch a run may have: the last phase's
    }

    [Theory]
    [InlineData("sgdr,cycle_len=2", "sgdr:cycle_len=2,cycle_mult=1")] // refused as 'not known' alone, though read in a phase
    [InlineData("steps,3=0.1", "steps:3=0.1")]
    [InlineData("constant,epochs=2; sgdr,cycle_len=2", "constant,epochs=2; sgdr:cycle_len=2,cycle_mult=1")]
    public void A_kind_is_followed_by_its_settings_after_a_comma_alone_as_in_a_phase(string text, string read) =>
        Assert.Equal(read, LearningRateSchedule.Parse(text).ToString());

    [Theory]
    [InlineData("constant; sgdr", "phase 1 ('constant') has no epochs=N; every phase but the last needs one")]
    [InlineData("constant,epochs=2; sgdr,epochs=15", "the last phase ('sgdr,epochs=15') runs until training ends, so it takes no epochs=; drop epochs=15, or add a phase after it")]
    [InlineData("sgdr:cycle_len=1,epochs=15", "the last phase ('sgdr:cycle_len=1,epochs=15') runs until training ends")]
    [InlineData("constant,epochs=2;; sgdr", "phase 2 is empty; separate phases with one ';'")]
    [InlineData("constant,epochs=2; sgdr;", "phase 3 is empty")]
    [InlineData("constant,epochs=0; sgdr", "epochs=0 in phase 1 is not allowed; a phase's epochs must be a whole number from 1 to 100000")]
    [InlineData("constant,epochs=1.5; sgdr", "epochs=1.5 in phase 1 is not allowed")]
    [InlineData("constant,epochs=2,epochs=3; sgdr", "phase 1 gives epochs= twice")]
    [InlineData(",epochs=2; sgdr", "phase 1 (',epochs=2') names no kind; start it with constant, steps or sgdr")]
    [InlineData("constant,epochs=2; cosine", "schedule 'constant,epochs=2; cosine': phase 2 ('cosine') is not known; use constant | steps:EPOCH=FACTOR")]
    [InlineData("constant,epochs=2; steps:", "schedule 'constant,epochs=2; steps:': phase 2 ('steps:') lists no steps; use constant")]
    [InlineData("steps:x=1,epochs=2; sgdr", "schedule 'steps:x=1,epochs=2; sgdr': phase 1 ('steps:x=1,epochs=2'): 'x=1' should be EPOCH=FACTOR")]
    [InlineData("constant,epochs=2; sgdr:cycle_len=0", "schedule 'constant,epochs=2; sgdr:cycle_len=0': phase 2 ('sgdr:cycle_len=0'): sgdr cycle_len = 0 must be from 0.01")]
    [InlineData("constant,epochs=2; sgdr:cycle_len=x", "phase 2 ('sgdr:cycle_len=x'): 'x' is not a number")]
    [InlineData("constant,lr=2,epochs=2; sgdr", "schedule 'constant,lr=2,epochs=2; sgdr': phase 1 ('constant,lr=2,epochs=2'): constant takes no settings (but, in a phase followed by another, epochs=N), and was given 'lr=2'.")]
    [InlineData("constant,epochs=60000; steps:0=0.1,epochs=40000; sgdr", "the phases before the last run 100000 epochs in all, so the last would start only after epoch 100000; " +
                                                                         "a run has at most 100000 epochs, so they may add up to at most 99999")]
    public void Bad_phases_say_what_is_wrong_and_what_is_allowed(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => LearningRateSchedule.Parse(text)).Message);
}
