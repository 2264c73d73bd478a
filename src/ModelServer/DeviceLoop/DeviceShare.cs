namespace CharRnn.ModelServer.DeviceLoop;

/// <summary>
/// How the device loop splits the device between streams and the training job while anyone is
/// streaming: after a training slice, generation gets its share of time before the next one.
/// At a share of 0.5 and a 7 ms training piece, a stream whose step takes 2.3 ms gets four
/// chars per piece (3 × 2.3 &lt; 7 ≤ 4 × 2.3) instead of one. With no stream stepping, training
/// has the device to itself.
/// Device thread only.
/// </summary>
public sealed class DeviceShare
{
    private readonly double _owedPerTrainingSecond;
    private double _generatedSinceTraining;
    private double _owed;

    /// <param name="trainingShare">The fraction of the device training gets while anyone streams (0.05–0.95).</param>
    public DeviceShare(double trainingShare)
    {
        if (!(trainingShare >= MinShare && trainingShare <= MaxShare))
            throw new ArgumentOutOfRangeException(nameof(trainingShare), trainingShare, $"The training share must be from {MinShare} to {MaxShare}.");
        _owedPerTrainingSecond = (1 - trainingShare) / trainingShare;
    }

    public const double MinShare = 0.05, MaxShare = 0.95;

    public void Generated(TimeSpan time) => _generatedSinceTraining += time.TotalSeconds;

    /// <summary>Training may run now: no stream stepped this tick, or streams have had their share since training last ran.</summary>
    public bool TrainingMayRun(bool streamsStepped) => !streamsStepped || _generatedSinceTraining >= _owed;

    /// <param name="streamsOpen">Whether anyone was streaming during the slice: a slice of the device alone owes streams nothing.</param>
    public void Trained(TimeSpan time, bool streamsOpen)
    {
        _owed = streamsOpen ? time.TotalSeconds * _owedPerTrainingSecond : 0;
        _generatedSinceTraining = 0;
    }
}
