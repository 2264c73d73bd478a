namespace CharRnn.ModelServer.DeviceLoop;

/// <summary>
/// How the device loop splits the device between the others (streams, and commands such as OpenSession,
/// Feed and primes) and the training job.
/// Streams: after a training slice, the streams get their share of generation time before the next one
/// (only generation time pays it: commands run on their own few milliseconds a tick). At a share of 0.5
/// and a 7 ms training piece, a stream whose step takes 2.3 ms gets four chars per piece
/// (3 × 2.3 &lt; 7 ≤ 4 × 2.3) instead of one.
/// Commands: the time they take earns training its share back, a credit (up to <see cref="MaxEarned"/>)
/// that the next slices spend: a slice runs the credit it spends before waiting work may cut it. While
/// any stream is open, no slice is longer than the training slice (--training-slice-ms, the longest
/// pause training adds between a stream's chars): the credit is spent over as many slices as it takes.
/// With no stream open, a slice may run the whole credit at once.
/// With no one else using the device, training has it to itself.
/// Device thread only.
/// </summary>
public sealed class DeviceShare
{
    private readonly double _owedPerTrainingSecond;
    private double _generatedSinceTraining;
    private double _earned;
    private double _owed;

    /// <summary>The most training time commands' time may earn ahead, and the longest slice with no stream open.</summary>
    public static readonly TimeSpan MaxEarned = TimeSpan.FromMilliseconds(250);

    /// <param name="trainingShare">The fraction of the device training gets while anyone else uses it (0.05–0.95).</param>
    public DeviceShare(double trainingShare)
    {
        if (!(trainingShare >= MinShare && trainingShare <= MaxShare))
            throw new ArgumentOutOfRangeException(nameof(trainingShare), trainingShare, $"The training share must be from {MinShare} to {MaxShare}.");
        _owedPerTrainingSecond = (1 - trainingShare) / trainingShare;
    }

    public const double MinShare = 0.05, MaxShare = 0.95;

    /// <summary>Time streams' generation steps took: it pays what training owes the streams.</summary>
    public void Generated(TimeSpan time) => _generatedSinceTraining += time.TotalSeconds;

    /// <summary>
    /// Time queued commands took (opening sessions, feeding text, forks, ...): it earns training its share
    /// back (<see cref="TrainingEarned"/>). Uncounted, a key feeding long texts in a loop took the device
    /// from training. It does not pay what training owes the streams: one key's feeding is not other keys'
    /// streams' time.
    /// </summary>
    public void RanCommands(TimeSpan time) =>
        _earned = Math.Min(_earned + time.TotalSeconds / _owedPerTrainingSecond, MaxEarned.TotalSeconds);

    /// <summary>
    /// Training may run now: no stream stepped this tick, or the streams have had their share since
    /// training last ran.
    /// </summary>
    public bool TrainingMayRun(bool streamsStepped) => !streamsStepped || _generatedSinceTraining >= _owed;

    /// <summary>The training time commands earned and slices have not spent yet (at most <see cref="MaxEarned"/>).</summary>
    public TimeSpan TrainingEarned => TimeSpan.FromSeconds(_earned);

    /// <summary>
    /// The next slice: how long it may run, and how much of that it runs before work that waits may cut it.
    /// While streams are open, at most <paramref name="streamSlice"/> (the pause streams were promised);
    /// otherwise <see cref="MaxEarned"/>. The uncut part is the earned credit, within the slice.
    /// </summary>
    public (TimeSpan Slice, TimeSpan Uncut) NextSlice(bool streamsOpen, TimeSpan streamSlice)
    {
        var slice = streamsOpen ? streamSlice : MaxEarned;
        var earned = TrainingEarned;
        return (slice, earned < slice ? earned : slice);
    }

    /// <param name="time">How long the slice took: it spends that much of the earned credit.</param>
    /// <param name="streamsOpen">Whether any stream was open around the slice: a slice with none owes nothing.</param>
    public void Trained(TimeSpan time, bool streamsOpen)
    {
        _owed = streamsOpen ? time.TotalSeconds * _owedPerTrainingSecond : 0;
        _generatedSinceTraining = 0;
        _earned = Math.Max(0, _earned - time.TotalSeconds);
    }
}
