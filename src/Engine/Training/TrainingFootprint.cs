using CharRnn.Engine.Models;

namespace CharRnn.Engine.Training;

/// <summary>
/// About how much memory training a model takes, from its hyperparameters alone, before anything
/// is allocated: a server checks a job against its limit with it, so that one request at every
/// cap (n_hidden 2048, 4 layers, bs 1024, bptt 512: hundreds of GB) is refused, not run into the
/// host's OOM killer. Meant as an upper estimate, not an exact figure:
/// <list type="bullet">
/// <item>parameters: weights, gradients and Adam's two moments, 16 bytes each;</item>
/// <item>activations autograd keeps for the backward pass: per character position of a batch
/// (bs × bptt, or bs × the window) and layer, 4 floats per gate unit and 10 per hidden unit, and
/// per prediction 4 per vocabulary entry for the logits, their softmax and gradients;</item>
/// <item>the encoded corpus, host and device copies (a model of overlapping windows stores every window).</item>
/// </list>
/// Measured on this project's CPU machine (peak RSS of `charrnn train` less the ~200 MB runtime,
/// 2026-12-04): per position and layer the LSTM took 15–22 floats per hidden unit (estimate 26),
/// the GRU 14 (22), the RNN 6 (14), the loop RNN 11.6 (14); whole peaks were 37–79% of the
/// estimate (LSTM 512–1024 × 2–4, GRU and RNN 1024, loop 2048; bs 64–512, bptt 64–128).
/// </summary>
public static class TrainingFootprint
{
    /// <summary>The sizes the estimate reads, as a message that refuses a model should name them (each where the model has it).</summary>
    public static readonly IReadOnlyList<string> SizesRead = ["n_hidden", "layers", "n_fac", "bs", "bptt", "context"];

    /// <summary>Longest a random bptt draws beyond bptt, in practice (fastai's ±N(0, 5) around bptt, five sigmas).</summary>
    private const int RandomBpttReach = 25;

    public static long Bytes(Architecture architecture, HyperParameters hp, int vocabulary, int characters)
    {
        double parameters = Parameters(architecture, hp, vocabulary);
        var (gates, layers, hidden) = Shape(architecture, hp);
        double bs = hp.Int("bs");
        double positions = bs * (architecture.Layout == DataLayout.Stream
            ? hp.Int("bptt") + (hp.Bool("random_bptt") ? RandomBpttReach : 0)
            : architecture.WindowLength(hp));
        // A next-char window predicts once, at its end; the others at every position.
        double predicted = architecture.Layout == DataLayout.NextCharWindows ? bs : positions;
        double activations = positions * (layers * (4.0 * gates * hidden + 10.0 * hidden) + hp.Int("n_fac")) + predicted * 4.0 * vocabulary;
        // A stored id: an int on the host and a long on the device for a stream; windows are built as longs, split
        // into copies and copied again into a tensor, ~24 bytes an id at their peak.
        double bytesPerId = architecture.Layout == DataLayout.Stream ? 12 : 24;
        return (long)Math.Min(long.MaxValue, 16 * parameters + 4 * activations + bytesPerId * IdsStored(architecture, hp, characters));
    }

    /// <summary>
    /// Ids the batches hold: the text once for a stream; inputs and targets, each the text once, for
    /// windows side by side (seq-rnn); a window and its target per window where windows overlap
    /// (one per char; char3's per 3 chars).
    /// </summary>
    private static double IdsStored(Architecture architecture, HyperParameters hp, int characters)
    {
        if (architecture.Layout == DataLayout.Stream) return characters;
        if (architecture.Layout == DataLayout.SequenceWindows) return 2.0 * characters;
        int n = architecture.WindowLength(hp), stride = architecture.WindowStride;
        return Math.Max(0.0, (double)(characters - n + stride - 1) / stride) * (n + 1);
    }

    /// <summary>The parameters a model of these sizes has, near enough (embedding, recurrent layers with biases, output layer).</summary>
    public static double Parameters(Architecture architecture, HyperParameters hp, int vocabulary)
    {
        var (gates, layers, hidden) = Shape(architecture, hp);
        int factors = hp.Int("n_fac");
        double recurrent = 0;
        for (int layer = 0; layer < layers; layer++)
            recurrent += (double)gates * hidden * ((layer == 0 ? factors : hidden) + hidden + 2);
        if (architecture.InputReadsHidden) recurrent += (double)hidden * (hidden + 1); // its input layer also reads the hidden state
        return (double)vocabulary * factors + recurrent + (double)hidden * vocabulary + vocabulary;
    }

    private static (int Gates, int Layers, int Hidden) Shape(Architecture architecture, HyperParameters hp)
    {
        var gates = architecture.RecurrentGates;
        var layers = hp.Values.ContainsKey("layers") ? hp.Int("layers") : 1;
        return (gates, layers, hp.Int("n_hidden"));
    }

    /// <summary>A size as the messages that give an estimate put it: GB, or MB under one.</summary>
    public static string Format(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.#} GB" : $"{bytes / (double)(1 << 20):0} MB";
}
