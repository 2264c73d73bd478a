namespace CharRnn.Tui.Client;

/// <summary>How far a model has trained, as <c>info</c> and <c>charrnn models NAME</c> say it.</summary>
public static class TrainedSoFarText
{
    /// <summary>
    /// "6 epoch(s), 4,312 steps" at an epoch's end; a model stopped between epoch ends (a stop, a time budget,
    /// max_steps) "6 epoch(s) and 572 steps into epoch 7 (4,884 steps)": its step is inside the epoch after those
    /// done, which "6 epoch(s), 4,884 steps" read as the end of epoch 6; before its first epoch's end "12 steps into
    /// epoch 1". <paramref name="lastEpochEnd"/> is the last epoch's end in its history (null where it has none, as an
    /// import's).
    /// </summary>
    public static string Of(int epochs, long steps, (int Epoch, long Step)? lastEpochEnd)
    {
        var from = epochs == 0 ? 0 : lastEpochEnd is { } end && end.Epoch == epochs ? end.Step : -1;
        if (from < 0 || steps <= from) return $"{epochs} epoch(s), {Steps(steps)}";
        var into = $"{Steps(steps - from)} into epoch {epochs + 1}";
        return epochs == 0 ? into : $"{epochs} epoch(s) and {into} ({Steps(steps)})";
    }

    private static string Steps(long n) => n == 1 ? "1 step" : $"{n:N0} steps";
}
