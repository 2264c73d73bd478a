namespace CharRnn.Engine.Training;

/// <summary>The step the learning-rate finder takes: one batch at a rate it sets, its loss read back.</summary>
public sealed partial class Trainer
{
    /// <summary>Set by <see cref="StepAtFactor"/>: the factor the options' rates are multiplied by instead of the schedule's.</summary>
    private double? _searchFactor;

    /// <summary>
    /// Trains one batch with every layer group's rate the options' times <paramref name="factor"/>, and returns the
    /// batch's mean loss (nats/char; a device sync each call, which a run to the end avoids). An epoch's end the batch
    /// reaches is run too, so the next call starts the next epoch.
    /// </summary>
    internal double StepAtFactor(double factor)
    {
        _searchFactor = factor;
        var (sumBefore, charsBefore) = (_epochLossSum.item<double>(), _epochChars);
        while (!StepPiece(1)) { }
        var loss = (_epochLossSum.item<double>() - sumBefore) / Math.Max(1, _epochChars - charsBefore);
        while (InEpochEnd) StepPiece(1);
        return loss;
    }
}
