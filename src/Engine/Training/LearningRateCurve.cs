using System.Globalization;

namespace CharRnn.Engine.Training;

/// <summary>One step of a learning-rate search: the rate (the recurrent layers'), the batch's loss and the smoothed loss.</summary>
public readonly record struct LearningRatePoint(double Rate, double Loss, double SmoothedLoss);

/// <summary>
/// A learning-rate search's losses as they come, with fastai's LR_Finder stop rule: the search ends when the smoothed
/// loss goes NaN (or infinite) or above 4 × the best seen. As there, the best counts from the 12th step on (the first steps' loss,
/// still near a guess's, is no yardstick), and the step that ends the search is not kept.
/// </summary>
public sealed class LearningRateCurve
{
    public const double BlowUpFactor = 4;

    /// <summary>Steps before the best starts counting (fastai: iteration &gt; 10).</summary>
    public const int StepsBeforeBest = 11;

    private readonly List<LearningRatePoint> _points = [];
    private readonly SmoothedLoss _smoothing = new();

    public IReadOnlyList<LearningRatePoint> Points => _points;

    /// <summary>The lowest smoothed loss from step <see cref="StepsBeforeBest"/> + 1 on (infinity before).</summary>
    public double Best { get; private set; } = double.PositiveInfinity;

    /// <summary>Why the search ended early; null while it goes on.</summary>
    public string? BlowUp { get; private set; }

    /// <summary>Adds a step; false when its smoothed loss ends the search (<see cref="BlowUp"/> says why).</summary>
    public bool Add(double rate, double loss)
    {
        if (BlowUp != null) throw new InvalidOperationException("The search has ended: " + BlowUp);
        var smoothed = _smoothing.Add(loss);
        var step = _points.Count + 1;
        if (!double.IsFinite(smoothed)) // NaN (fastai's rule), or infinite, which no later step would bring back
        {
            BlowUp = string.Create(CultureInfo.InvariantCulture, $"the loss became {loss} at step {step} (lr {rate:G3})");
            return false;
        }
        if (smoothed > BlowUpFactor * Best)
        {
            BlowUp = string.Create(CultureInfo.InvariantCulture, $"the smoothed loss {smoothed:F3} passed {BlowUpFactor:G} × the best {Best:F3} at step {step} (lr {rate:G3})");
            return false;
        }
        if (_points.Count >= StepsBeforeBest && smoothed < Best) Best = smoothed;
        _points.Add(new LearningRatePoint(rate, loss, smoothed));
        return true;
    }
}
