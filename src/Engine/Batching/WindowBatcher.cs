using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Batching;

/// <summary>
/// Shuffled mini-batches of windowed examples. The data sits on the device once; each epoch's
/// order is a permutation drawn from (seed, epoch), so any batch can be replayed exactly.
/// </summary>
public sealed class WindowBatcher : IBatcher
{
    private readonly Tensor _x, _y;
    private readonly int _batchSize;
    private readonly bool _shuffle;
    private readonly long _seed;
    private int _permutationEpoch = -1;
    private Tensor? _permutation;

    public WindowBatcher(WindowedExamples examples, int batchSize, Device device, bool shuffle, long seed)
        : this(Inputs(examples, device), DeviceTensor.From(() => examples.TargetLength == 1
            ? tensor(examples.Targets, [examples.Count])
            : tensor(examples.Targets, [examples.Count, examples.TargetLength]), device), batchSize, shuffle, seed)
    {
    }

    /// <summary>Over windows already on the device (x [count, n], y [count] or [count, n]; views of a text will do), which it then owns.</summary>
    internal WindowBatcher(Tensor x, Tensor y, int batchSize, bool shuffle, long seed)
    {
        _batchSize = batchSize;
        _shuffle = shuffle;
        _seed = seed;
        _x = x;
        _y = y;
        Count = (int)x.shape[0];
    }

    private static Tensor Inputs(WindowedExamples examples, Device device)
    {
        if (examples.Count == 0)
            throw new ArgumentException("There are no training windows: the text is shorter than one window.");
        return DeviceTensor.From(() => tensor(examples.Inputs, [examples.Count, examples.InputLength]), device);
    }

    public int Count { get; }

    public int BatchesPerEpoch(int epoch) => (Count + _batchSize - 1) / _batchSize;

    public Batch Get(int epoch, int index)
    {
        long start = (long)index * _batchSize;
        long length = Math.Min(_batchSize, Count - start);
        if (!_shuffle) return new Batch(_x.narrow(0, start, length), _y.narrow(0, start, length));
        var rows = Permutation(epoch).narrow(0, start, length);
        return new Batch(_x.index_select(0, rows), _y.index_select(0, rows));
    }

    private Tensor Permutation(int epoch)
    {
        if (_permutationEpoch != epoch || _permutation is null)
        {
            _permutation?.Dispose();
            using var generator = new Generator((ulong)SeedFor(_seed, epoch));
            _permutation = DeviceTensor.From(() => randperm(Count, generator: generator), _x.device);
            _permutationEpoch = epoch;
        }
        return _permutation;
    }

    internal static long SeedFor(long seed, int epoch) => unchecked(seed * 1_000_003 + epoch * 7919 + 17) & long.MaxValue;

    public void Dispose()
    {
        _x.Dispose();
        _y.Dispose();
        _permutation?.Dispose();
    }
}
