using System.Globalization;

namespace CharRnn.Engine.Training;

/// <summary>
/// The learning-rate finder's rates (fastai's LR_Finder): from <see cref="Start"/> at the first step to <see cref="End"/>
/// at the last, each step's rate the last one's times the same factor, so they are evenly spaced in log(lr).
/// Counted in steps, not epochs as <see cref="LearningRateSchedule"/> is: a search of 100 batches is a sliver of an
/// epoch, and how many batches an epoch has varies with random bptt.
/// </summary>
public sealed record ExponentialSchedule
{
    public const int MinSteps = 10, MaxSteps = 10_000;

    /// <summary>The largest end: the most charrnn train takes as --lr.</summary>
    public const double MaxRate = 10;

    public ExponentialSchedule(double start, double end, int steps)
    {
        if (!(double.IsFinite(start) && start > 0))
            throw new ArgumentException($"start_lr = {Format(start)} is not allowed; it must be above 0 (e.g. 1e-7) and below the end rate.");
        if (!(double.IsFinite(end) && end > 0 && end <= MaxRate))
            throw new ArgumentException($"end_lr = {Format(end)} is not allowed; it must be above 0 and at most {Format(MaxRate)}.");
        if (start >= end)
            throw new ArgumentException($"start_lr = {Format(start)} is not allowed; it must be below the end rate ({Format(end)}): the rate rises from the start to the end.");
        if (steps is < MinSteps or > MaxSteps)
            throw new ArgumentException($"steps = {steps} is not allowed; it must be from {MinSteps} to {MaxSteps}.");
        (Start, End, Steps) = (start, end, steps);
    }

    public double Start { get; }
    public double End { get; }
    public int Steps { get; }

    /// <summary>What each step's rate is multiplied by to give the next one's.</summary>
    public double Multiplier => Math.Pow(End / Start, 1.0 / (Steps - 1));

    /// <summary>The rate of step <paramref name="step"/> (0 to Steps − 1): Start × (End/Start)^(step/(Steps − 1)).</summary>
    public double RateAt(int step) => step == Steps - 1 ? End : Start * Math.Pow(End / Start, (double)step / (Steps - 1));

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
