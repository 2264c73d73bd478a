using static TorchSharp.torch;

namespace CharRnn.Engine.Batching;

/// <summary>
/// The language-model stream layout of the lesson's stateful models: the text is cut into bs
/// equal contiguous streams (column b of a [L, bs] matrix is stream b) and read bptt steps at
/// a time, so batch i+1 continues exactly where batch i stopped in every stream and the hidden
/// state can be carried over (truncated back-propagation through time).
/// With random bptt each batch's length varies as in fastai's LanguageModelLoader; the lengths
/// of an epoch are drawn from (seed, epoch), so any batch can be replayed exactly.
/// For scoring a text (<see cref="ForScoring"/>) the streams overlap by one char: each starts on the
/// char the stream before it ends on, read only as input there, and the remainder of under bs chars
/// past the last stream's end is one last batch of one column that continues the last stream (its
/// state's row bs - 1), so every char after the text's first is a target exactly once.
/// </summary>
public sealed class LanguageModelBatcher : IBatcher
{
    private readonly Tensor _data; // [L, bs]
    private readonly Tensor? _tail; // [r + 1, 1]: the last stream's last char, then the r chars after it (scoring only)
    private readonly int _bptt;
    private readonly bool _randomBptt;
    private readonly long _seed;
    private int _segmentsEpoch = -1;
    private List<(long Start, long Length)> _segments = [];

    public LanguageModelBatcher(IReadOnlyList<int> ids, int batchSize, int bptt, Device device, bool randomBptt, long seed, string what = "training text")
        : this(ids, batchSize, bptt, device, randomBptt, seed, what, overlap: 0)
    {
    }

    /// <summary>Streams that overlap by one char, read without random bptt, then the remainder as the last
    /// stream's continuation: every char after the first is predicted once, from the chars of its stream
    /// before it (validation and `charrnn eval`).</summary>
    public static LanguageModelBatcher ForScoring(IReadOnlyList<int> ids, int batchSize, int bptt, Device device, string what) =>
        new(ids, batchSize, bptt, device, randomBptt: false, seed: 0, what, overlap: 1);

    private LanguageModelBatcher(IReadOnlyList<int> ids, int batchSize, int bptt, Device device, bool randomBptt, long seed, string what, int overlap)
    {
        // Stream b starts at b * stride: with an overlap of 1 its first char is the previous stream's last.
        var stride = (ids.Count - overlap) / batchSize;
        StreamLength = stride + overlap;
        if (StreamLength < 2)
            throw new ArgumentException(
                $"The {what} has {ids.Count} characters: cut into bs = {batchSize} streams that is {StreamLength} per stream, " +
                $"but each stream needs at least 2 (one input and its next char). Use a smaller bs or a longer corpus.");
        BatchSize = batchSize;
        _bptt = bptt;
        _randomBptt = randomBptt;
        _seed = seed;
        var used = new long[StreamLength * batchSize];
        // Row-major [bs, L] then transposed: stream b is the b-th contiguous slice of the text.
        for (var b = 0; b < batchSize; b++)
            for (long t = 0; t < StreamLength; t++)
                used[b * StreamLength + t] = ids[(int)(b * stride + t)];
        _data = DeviceTensor.From(() => tensor(used, [batchSize, StreamLength]).t().contiguous(), device);
        // Scoring leaves no char out: the (ids.Count - 1) % bs after the last stream's last char follow it.
        var tailStart = (long)batchSize * stride;
        TailCharacters = overlap == 0 ? 0 : ids.Count - 1 - tailStart;
        if (TailCharacters > 0)
        {
            var tail = new long[TailCharacters + 1];
            for (long t = 0; t < tail.Length; t++) tail[t] = ids[(int)(tailStart + t)];
            _tail = DeviceTensor.From(() => tensor(tail, [tail.Length, 1]), device);
        }
    }

    public int BatchSize { get; }
    /// <summary>Characters per stream (L).</summary>
    public long StreamLength { get; }
    /// <summary>Chars past the last stream's end, scored by the last batch (0 but for scoring).</summary>
    public long TailCharacters { get; }

    public int BatchesPerEpoch(int epoch) => Segments(epoch).Count + (_tail is null ? 0 : 1);

    public Batch Get(int epoch, int index)
    {
        var segments = Segments(epoch);
        if (index == segments.Count && _tail is not null)
            return new Batch(_tail.narrow(0, 0, TailCharacters), _tail.narrow(0, 1, TailCharacters)) { StateRows = (BatchSize - 1, 1) };
        var (start, length) = segments[index];
        return new Batch(_data.narrow(0, start, length), _data.narrow(0, start + 1, length));
    }

    /// <summary>The (start, length) of each batch of an epoch.</summary>
    public IReadOnlyList<(long Start, long Length)> Segments(int epoch)
    {
        if (_segmentsEpoch == epoch) return _segments;
        var rng = new Random((int)(WindowBatcher.SeedFor(_seed, epoch) % int.MaxValue));
        var segments = new List<(long, long)>();
        for (long start = 0; start < StreamLength - 1;)
        {
            long length = _bptt;
            if (_randomBptt)
            {
                double center = rng.NextDouble() < 0.95 ? _bptt : _bptt / 2.0;
                length = Math.Max(Math.Min(5, _bptt), (long)(center + 5 * NextGaussian(rng)));
            }
            length = Math.Min(length, StreamLength - 1 - start);
            segments.Add((start, length));
            start += length;
        }
        _segments = segments;
        _segmentsEpoch = epoch;
        return segments;
    }

    private static double NextGaussian(Random rng) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble())) * Math.Cos(2.0 * Math.PI * rng.NextDouble());

    public void Dispose()
    {
        _data.Dispose();
        _tail?.Dispose();
    }
}
