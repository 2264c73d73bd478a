namespace CharRnn.ModelServer.DeviceLoop;

/// <summary>
/// How the device loop splits the device between the others (streams, and commands such as OpenSession,
/// Feed and primes) and the training job while anyone else uses it: after a training slice, the others get
/// their share of time before the next one, and commands earn training its share back: the next slice runs
/// at least that long before waiting work may cut it. At a share of 0.5 and a 7 ms training piece, a stream
/// whose step takes 2.3 ms gets four chars per piece (3 × 2.3 &lt; 7 ≤ 4 × 2.3) instead of one. With no one
/// else using the device, training has it to itself.
/// Device thread only.
/// </summary>
public sealed class DeviceShare
{
    private readonly double _owedPerTrainingSecond;
    private double _generatedSinceTraining;
    private double _commandsSinceTraining;
    private double _owed;

    /// <param name="trainingShare">The fraction of the device training gets while anyone else uses it (0.05–0.95).</param>
    public DeviceShare(double trainingShare)
    {
        if (!(trainingShare >= MinShare && trainingShare <= MaxShare))
            throw new ArgumentOutOfRangeException(nameof(trainingShare), trainingShare, $"The training share must be from {MinShare} to {MaxShare}.");
        _owedPerTrainingSecond = (1 - trainingShare) / trainingShare;
    }

    public const double MinShare = 0.05, MaxShare = 0.95;

    /// <summary>Time streams' generation steps took.</summary>
    public void Generated(TimeSpan time) => _generatedSinceTraining += time.TotalSeconds;

    /// <summary>
    /// Time queued commands took (opening sessions, feeding text, forks, ...): it counts as the others' time as
    /// streams' does. Uncounted, a key feeding long texts in a loop took the device from training.
    /// </summary>
    public void RanCommands(TimeSpan time) => _commandsSinceTraining += time.TotalSeconds;

    /// <summary>
    /// Training may run now: no one else used the device this tick, or the others have had their share since
    /// training last ran.
    /// </summary>
    public bool TrainingMayRun(bool othersUsedIt) => !othersUsedIt || _generatedSinceTraining + _commandsSinceTraining >= _owed;

    /// <summary>
    /// The time the commands run since the last slice earned training at its share: the next slice runs at
    /// least this long (within its budget) before work that waits may cut it short.
    /// </summary>
    public TimeSpan TrainingEarned => TimeSpan.FromSeconds(_commandsSinceTraining / _owedPerTrainingSecond);

    /// <param name="othersWaiting">Whether anyone else was using the device around the slice (streams open, commands run or queued): a slice of the device alone owes nothing.</param>
    public void Trained(TimeSpan time, bool othersWaiting)
    {
        _owed = othersWaiting ? time.TotalSeconds * _owedPerTrainingSecond : 0;
        _generatedSinceTraining = 0;
        _commandsSinceTraining = 0;
    }
}
