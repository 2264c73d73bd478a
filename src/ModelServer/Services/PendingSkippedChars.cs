using CharRnn.Engine.Text;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>
/// An Interact stream's unknown characters dropped (UNKNOWN_CHARS_SKIP) and not yet told: a request with no prediction,
/// or one whose prediction went stale before its first message, leaves them here for the next first message sent, as
/// <see cref="PendingTypedScores"/> keeps its scores. Thread-safe: the request loop adds, the stream's writer takes.
/// </summary>
public sealed class PendingSkippedChars
{
    private readonly object _gate = new();
    private readonly List<(long Request, IReadOnlyList<SkippedCharacter> Skipped)> _pending = [];

    /// <summary>What request <paramref name="request"/> dropped: a reset forgets what the text before it dropped (that text is gone, and sent again).</summary>
    public void Fed(long request, bool reset, IReadOnlyList<SkippedCharacter> skipped)
    {
        lock (_gate)
        {
            if (reset) _pending.Clear();
            if (skipped.Count == 0) return;
            // The older requests' drops kept as one (under the newest of them): a client typing on with predict_chars 0 keeps
            // one entry per distinct char, not one per request.
            if (_pending.Count > 1)
            {
                var older = (_pending[^1].Request, (IReadOnlyList<SkippedCharacter>)Merged(_pending));
                _pending.Clear();
                _pending.Add(older);
            }
            _pending.Add((request, skipped));
        }
    }

    /// <summary>The drops summed per char, in the order each was first dropped.</summary>
    private static List<SkippedCharacter> Merged(IEnumerable<(long Request, IReadOnlyList<SkippedCharacter> Skipped)> entries) =>
        [.. entries.SelectMany(p => p.Skipped).GroupBy(s => s.Character).Select(g => new SkippedCharacter(g.Key, g.Sum(s => s.Count)))];

    /// <summary>Puts on <paramref name="first"/>, the first message sent of its prediction, what every request up to its own dropped.</summary>
    public void Carry(Api.InteractResponse first)
    {
        lock (_gate)
        {
            var taken = _pending.TakeWhile(p => p.Request <= first.RequestIndex).ToList();
            if (taken.Count == 0) return;
            _pending.RemoveRange(0, taken.Count);
            var skipped = Merged(taken);
            first.UnknownCharsSkipped = skipped.Sum(s => s.Count);
            first.SkippedChars.AddRange(skipped.Select(ProtoMapper.ToProto));
        }
    }
}
