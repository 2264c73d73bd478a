namespace CharRnn.ModelServer.Jobs;

/// <summary>
/// How many pieces to cut a job's next training step into, so that each holds the device about
/// as long as the slice it gets while anyone generates: from the job's measured training time per
/// character (a moving average over its steps, whole or in pieces). One per job (device thread).
/// </summary>
internal sealed class StepPieceSizer
{
    /// <summary>A slice at least this long means no one is streaming: a job's first step may then run whole.</summary>
    private static readonly TimeSpan FirstStepWholeWithin = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Stream models are cut in time, at most a segment per time step, and their pieces cost about
    /// what the whole step costs (a GRU step in 16 pieces: 1.25×, `make bench` pieces section); windowed models are cut in
    /// rows, each piece paying the model's per-operation overhead again, but their steps are short.
    /// </summary>
    private const int MaxPieces = 16;

    private double? _secondsPerCharacter;
    private long _stepCharacters; // the step in progress: its characters,
    private double _stepSeconds;  // and the device time its pieces took so far

    /// <summary>The pieces for a step of <paramref name="characters"/> starting now, within <paramref name="budget"/> each.</summary>
    public int PiecesFor(long characters, TimeSpan budget)
    {
        (_stepCharacters, _stepSeconds) = (characters, 0);
        if (_secondsPerCharacter is { } perChar)
            return perChar * characters > budget.TotalSeconds ? (int)Math.Min(MaxPieces, Math.Ceiling(perChar * characters / budget.TotalSeconds)) : 1;
        return budget < FirstStepWholeWithin ? MaxPieces : 1; // nothing measured yet, and streams are waiting: the finest cut
    }

    /// <summary>Counts a piece's device time; the step's end updates the time per character.</summary>
    public void Record(TimeSpan pieceTook, bool stepDone)
    {
        _stepSeconds += pieceTook.TotalSeconds;
        if (!stepDone || _stepCharacters <= 0) return;
        // Pieced steps count too: they cost a little more than whole ones (at most ~1.25×), which only cuts finer.
        var perChar = _stepSeconds / _stepCharacters;
        _secondsPerCharacter = _secondsPerCharacter is { } last ? 0.8 * last + 0.2 * perChar : perChar;
        _stepCharacters = 0;
    }
}
