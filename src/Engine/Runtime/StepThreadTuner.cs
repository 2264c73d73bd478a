using System.Runtime.CompilerServices;

namespace CharRnn.Engine.Runtime;

/// <summary>
/// Picks libtorch's CPU thread count for batched generation steps by timing them. Small steps run
/// faster on one thread than split over two (OpenMP's fork and join cost more than the split
/// saves), large ones faster on all, and where the line falls depends on the model, the batch and
/// the machine: on this project's 2-core machine one LSTM session and 8 or 64 GRU sessions were
/// 1.05–1.4× faster on one thread, 8 or more LSTM sessions and 256 GRU sessions 1.2–1.9× slower.
/// So each kind of step (a model and its batch size, rounded up to a power of two) is measured:
/// its first steps try every candidate in turn, later steps use the fastest, and now and then a
/// short probe re-times another candidate, because the host's speed drifts and not alike for all.
/// One instance belongs to one thread (the device loop); models are held weakly.
/// </summary>
public sealed class StepThreadTuner
{
    /// <summary>Steps a candidate runs in a row when it is tried; the first of them is not timed (it pays the switch).</summary>
    public const int BlockSteps = 4;

    /// <summary>Rounds of trial blocks over all candidates before the first choice.</summary>
    public const int TrialRounds = 2;

    /// <summary>Timings kept per candidate; a candidate's cost is their median.</summary>
    private const int Kept = 12;

    private readonly int[] _candidates;
    private readonly int _probeEvery;
    private readonly ConditionalWeakTable<object, Dictionary<int, StepKind>> _kinds = new();

    /// <param name="candidates">Thread counts to choose from; one candidate turns tuning off.</param>
    /// <param name="probeEvery">Steps on the chosen count between probes of another one.</param>
    public StepThreadTuner(IReadOnlyList<int> candidates, int probeEvery = 256)
    {
        if (candidates.Count == 0 || candidates.Any(c => c < 1))
            throw new ArgumentException("Thread counts to choose from must be one or more positive numbers.", nameof(candidates));
        if (probeEvery < 1) throw new ArgumentOutOfRangeException(nameof(probeEvery), probeEvery, "Probes must come every 1 or more steps.");
        _candidates = candidates.Distinct().Order().ToArray();
        _probeEvery = probeEvery;
    }

    /// <summary>A tuner for steps on <paramref name="device"/>: on a GPU, where libtorch's CPU threads barely matter, it keeps <paramref name="threads"/>.</summary>
    public static StepThreadTuner ForDevice(TorchSharp.DeviceType device, int threads) =>
        new(device == TorchSharp.DeviceType.CPU ? CandidatesUpTo(threads) : [threads]);

    /// <summary>1, 2, 4, … below <paramref name="maxThreads"/>, and <paramref name="maxThreads"/> itself.</summary>
    public static int[] CandidatesUpTo(int maxThreads)
    {
        if (maxThreads < 1) throw new ArgumentOutOfRangeException(nameof(maxThreads), maxThreads, "A thread count must be at least 1.");
        var counts = new List<int>();
        for (int c = 1; c < maxThreads; c *= 2) counts.Add(c);
        counts.Add(maxThreads);
        return counts.ToArray();
    }

    public IReadOnlyList<int> Candidates => _candidates;

    /// <summary>The thread count to run the next step of <paramref name="rows"/> sessions of <paramref name="model"/> with.</summary>
    public int Choose(object model, int rows)
    {
        if (_candidates.Length == 1) return _candidates[0];
        return _candidates[Kind(model, rows).Next()];
    }

    /// <summary>
    /// Records how long a step took that ran with <paramref name="threads"/> (the count
    /// <see cref="Choose"/> gave). Returns the new choice when this step changed it, else null.
    /// </summary>
    public int? Record(object model, int rows, int threads, TimeSpan elapsed)
    {
        if (_candidates.Length == 1) return null;
        int index = Array.IndexOf(_candidates, threads);
        if (index < 0) return null; // a count this tuner does not choose from tells it nothing
        return Kind(model, rows).Record(index, elapsed.TotalSeconds / rows) is { } chosen ? _candidates[chosen] : null;
    }

    /// <summary>The count steps of this kind run with once tried, or null while the first trials last.</summary>
    public int? Chosen(object model, int rows)
    {
        if (_candidates.Length == 1) return _candidates[0];
        var kind = Kind(model, rows);
        return kind.Settled ? _candidates[kind.Best] : null;
    }

    private StepKind Kind(object model, int rows)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "A step has at least one session.");
        var byBucket = _kinds.GetValue(model, _ => []);
        int bucket = 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(rows - 1)); // ⌈log2 rows⌉
        if (!byBucket.TryGetValue(bucket, out var kind)) byBucket[bucket] = kind = new StepKind(_candidates.Length, _probeEvery);
        return kind;
    }

    /// <summary>One model at one batch size: timings per candidate and where the trials stand.</summary>
    private sealed class StepKind(int candidates, int probeEvery)
    {
        private readonly List<double>[] _secondsPerRow = Enumerable.Range(0, candidates).Select(_ => new List<double>()).ToArray();
        private int _trialBlocks;           // blocks run so far in the first trials
        private int _blockCandidate = 0;    // the candidate of the block under way, -1 between blocks
        private int _blockStep;             // steps of that block taken
        private int _sinceProbe;
        private int _nextProbe = 0;         // rotates over the candidates other than the best

        public bool Settled => _trialBlocks >= TrialRounds * candidates;
        public int Best { get; private set; }

        public int Next() => _blockCandidate >= 0 ? _blockCandidate : Best;

        public int? Record(int candidate, double secondsPerRow)
        {
            bool inBlock = _blockCandidate >= 0;
            if (inBlock && candidate == _blockCandidate)
            {
                if (_blockStep > 0) Keep(candidate, secondsPerRow);
                if (++_blockStep < BlockSteps) return null;
                _blockStep = 0;
                bool trialsEnd = false;
                if (!Settled)
                {
                    _trialBlocks++;
                    if (!Settled) { _blockCandidate = _trialBlocks % candidates; return null; }
                    trialsEnd = true;
                }
                _blockCandidate = -1;
                return Decide(trialsEnd);
            }
            if (inBlock) return null; // run with another count than asked: not this block's
            if (candidate == Best) Keep(candidate, secondsPerRow);
            if (++_sinceProbe >= probeEvery)
            {
                _sinceProbe = 0;
                _nextProbe = (_nextProbe + 1) % candidates;
                if (_nextProbe == Best) _nextProbe = (_nextProbe + 1) % candidates;
                _blockCandidate = _nextProbe;
            }
            return null;
        }

        private void Keep(int candidate, double secondsPerRow)
        {
            var kept = _secondsPerRow[candidate];
            if (kept.Count == Kept) kept.RemoveAt(0);
            kept.Add(secondsPerRow);
        }

        /// <summary>The candidate with the lowest median; returns it if that changed the choice, or is the first one.</summary>
        private int? Decide(bool first)
        {
            int best = Best;
            double bestCost = Median(_secondsPerRow[best]);
            for (int c = 0; c < candidates; c++)
            {
                double cost = Median(_secondsPerRow[c]);
                if (cost < bestCost) (best, bestCost) = (c, cost);
            }
            bool changed = best != Best;
            Best = best;
            return changed || first ? best : null;
        }

        private static double Median(List<double> values)
        {
            if (values.Count == 0) return double.PositiveInfinity;
            var sorted = values.Order().ToList();
            int mid = sorted.Count / 2;
            return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }
    }
}
