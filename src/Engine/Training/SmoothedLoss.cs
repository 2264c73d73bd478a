namespace CharRnn.Engine.Training;

/// <summary>
/// fastai's smoothing of the training loss: an exponential moving average, avg = β·avg + (1 − β)·loss, divided by
/// 1 − β^n after n losses (the bias correction: an average started at 0 would read low for its first steps).
/// </summary>
public sealed class SmoothedLoss(double beta = SmoothedLoss.FastAiBeta)
{
    /// <summary>fastai's avg_mom.</summary>
    public const double FastAiBeta = 0.98;

    private double _average;
    private int _count;

    /// <summary>Adds one loss; returns the smoothed loss so far.</summary>
    public double Add(double loss)
    {
        _count++;
        _average = beta * _average + (1 - beta) * loss;
        return _average / (1 - Math.Pow(beta, _count));
    }
}
