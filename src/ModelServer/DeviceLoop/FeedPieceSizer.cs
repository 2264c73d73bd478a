using System.Runtime.CompilerServices;

namespace CharRnn.ModelServer.DeviceLoop;

/// <summary>
/// How many characters of a long text (a Feed's, a prime, an Interact text) one device command feeds: with no
/// stream open, <see cref="MaxChars"/>; while any is open, as many as fit the time a tick's commands may take
/// then (about the streams' last step, <see cref="DeviceWorker.StreamsOpenCommandBudget"/>), from the model's measured
/// feeding time per character. A fixed 256-char piece
/// took 16 ms on a small LSTM on a loaded 2-core VM, and every stream waited for one such piece per char: another
/// key's 200-char Generate took 3 s while one key fed from 16 sessions. One per loop: <see cref="Fed"/> on the
/// device thread, <see cref="PieceChars"/> on any (a model's time per char is one double, read whole).
/// </summary>
public sealed class FeedPieceSizer
{
    /// <summary>The most characters a piece feeds (the proto's "at most 256").</summary>
    public const int MaxChars = 256;

    /// <summary>A model's first piece while streams are open, before its time per character is known.</summary>
    public const int FirstChars = 16;

    private readonly ConditionalWeakTable<object, StrongBox<double>> _secondsPerChar = new(); // by model: its sessions feed alike

    /// <summary>The characters the next piece of <paramref name="model"/>'s text feeds, 1 to <see cref="MaxChars"/>.</summary>
    /// <param name="streamBudget">The time a piece may take while streams are open; null when none is.</param>
    public int PieceChars(object model, TimeSpan? streamBudget)
    {
        if (streamBudget is not { } budget) return MaxChars;
        if (!_secondsPerChar.TryGetValue(model, out var perChar)) return FirstChars;
        return (int)Math.Clamp(Math.Floor(budget.TotalSeconds / perChar.Value), 1, MaxChars);
    }

    /// <summary>A piece of <paramref name="chars"/> characters took <paramref name="took"/>: a moving average per model.</summary>
    public void Fed(object model, int chars, TimeSpan took)
    {
        if (chars <= 0) return;
        var perChar = took.TotalSeconds / chars;
        if (_secondsPerChar.TryGetValue(model, out var last)) last.Value = 0.7 * last.Value + 0.3 * perChar;
        else _secondsPerChar.AddOrUpdate(model, new StrongBox<double>(perChar));
    }
}
