using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Models;

/// <summary>
/// A character-level language model. Training calls <see cref="Forward"/> on batches in the
/// architecture's <see cref="Architecture.Layout"/>; generation calls <see cref="Step"/> once per character,
/// for a batch of independent rows, carrying a <see cref="RecurrentState"/>.
/// Logits are raw scores (the lesson's log_softmax is folded into the cross-entropy loss).
/// </summary>
public abstract class CharModel : nn.Module
{
    protected CharModel(string name, int vocabSize) : base(name)
    {
        VocabSize = vocabSize;
    }

    public int VocabSize { get; }

    /// <summary>
    /// Training and evaluation. Windowed layouts: x [batch, n] → logits [batch, V] or [batch, n, V],
    /// state ignored. Stream layout: x [T, batch] → logits [T, batch, V] and the state after step T.
    /// </summary>
    public abstract (Tensor Logits, RecurrentState? State) Forward(Tensor x, RecurrentState? state);

    /// <summary>The state of rows that have seen no text yet.</summary>
    public abstract RecurrentState InitialState(long batchSize);

    /// <summary>Consumes one char per row (ids [batch]); returns next-char logits [batch, V] and the new state.</summary>
    public abstract (Tensor Logits, RecurrentState State) Step(Tensor ids, RecurrentState state);

    /// <summary>
    /// Consumes a run of chars (ids [T, batch]); returns the logits after each one ([T, batch, V]: the last
    /// is the next char's, the others what scoring a fed text needs) and the new state.
    /// </summary>
    public virtual (Tensor Logits, RecurrentState State) FeedEach(Tensor ids, RecurrentState state)
    {
        if (ids.shape[0] == 0) throw new ArgumentException("Feed needs at least one character.", nameof(ids));
        var each = new List<Tensor>();
        var current = state;
        for (long t = 0; t < ids.shape[0]; t++)
        {
            (var logits, current) = Step(ids[t], current);
            each.Add(logits);
        }
        return (stack(each), current);
    }

    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>
    /// Readies a model whose weights will not change again (one loaded to generate) for fast
    /// generation steps; what it prepares holds the weights' values now. A model that is put back
    /// in training mode, or loads other weights, drops it. <paramref name="precision"/> bf16 is
    /// taken by a model with a bf16 path (the stateful LSTM, <see cref="GenerationPrecision"/> says
    /// whether it did); the others generate in float32. Where bf16 is not offered on the model's
    /// device (<see cref="GenerationPrecisions.WhyUnavailable"/>) a model with that path refuses it.
    /// </summary>
    public virtual void PrepareForGeneration(GenerationPrecision precision = GenerationPrecision.Float32) { }

    /// <summary>The precision generation steps compute in now (float32 unless bf16 was prepared and still holds).</summary>
    public virtual GenerationPrecision GenerationPrecision => GenerationPrecision.Float32;

    /// <summary>
    /// Frees what generation steps cached for speed and make again when needed (an LSTM's packed
    /// copies of its weights), for a model that waits unused while loaded.
    /// </summary>
    public virtual void FreeGenerationCaches() { }

    /// <summary>Drops what <see cref="PrepareForGeneration"/> made.</summary>
    protected virtual void ReleaseGenerationWeights() { }

    /// <summary>Weights were written in place (a checkpoint's, by copy): what was prepared from the old ones goes.</summary>
    public void WeightsChanged() => ReleaseGenerationWeights();

    public override void train(bool on = true)
    {
        if (on) ReleaseGenerationWeights();
        base.train(on);
    }

    public override (IList<string> missing_keys, IList<string> unexpected_keyes) load_state_dict(Dictionary<string, Tensor> source, bool strict = true, IList<string>? skip = null)
    {
        ReleaseGenerationWeights();
        return base.load_state_dict(source, strict, skip);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) ReleaseGenerationWeights();
        base.Dispose(disposing);
    }

    protected Device ParameterDevice => parameters().First().device;
}
