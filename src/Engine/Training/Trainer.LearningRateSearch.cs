namespace CharRnn.Engine.Training;

/// <summary>The step the learning-rate finder takes: one batch at a rate it sets, its loss read back.</summary>
public sealed partial class Trainer
{
    /// <summary>Set by <see cref="StepAtFactor"/>: the factor the options' rates are multiplied by instead of the schedule's.</summary>
    private double? _searchFactor;

    /// <summary>
    /// Trains one batch with every layer group's rate the options' times <paramref name="factor"/>, and returns the
    /// batch's mean loss (nats/char; a device sync each call, which a run to the end avoids). A batch that ends an epoch
    /// moves on to the next one at once (<see cref="NextEpochUnvalidated"/>).
    /// </summary>
    internal double StepAtFactor(double factor)
    {
        _searchFactor = factor;
        var (sumBefore, charsBefore) = (_epochLossSum.item<double>(), _epochChars);
        while (!StepPiece(1)) { }
        var loss = (_epochLossSum.item<double>() - sumBefore) / Math.Max(1, _epochChars - charsBefore);
        if (Position.Batch >= BatchesInEpoch) NextEpochUnvalidated(); // after the loss is read: it resets the epoch's sum
        return loss;
    }

    /// <summary>
    /// A search's epoch end: the next epoch starts with nothing validated, recorded or sampled. A search reads its batches'
    /// losses, not the weights': a validation pass was time spent on a small corpus, and its worse-than-guessing check ended
    /// searches that the smoothed loss had not (fastai's finder sets its validation set aside too).
    /// </summary>
    private void NextEpochUnvalidated()
    {
        ResetEpochCounters();
        Position = Position with { Epoch = Position.Epoch + 1, Batch = 0 };
    }
}
