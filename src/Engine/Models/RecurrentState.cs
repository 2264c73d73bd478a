using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Models;

/// <summary>
/// What a model carries from one character to the next, for a batch of independent rows:
/// hidden tensors for the recurrent models ([layers, batch, hidden]; two of them for an LSTM),
/// or the last few character ids for the windowed ones ([batch, context]). Rows can be split
/// off and joined, so sessions can enter and leave a batched generation step.
/// </summary>
public sealed class RecurrentState : IDisposable
{
    public RecurrentState(Tensor[] parts, int batchDim)
    {
        if (parts.Length == 0) throw new ArgumentException("A state has at least one tensor.", nameof(parts));
        Parts = parts;
        BatchDim = batchDim;
    }

    public Tensor[] Parts { get; }
    /// <summary>The dimension that indexes rows (batch entries) in every part.</summary>
    public int BatchDim { get; }
    public long BatchSize => Parts[0].shape[BatchDim];

    /// <summary>The same values, cut from the autograd graph (truncated back-propagation through time).</summary>
    public RecurrentState Detach() => Map(p => p.detach());

    public RecurrentState Clone() => Map(p => p.clone());

    /// <summary>Rows [start, start + length) as views.</summary>
    public RecurrentState Rows(long start, long length) => Map(p => p.narrow(BatchDim, start, length));

    /// <summary>The same values laid out contiguously (a copy only where a part is a strided view, as <see cref="Rows"/> can give).</summary>
    public RecurrentState Contiguous() => Map(p => p.contiguous());

    /// <summary>Stacks the rows of several states (same model) into one batch.</summary>
    public static RecurrentState Concat(IReadOnlyList<RecurrentState> states)
    {
        if (states.Count == 1) return states[0].Map(p => p.alias());
        var first = states[0];
        var parts = new Tensor[first.Parts.Length];
        for (int i = 0; i < parts.Length; i++)
            parts[i] = cat(states.Select(s => s.Parts[i]).ToArray(), first.BatchDim);
        return new RecurrentState(parts, first.BatchDim);
    }

    /// <summary>Takes the tensors out of every dispose scope: the caller disposes the state.</summary>
    public RecurrentState DetachFromDisposeScope()
    {
        foreach (var p in Parts) p.DetachFromDisposeScope();
        return this;
    }

    public void Dispose()
    {
        foreach (var p in Parts) p.Dispose();
    }

    private RecurrentState Map(Func<Tensor, Tensor> f) => new(Parts.Select(f).ToArray(), BatchDim);
}
