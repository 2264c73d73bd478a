using TorchSharp;
using static CharRnn.Engine.Models.HyperParameterType;

namespace CharRnn.Engine.Models;

/// <summary>
/// Every architecture of the lesson, by name. Defaults follow the lesson, the learning rate too: the rate it first
/// trains each at (1e-2 for Char3Model, CharLoopModel and the LSTM; 1e-3 for the others).
/// </summary>
public static class Architectures
{
    private static HyperParameterSpec NFac => new("n_fac", Int, 42, 1, 1024, "Embedding size: factors learned per character.");
    private static HyperParameterSpec NHidden(double d) => new("n_hidden", Int, d, 1, 4096, "Hidden state size.");
    private static HyperParameterSpec Context(double d) => new("context", Int, d, 2, 256, "Window length: characters the model reads before each prediction (the lesson's cs).");
    private static HyperParameterSpec Bs(double d) => new("bs", Int, d, 1, 8192, "Batch size: windows (or parallel text streams) per step.");
    private static HyperParameterSpec Bptt => new("bptt", Int, 8, 1, 2048, "Back-propagation through time: characters per batch per stream.");
    private static HyperParameterSpec RandomBptt => new("random_bptt", Bool, 1, 0, 1,
        "Vary the sequence length per batch as fastai's LanguageModelLoader does (bptt/2 5% of the time, then ±N(0, 5)).");
    // char-rnn's -num_layers and -dropout. The RNN and GRU default to the lesson's one layer and no dropout.
    private static HyperParameterSpec Layers(double d) => new("layers", Int, d, 1, 8, "Stacked recurrent layers.");
    private static HyperParameterSpec Dropout(double d) => new("dropout", Float, d, 0, 0.95, "Dropout between layers and on the output.");

    private static readonly Architecture[] All_ =
    [
        new("char3", "Three chars in, the fourth out; the recurrence unrolled by hand.", DataLayout.NextCharWindows,
            [NFac, NHidden(256), Bs(512)], 1e-2, 0,
            (h, v, _) => new Char3Model(v, h.Int("n_fac"), h.Int("n_hidden")), fixedWindowLength: 3) { WindowStride = 3 },
        new("loop", "Loop RNN over n chars; each input added to the hidden state.", DataLayout.NextCharWindows,
            [NFac, NHidden(256), Context(8), Bs(512)], 1e-2, 0,
            (h, v, _) => new LoopRnn(v, h.Int("n_fac"), h.Int("n_hidden"), h.Int("context"))),
        new("loop-concat", "Loop RNN over n chars; each input concatenated to the hidden state.", DataLayout.NextCharWindows,
            [NFac, NHidden(256), Context(8), Bs(512)], 1e-3, 0,
            (h, v, _) => new LoopConcatRnn(v, h.Int("n_fac"), h.Int("n_hidden"), h.Int("context"))) { InputReadsHidden = true },
        new("rnn", "nn.RNN over n chars, predicting from its last output.", DataLayout.NextCharWindows,
            [NFac, NHidden(256), Context(8), Bs(512)], 1e-3, 0,
            (h, v, _) => new TorchRnn(v, h.Int("n_fac"), h.Int("n_hidden"), h.Int("context"))),
        new("seq-rnn", "nn.RNN predicting the next char at every position (multi-output).", DataLayout.SequenceWindows,
            [NFac, NHidden(256), Context(8), Bs(512),
             new("identity_init", Bool, 0, 0, 1, "Start the hidden-to-hidden weights at the identity matrix.")], 1e-3, 0,
            (h, v, _) => new SeqRnn(v, h.Int("n_fac"), h.Int("n_hidden"), h.Int("context"), h.Bool("identity_init"))),
        new("stateful-rnn", "nn.RNN over the text stream; hidden state kept between batches (truncated BPTT).", DataLayout.Stream,
            [NFac, NHidden(256), Layers(1), Dropout(0), Bs(64), Bptt, RandomBptt], 1e-3, 0,
            (h, v, target) => new StatefulRnn(v, h.Int("n_fac"), h.Int("n_hidden"), h.Int("layers"), h.Float("dropout"), layersInOneCall: target == DeviceType.CUDA)),
        new("stateful-rnn-cell", "Stateful RNN with the recurrence written by hand from an RNN cell.", DataLayout.Stream,
            [NFac, NHidden(256), Bs(64), Bptt, RandomBptt], 1e-3, 0,
            (h, v, _) => new StatefulRnnCell(v, h.Int("n_fac"), h.Int("n_hidden"))),
        new("stateful-gru", "nn.GRU over the text stream.", DataLayout.Stream,
            [NFac, NHidden(256), Layers(1), Dropout(0), Bs(64), Bptt, RandomBptt], 1e-3, 0,
            (h, v, target) => new StatefulGru(v, h.Int("n_fac"), h.Int("n_hidden"), h.Int("layers"), h.Float("dropout"), layersInOneCall: target == DeviceType.CUDA)) { RecurrentGates = 3 },
        new("stateful-gru-cell", "Stateful GRU from a hand-written cell that computes what nn.GRU does.", DataLayout.Stream,
            [NFac, NHidden(256), Bs(64), Bptt, RandomBptt], 1e-3, 0,
            (h, v, _) => new StatefulGruCell(v, h.Int("n_fac"), h.Int("n_hidden"))) { RecurrentGates = 3 },
        new("stateful-lstm", "nn.LSTM with n layers and dropout; the best model of the lesson (trained with SGDR).", DataLayout.Stream,
            [NFac, NHidden(512), Layers(2), Dropout(0.5), Bs(64), Bptt, RandomBptt], 1e-2, 1e-5,
            (h, v, target) => new StatefulLstm(v, h.Int("n_fac"), h.Int("n_hidden"), h.Int("layers"), h.Float("dropout"), layersInOneCall: target == DeviceType.CUDA))
            { RecurrentGates = 4 },
    ];

    public static IReadOnlyList<Architecture> All => All_;

    public static Architecture Get(string name) =>
        All_.FirstOrDefault(a => a.Name == name)
        ?? throw new ArgumentException($"Unknown architecture '{Text.Echo.Of(name)}'. Known: {string.Join(", ", All_.Select(a => a.Name))}.{Text.LessonNames.ArchitectureHint(name, All_.Select(a => a.Name))}");
}
