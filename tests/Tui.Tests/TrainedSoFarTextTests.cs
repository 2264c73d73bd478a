using CharRnn.Tui.Client;

namespace CharRnn.Tui.Tests;

/// <summary>How far a model has trained, as info and charrnn models NAME say it.</summary>
public class TrainedSoFarTextTests
{
    [Theory]
    [InlineData(6, 4312L, 6, 4312L, "6 epoch(s), 4,312 steps")] // at the end of epoch 6
    [InlineData(6, 4884L, 6, 4312L, "6 epoch(s) and 572 steps into epoch 7 (4,884 steps)")] // stopped inside epoch 7
    [InlineData(0, 300L, 0, 0L, "300 steps into epoch 1")] // stopped before its first epoch ended
    [InlineData(1, 101L, 1, 100L, "1 epoch(s) and 1 step into epoch 2 (101 steps)")]
    public void Steps_past_the_last_epochs_end_are_named_as_inside_the_next_epoch(int epochs, long steps, int lastEpoch, long lastStep, string said)
    {
        (int, long)? end = lastEpoch == 0 ? null : (lastEpoch, lastStep);
        Assert.Equal(said, TrainedSoFarText.Of(epochs, steps, end));
    }

    [Fact]
    public void A_model_with_no_history_to_place_its_steps_says_them_as_counted()
    {
        Assert.Equal("3 epoch(s), 0 steps", TrainedSoFarText.Of(3, 0, null));
        Assert.Equal("0 epoch(s), 0 steps", TrainedSoFarText.Of(0, 0, null)); // not trained at all // an import: its export's epoch, no history
        Assert.Equal("3 epoch(s), 900 steps", TrainedSoFarText.Of(3, 900, (2, 600))); // a history that does not end at its epoch: nothing to measure from
    }
}
