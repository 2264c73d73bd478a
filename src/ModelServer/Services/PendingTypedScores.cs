using CharRnn.Engine.Sampling;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>
/// An Interact stream's typed-text scores (char_scores) not yet sent: a prediction made stale before its first
/// message, or a request with no prediction, leaves its request's scores here for the next first message sent.
/// Thread-safe: the request loop adds, the stream's writer takes.
/// </summary>
public sealed class PendingTypedScores
{
    /// <summary>
    /// Chars kept at most: a client feeding on with predict_chars 0 must not grow the server's memory without end. Older
    /// requests' scores go whole (typed_scores_from says where the rest start); the newest request's always stay.
    /// </summary>
    public const int MaxChars = 20_000;

    private readonly object _gate = new();
    private readonly List<(long Request, IReadOnlyList<CharScore> Scores)> _pending = [];
    private int _chars;

    /// <summary>What request <paramref name="request"/> fed: a reset drops the scores of the text before it (that text is gone).</summary>
    public void Fed(long request, bool reset, IReadOnlyList<CharScore>? scores)
    {
        lock (_gate)
        {
            if (reset)
            {
                _pending.Clear();
                _chars = 0;
            }
            if (scores is { Count: > 0 }) // a request that fed nothing adds nothing: kept, an empty text a time would grow the list without end
            {
                _pending.Add((request, scores));
                _chars += scores.Count;
            }
            while (_chars > MaxChars && _pending.Count > 1)
            {
                _chars -= _pending[0].Scores.Count;
                _pending.RemoveAt(0);
            }
        }
    }

    /// <summary>How many requests' scores are kept (each holds at least one char's).</summary>
    internal int RequestsKept
    {
        get { lock (_gate) return _pending.Count; }
    }

    /// <summary>
    /// Puts on <paramref name="first"/>, the first message sent of its prediction, the scores of every request up to its
    /// own: in order, with typed_scores_from the request they start with. A newer request's stay for its own message.
    /// </summary>
    public void Carry(Api.InteractResponse first)
    {
        lock (_gate)
        {
            var taken = _pending.TakeWhile(p => p.Request <= first.RequestIndex).ToList();
            _pending.RemoveRange(0, taken.Count);
            _chars -= taken.Sum(p => p.Scores.Count);
            first.TypedScores.AddRange(taken.SelectMany(p => p.Scores).Select(ProtoMapper.ToProto));
            if (first.TypedScores.Count > 0) first.TypedScoresFrom = taken.First(p => p.Scores.Count > 0).Request;
        }
    }
}
