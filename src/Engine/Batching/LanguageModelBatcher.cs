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
/// char the stream before it ends on, read only as input there, so every char after the text's first
/// is a target exactly once (but a remainder of under bs chars at the end).
/// </summary>
public sealed class LanguageModelBatcher : IBatcher
{
    private readonly Tensor _data; // [L, bs]
    private readonly int _bptt;
    private readonly bool _randomBptt;
    private readonly long _seed;
    private int _segmentsEpoch = -1;
    private List<(long Start, long Length)> _segments = [];

    public LanguageModelBatcher(IReadOnlyList<int> ids, int batchSize, int bptt, Device device, bool randomBptt, long seed, string what = "training text")
        : this(ids, batchSize, bptt, device, randomBptt, seed, what, overlap: 0)
    {
    }

    /// <summary>Streams that overlap by one char, read without random bptt: every char after the first
    /// is predicted once, from the chars of its stream before it (validation and `charrnn eval`).</summary>
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
    }

    public int BatchSize { get; }
    /// <summary>Characters per stream (L).</summary>
    public long StreamLength { get; }
    public long CharactersPerEpoch => (StreamLength - 1) * BatchSize;

    public int BatchesPerEpoch(int epoch) => Segments(epoch).Count;

    public Batch Get(int epoch, int index)
    {
        var (start, length) = Segments(epoch)[index];
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

    public void Dispose() => _data.Dispose();
}
