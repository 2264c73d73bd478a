using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Text;
using static TorchSharp.torch;

namespace CharRnn.Engine.Sampling;

/// <summary>
/// One stream of text from a model: the hidden state after everything fed or generated so far,
/// the model's distribution for the next char, and the session's own random generator.
/// Each char costs one model step (O(1), not a re-run over a window of the text).
/// The session owns its state tensors; they live on the model's device. Not thread-safe:
/// one owner (the CLI, or the server's device loop) drives it.
/// </summary>
public sealed class GenerationSession : IDisposable
{
    private RecurrentState? _state; // the session's own tensors, or null while its state is a row of _shared
    private SharedBatchState? _shared;
    private int _row;
    private float[] _nextLogits;
    private SplitMix64 _rng;
    private float _maskedPadding = float.NegativeInfinity, _maskedUnknown = float.NegativeInfinity; // what Sampleable hid: a fed text is scored by the model's own scores

    public GenerationSession(CharModel model, Vocabulary vocabulary, SamplingSettings settings)
    {
        Model = model;
        Vocabulary = vocabulary;
        Settings = settings.Validate();
        _rng = new SplitMix64(settings.Seed);
        using (no_grad()) _state = StartState().DetachFromDisposeScope();
        _nextLogits = Sampleable(UnigramLogits(vocabulary));
    }

    private GenerationSession(GenerationSession source)
    {
        Model = source.Model;
        Vocabulary = source.Vocabulary;
        Settings = source.Settings;
        _rng = source._rng;
        _state = source.State.Clone().DetachFromDisposeScope();
        _nextLogits = (float[])source._nextLogits.Clone();
        (_maskedPadding, _maskedUnknown) = (source._maskedPadding, source._maskedUnknown);
        CharactersSeen = source.CharactersSeen;
    }

    public CharModel Model { get; }
    public Vocabulary Vocabulary { get; }
    public SamplingSettings Settings { get; private set; }
    /// <summary>Characters fed or generated since the start or the last reset.</summary>
    public long CharactersSeen { get; private set; }
    internal RecurrentState State => _state ??= TakeRow();
    /// <summary>The batch this session's state is row <see cref="Row"/> of, after a batched step; null when it has its own.</summary>
    internal SharedBatchState? Shared => _shared;
    internal int Row => _row;
    internal Device Device => (_state ?? _shared!.Batch).Parts[0].device;
    /// <summary>The model's raw scores for the next char (what a step would sample from).</summary>
    public ReadOnlySpan<float> NextLogits => _nextLogits;

    /// <summary>New settings; a new seed, or <paramref name="restartRandom"/>, restarts the random sequence from the seed.</summary>
    public void Configure(SamplingSettings settings, bool restartRandom = false)
    {
        var reseed = restartRandom || settings.Seed != Settings.Seed;
        Settings = settings.Validate();
        if (reseed) _rng = new SplitMix64(settings.Seed);
    }

    /// <summary>
    /// Advances the state over <paramref name="text"/> without sampling (priming, or typed text), and scores
    /// how well the model predicted it: each char from the distribution before it, the first from the pending
    /// one (<see cref="NextLogits"/> before the masking of padding and the unknown symbol: after text, the
    /// model's prediction; in a new or reset session, the corpus's character frequencies, which a
    /// generation's first char is drawn from, the unknown symbol's count floored at 1 (see <see cref="UnigramLogits"/>)). The rest is gathered on the device and read back with the
    /// last logits, in the one copy feeding already made. With <paramref name="perChar"/> the score also holds each
    /// char's own (<see cref="TextScore.Chars"/>): the values the sum is of, copied back in that same copy.
    /// </summary>
    public TextScore Feed(string text, bool perChar = false)
    {
        if (text.Length == 0) return perChar ? new TextScore(0, 0, 0, []) : default;
        var ids = Vocabulary.Encode(text);
        if (ids.Length == 0) return perChar ? new TextScore(0, 0, 0, []) : default;
        var first = ScorePending(ids[0]);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(ids.Select(i => (long)i).ToArray(), [ids.Length, 1]).to(Device);
        var (each, next) = Model.FeedEach(input, State);
        var logits = each.reshape(ids.Length, -1);
        var last = logits[ids.Length - 1];
        var host = HostCopy.Floats(ids.Length == 1 ? last : cat([last, ScoreOnDevice(logits, input, perChar)]));
        var vocab = (int)last.shape[0];
        Accept(host.AsSpan(0, vocab).ToArray(), next);
        CharactersSeen += ids.Length;
        var rest = ids.Length == 1 ? new TextScore(0, 0, 0) : new TextScore(host[vocab], ids.Length - 1, (long)host[vocab + 1]);
        if (!perChar) return first + rest;
        // Chars as the model read them (lowercased as Encode does), one per id.
        var chars = Vocabulary.Normalize(text).EnumerateRunes().Select(r => r.ToString()).ToArray();
        var scores = new CharScore[ids.Length];
        scores[0] = new CharScore(0, chars[0], first.LossSum, first.Correct == 1);
        for (var i = 1; i < ids.Length; i++)
            scores[i] = new CharScore(i, chars[i], host[vocab + 1 + i], host[vocab + ids.Length + i] > 0.5f);
        return (first + rest) with { Chars = scores };
    }

    /// <summary>
    /// The summed negative log-likelihood of chars 2..T from the logits after chars 1..T-1, and how many
    /// were the argmax: two values, left on the device for the caller's one copy. With <paramref name="perChar"/>,
    /// then each char's loss and whether it was the argmax (1 or 0), T-1 values each.
    /// </summary>
    private static Tensor ScoreOnDevice(Tensor logits, Tensor input, bool perChar)
    {
        var predicting = logits.narrow(0, 0, logits.shape[0] - 1);
        var targets = input.reshape(-1).narrow(0, 1, logits.shape[0] - 1);
        var losses = nn.functional.cross_entropy(predicting, targets, reduction: nn.Reduction.None);
        var hits = predicting.argmax(1).eq(targets).to(losses.dtype);
        var totals = stack([losses.sum(), hits.sum()]);
        return perChar ? cat([totals, losses, hits]) : totals;
    }

    /// <summary>The first fed char's score, from the pending distribution (host side, in double precision).</summary>
    private TextScore ScorePending(int id)
    {
        var raw = (float[])_nextLogits.Clone();
        raw[0] = _maskedPadding;
        if (Vocabulary.HasUnknown) raw[1] = _maskedUnknown;
        var max = raw.Where(float.IsFinite).DefaultIfEmpty(0f).Max();
        var logSum = max + Math.Log(raw.Sum(v => Math.Exp(v - max)));
        var best = Array.IndexOf(raw, raw.Max());
        return new TextScore(logSum - raw[id], 1, best == id ? 1 : 0);
    }

    /// <summary>Generates up to <paramref name="count"/> chars, one model step each, yielding each as it is sampled.</summary>
    public IEnumerable<GeneratedChar> Generate(int count, int alternatives = 0)
    {
        for (int i = 0; i < count; i++)
            yield return GenerationStep.Advance([this], alternatives)[0];
    }

    /// <summary>A new session continuing from exactly this one's state and random sequence.</summary>
    public GenerationSession Fork() => new(this);

    /// <summary>Back to the state of a new session (the seed's random sequence restarts too).</summary>
    public void Reset()
    {
        ReleaseState();
        using (no_grad()) _state = StartState().DetachFromDisposeScope();
        _nextLogits = Sampleable(UnigramLogits(Vocabulary));
        _rng = new SplitMix64(Settings.Seed);
        CharactersSeen = 0;
    }

    /// <summary>
    /// The state before any text. A windowed model's window starts as spaces, not padding: it never
    /// saw padding in training, and a prime a person types starts a word, which a space before it
    /// says. On Nietzsche (bench/README), after a one-char prime at a word's start the next char
    /// costs 2.1 nats instead of 3.7-4.6, after three chars 1.6 instead of 3.0; a prime from a
    /// random position (mostly mid-word) does worse, 4.5-4.9 instead of 3.7-3.8 after one char,
    /// and alike from three on. Without a space in the vocabulary: a newline, then padding.
    /// </summary>
    private RecurrentState StartState()
    {
        if (Model is not WindowedCharModel windowed) return Model.InitialState(1);
        var filler = new[] { ' ', '\n' }.Where(c => Vocabulary.Contains(new System.Text.Rune(c))).Select(c => Vocabulary.Encode(c.ToString())[0]).FirstOrDefault();
        return windowed.StartWindow(1, filler);
    }

    /// <summary>Draws the next char from the pending distribution (host only; the state is not advanced).</summary>
    internal GeneratedChar Pick(int alternatives)
    {
        var id = CharSampler.SampleId(_nextLogits, Settings, ref _rng);
        var top = alternatives > 0
            ? CharSampler.Top(_nextLogits, alternatives).Select(t => (Vocabulary[t.Id], t.Probability)).ToArray()
            : null;
        return new GeneratedChar(Vocabulary[id], id, _nextLogits, top);
    }

    /// <summary>Takes the result of a model step: next-char logits (length V) and this row's new state.</summary>
    internal void Accept(float[] logits, RecurrentState state)
    {
        _nextLogits = Sampleable(logits);
        var own = state.DetachFromDisposeScope();
        ReleaseState();
        _state = own;
    }

    /// <summary>Takes the result of a batched step: this row's logits, and row <paramref name="row"/> of the step's new state.</summary>
    internal void Accept(float[] logits, SharedBatchState shared, int row)
    {
        _nextLogits = Sampleable(logits);
        ReleaseState();
        _shared = shared;
        _row = row;
        CharactersSeen++;
    }

    /// <summary>
    /// This session's row as a state of its own: a copy (a row's state is small), not a view, which
    /// would keep the whole batch's memory alive for as long as the session lives.
    /// </summary>
    private RecurrentState TakeRow()
    {
        using var view = _shared!.Batch.Rows(_row, 1);
        var own = view.Clone().DetachFromDisposeScope();
        _shared.Release();
        _shared = null;
        return own;
    }

    /// <summary>
    /// Takes this session's row out of a batched step's state, so that a session that stops
    /// generating (and may sit idle for minutes) no longer holds the batch in memory. Cheap when
    /// it has no shared row.
    /// </summary>
    public void LeaveBatch()
    {
        if (_state == null && _shared != null) _state = TakeRow();
    }

    private void ReleaseState()
    {
        _state?.Dispose();
        _state = null;
        _shared?.Release();
        _shared = null;
    }

    /// <summary>
    /// The padding symbol is never generated: it is not a character, and a high temperature could
    /// otherwise draw it (its score is merely low) and feed it back through an untrained embedding row.
    /// Nor is the unknown symbol (min_freq above 1): it stands for characters dropped as rare, and
    /// drawn it would print as '�' in the text (seen at temperature 3).
    /// </summary>
    private float[] Sampleable(float[] logits)
    {
        (_maskedPadding, _maskedUnknown) = (logits[0], Vocabulary.HasUnknown ? logits[1] : float.NegativeInfinity);
        logits[0] = float.NegativeInfinity;
        if (Vocabulary.HasUnknown) logits[1] = float.NegativeInfinity;
        return logits;
    }

    /// <summary>
    /// Before any text: the corpus's character frequencies (padding excluded). The unknown symbol's count is
    /// floored at 1 (add-one): with min_freq above 1 on a corpus with no rare char it is 0, and a fed text
    /// starting with an unknown char would score infinite. Only the score sees it: <see cref="Sampleable"/>
    /// masks the unknown symbol, so what is generated is drawn from the corpus's frequencies alone.
    /// </summary>
    private static float[] UnigramLogits(Vocabulary vocabulary)
    {
        var logits = new float[vocabulary.Size];
        var counts = vocabulary.Counts.ToArray();
        if (vocabulary.HasUnknown) counts[1] = Math.Max(counts[1], 1);
        long total = counts.Sum();
        for (int i = 0; i < logits.Length; i++)
            logits[i] = i == 0 || (total > 0 && counts[i] == 0)
                ? float.NegativeInfinity
                : total > 0 ? MathF.Log(counts[i]) : 0f;
        return logits;
    }

    public void Dispose() => ReleaseState();
}
