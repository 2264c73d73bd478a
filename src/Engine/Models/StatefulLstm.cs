using CharRnn.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Engine.Models;

/// <summary>
/// The lesson's CharSeqStatefulLSTM: an n-layer LSTM with dropout between its layers, and a linear
/// layer to the vocabulary; unlike the lesson's, with the same dropout on the LSTM's output too
/// (kept: every figure measured here, and every checkpoint trained, has it). State: (h, c).
/// </summary>
/// <remarks>
/// Two layouts of the same weights, chosen for the device the model is built for. On the CPU the
/// layers are one-layer nn.LSTMs, so that the dropout between them is <see cref="UniformMaskDropout"/>:
/// nn.LSTM's own draws its mask with bernoulli_, which libtorch runs serially on non-Intel CPUs
/// (26 ms of a ~330 ms step at bs 64, bptt 64; the split step measured 4–10% faster). On CUDA
/// one n-layer nn.LSTM, so that cuDNN runs the layers, and the dropout between them, in one call
/// (it can overlap one layer's step with the next layer's). Both compute the same function, and
/// <see cref="state_dict"/> gives both nn.LSTM's multi-layer names (rnn.weight_ih_l1, ...): a
/// checkpoint loads into either.
/// </remarks>
public sealed class StatefulLstm : StatefulCharModel
{
    private readonly Embedding e;
    private readonly LSTM? _allLayers;          // one n-layer nn.LSTM (layersInOneCall)
    private readonly ModuleList<LSTM>? _layers; // one-layer nn.LSTMs
    private readonly UniformMaskDropout drop;
    private readonly Linear l_out;

    /// <param name="layersInOneCall">One n-layer nn.LSTM (for CUDA) rather than n one-layer ones (for the CPU).</param>
    public StatefulLstm(int vocabSize, int nFac, int nHidden, int layers, double dropout, bool layersInOneCall = false)
        : base("stateful-lstm", vocabSize, nHidden, layers, stateParts: 2)
    {
        e = Embedding(vocabSize, nFac);
        drop = new UniformMaskDropout(dropout);
        l_out = Linear(nHidden, vocabSize);
        register_module("e", e);
        if (layersInOneCall)
        {
            // nn.LSTM's dropout acts between layers only; with one layer it would just warn.
            _allLayers = LSTM(nFac, nHidden, layers, dropout: layers > 1 ? dropout : 0.0);
            register_module("rnn", _allLayers);
        }
        else
        {
            _layers = new ModuleList<LSTM>(Enumerable.Range(0, layers).Select(l => LSTM(l == 0 ? nFac : nHidden, nHidden)).ToArray());
            register_module("rnn", _layers);
        }
        register_module("drop", drop);
        register_module("l_out", l_out);
    }

    /// <summary>
    /// The weights under nn.LSTM's multi-layer names: rnn.{k}.weight_ih_l0 is saved as
    /// rnn.weight_ih_l{k}. TorchSharp's load_state_dict matches against this, so it takes these names too.
    /// </summary>
    public override Dictionary<string, Tensor> state_dict(Dictionary<string, Tensor>? destination = null, string? prefix = null) =>
        MultiLayerNames.Rename(base.state_dict(null, prefix), destination);

    private (Tensor WeightIh, Tensor WeightHh, Tensor BiasIh, Tensor BiasHh)[]? _layerWeights;
    private (IntPtr Data, ScalarType Type, DeviceType Device, int Index) _layerWeightsKey; // the embedding's weight when they were fetched

    /// <summary>
    /// Each layer's weights, fetched once (state_dict costs ~33 µs, a tenth of a packed one-session
    /// step) and again whenever the module's parameters were replaced: moving it to another device
    /// or type allocates new ones. The embedding weight's storage, type and device stand for all
    /// of them. (TorchSharp gives a new Tensor object, and a new native handle, on each read of a
    /// module's weight, and its Devices compare by reference: this used to fetch on every step.)
    /// </summary>
    private (Tensor WeightIh, Tensor WeightHh, Tensor BiasIh, Tensor BiasHh)[] LayerWeights()
    {
        using var current = e.weight!;
        var key = (TensorMemory.DataPointer(current), current.dtype, current.device_type, current.device_index);
        if (_layerWeights == null || key != _layerWeightsKey)
        {
            var weights = state_dict();
            Tensor Weight(string name) => weights[name].DetachFromDisposeScope();
            _layerWeights = Enumerable.Range(0, Layers)
                .Select(l => (Weight($"rnn.weight_ih_l{l}"), Weight($"rnn.weight_hh_l{l}"), Weight($"rnn.bias_ih_l{l}"), Weight($"rnn.bias_hh_l{l}")))
                .ToArray();
            _layerWeightsKey = key;
        }
        return _layerWeights;
    }

    protected override (Tensor Logits, RecurrentState State) Run(Tensor x, RecurrentState state)
    {
        var input = e.forward(x);
        var (output, h, c) = ComputedHere(input) || (!is_grad_enabled() && GenerationPrecision == GenerationPrecision.BFloat16) // bf16: primes too, on any device
            ? RecurHere(input, state) : RunLayers(input, state);
        return (l_out.forward(drop.forward(output)), new RecurrentState([h, c], batchDim: 1));
    }

    /// <summary>The recurrence computed here: with packed weights where they serve, else feature-major.</summary>
    private (Tensor Output, Tensor H, Tensor C) RecurHere(Tensor input, RecurrentState state)
    {
        var weights = LayerWeights(); // once a step: each read of a module's weight costs a native handle
        return PackedFor(input, weights) is { } packed ? RecurPacked(input, state, weights, packed) : Recur(input, state, weights);
    }

    /// <summary>The layers by nn.LSTM (training runs here): in one call, or one by one with dropout between them.</summary>
    private (Tensor Output, Tensor H, Tensor C) RunLayers(Tensor input, RecurrentState state)
    {
        if (_allLayers != null) return _allLayers.forward(input, (state.Parts[0], state.Parts[1]));
        var hLast = new Tensor[Layers];
        var cLast = new Tensor[Layers];
        var x = input;
        for (int layer = 0; layer < Layers; layer++)
        {
            if (layer > 0) x = drop.forward(x);
            (x, hLast[layer], cLast[layer]) = _layers![layer].forward(x, (state.Parts[0].narrow(0, layer, 1), state.Parts[1].narrow(0, layer, 1)));
        }
        return Layers == 1 ? (x, hLast[0], cLast[0]) : (x, cat(hLast, 0), cat(cLast, 0));
    }

    /// <summary>
    /// Where the recurrence is computed here rather than by nn.LSTM: wherever gradients are off on
    /// the CPU, and for a single time step anywhere. With gradients off nn.LSTM runs oneDNN's
    /// inference primitive, whose AVX-512 kernel (oneDNN 3.7.1 in libtorch 2.10) returns wrong
    /// outputs on this project's AMD EPYC for many hidden sizes (9, 33, 100, 300: off by up to
    /// 0.3; 32, 256, 512 come out right); with gradients on it runs the training primitive, which is
    /// right (tested against float64). A single step is also faster here: nn.LSTM pays a fixed
    /// set-up per call (~1.5 ms for 512×2 on two cores) that dominates one time step.
    /// </summary>
    private static bool ComputedHere(Tensor input) =>
        !is_grad_enabled() && (input.device.type == DeviceType.CPU || input.shape[0] == 1);

    /// <summary>
    /// Batches of at least this many rows step with <see cref="Recur"/> even when packed: what
    /// packing saves is MKL's per-call copy of the weights, a share of the product that shrinks as
    /// rows grow. Whole steps, packed for the rows in use against unpacked (bench `packed`): 256
    /// rows 1.09× (1.01–1.15, four runs), 512 rows 1.01–1.05×, 1024 rows 0.98×. But a new batch
    /// size is packed first, which at 256 rows costs ~8.7 ms a weight (~100 products to earn
    /// back), against 1.3–2.5 ms below 128: a busy server whose large batches change size every
    /// few steps would lose more than it gains, so batches of 128 or more stay unpacked.
    /// </summary>
    private const int PackedBatchesBelow = 128;

    /// <summary>Each layer's recurrent weights and every layer's but the first's input weights, for MKL's packed or bf16 products (<see cref="PrepareForGeneration"/>).</summary>
    private (IWeightProduct? Input, IWeightProduct Recurrent, Tensor Bias)[]? _packed; // Bias: b_ih + b_hh
    private object? _packedFrom; // the LayerWeights() array they were copied from
    private GenerationPrecision _packedPrecision; // what _packed computes in

    /// <summary>
    /// Readies the large weights for MKL's packed products (<see cref="MklPackedWeight"/>), where
    /// the model is on the CPU and MKL offers them: for the lesson's 512 × 2 LSTM ~12 MB of copies
    /// and ~30 MB per packed row count, for generation steps of fewer than
    /// <see cref="PackedBatchesBelow"/> sessions 1.1–1.65× faster (more the fewer the rows; bench/README).
    /// In <see cref="GenerationPrecision.BFloat16"/> the same weights are held as bfloat16 instead
    /// (<see cref="MklBf16Weight"/> on the CPU, <see cref="TorchBf16Weight"/> elsewhere) and serve
    /// every step and prime of every row count, so that a session's text does not depend on how
    /// many others step with it; the first layer's input product (n_fac wide) stays float32.
    /// </summary>
    public override void PrepareForGeneration(GenerationPrecision precision = GenerationPrecision.Float32)
    {
        ReleaseGenerationWeights();
        DeviceType device;
        using (var embedding = e.weight!)
        {
            if (training || embedding.dtype != ScalarType.Float32) return; // training: dropout acts between the layers
            device = embedding.device_type;
        }
        if (GenerationPrecisions.WhyUnavailable(precision, device) is { } why)
            throw new InvalidOperationException($"bf16 generation is not available here: {why}. Use float32.");
        Func<Tensor, IWeightProduct?> make = precision == GenerationPrecision.BFloat16
            ? device == DeviceType.CPU ? MklBf16Weight.TryCreate : TorchBf16Weight.TryCreate
            : MklPackedWeight.TryCreate;
        if (precision == GenerationPrecision.Float32 && (device != DeviceType.CPU || !MklPackedWeight.Available)) return;
        var weights = LayerWeights();
        var packed = new List<(IWeightProduct? Input, IWeightProduct Recurrent, Tensor Bias)>();
        for (int layer = 0; layer < Layers; layer++)
        {
            var (weightIh, weightHh, biasIh, biasHh) = weights[layer];
            var recurrent = make(weightHh);
            var input = layer > 0 ? make(weightIh) : null;
            if (recurrent == null || (layer > 0 && input == null))
            {
                // Not every weight is a float32 matrix as the embedding is: none of them at all.
                recurrent?.Dispose();
                input?.Dispose();
                foreach (var made in packed) { made.Input?.Dispose(); made.Recurrent.Dispose(); made.Bias.Dispose(); }
                if (precision == GenerationPrecision.BFloat16)
                    throw new InvalidOperationException("bf16 generation could not be prepared: MKL's bf16 product did not match torch's float32 product of the rounded weights. Use float32.");
                return;
            }
            using (no_grad()) packed.Add((input, recurrent, biasIh.add(biasHh, HeldScalars.One).DetachFromDisposeScope()));
        }
        _packed = [.. packed];
        _packedFrom = weights;
        _packedPrecision = precision;
    }

    public override GenerationPrecision GenerationPrecision => _packed != null ? _packedPrecision : GenerationPrecision.Float32;

    /// <summary>The packed weights, where they serve this input; dropped if the weights they were made from were replaced (moved to another device or type).</summary>
    private (IWeightProduct? Input, IWeightProduct Recurrent, Tensor Bias)[]? PackedFor(Tensor input, object weights)
    {
        if (_packed == null) return null;
        if (!ReferenceEquals(weights, _packedFrom)) { ReleaseGenerationWeights(); return null; }
        if (input.dtype != ScalarType.Float32) return null;
        if (_packedPrecision == GenerationPrecision.BFloat16) return _packed; // every row count: bf16 is the model's precision now
        return input.device.type == DeviceType.CPU && input.shape[1] < PackedBatchesBelow ? _packed : null;
    }

    /// <summary>True while generation steps use MKL-packed (or, in bf16, bfloat16) weights.</summary>
    public bool PackedForGeneration => _packed != null;

    /// <summary>Packed copies held now, over all weights and row counts (~10 MB each for the lesson's LSTM).</summary>
    public int PackedCopies => _packed?.Sum(l => PackedRows(l.Recurrent) + PackedRows(l.Input)) ?? 0;

    private static int PackedRows(IWeightProduct? weight) => (weight as MklPackedWeight)?.PackedRows.Count ?? 0;

    public override void FreeGenerationCaches()
    {
        foreach (var (input, recurrent, _) in _packed ?? []) { input?.FreeCaches(); recurrent.FreeCaches(); }
    }

    protected override void ReleaseGenerationWeights()
    {
        if (_packed == null) return;
        foreach (var (input, recurrent, bias) in _packed) { input?.Dispose(); recurrent?.Dispose(); bias?.Dispose(); }
        _packed = null;
        _packedFrom = null;
    }

    /// <summary>
    /// <see cref="Recur"/> with packed weights, batch-major (gates [batch, 4·hidden] = x·Wᵀ, which
    /// packed products compute faster than the feature-major layout's W·xᵀ). The first layer's
    /// input product (n_fac wide) stays torch's.
    /// </summary>
    private (Tensor Output, Tensor H, Tensor C) RecurPacked(Tensor input, RecurrentState state,
        (Tensor WeightIh, Tensor WeightHh, Tensor BiasIh, Tensor BiasHh)[] weights, (IWeightProduct? Input, IWeightProduct Recurrent, Tensor Bias)[] packed)
    {
        long steps = input.shape[0], batch = input.shape[1];
        var x = input.reshape(steps * batch, -1); // [T·batch, features], contiguous
        var hLast = new Tensor[Layers];
        var cLast = new Tensor[Layers];
        for (int layer = 0; layer < Layers; layer++)
        {
            var bias = packed[layer].Bias;
            Tensor inputGates; // [T·batch, 4·hidden]
            if (packed[layer].Input is { } packedInput)
            {
                inputGates = bias.repeat(steps * batch, 1); // a copy even of one row (expand().contiguous() of one row is the bias itself, which the product would add into)
                packedInput.MultiplyInto(x.contiguous(), inputGates, accumulate: true);
            }
            else
            {
                using var _ = MklProductThreads.Use();
                inputGates = addmm(bias, x, weights[layer].WeightIh.t(), 1, 1);
            }
            var h = state.Parts[0][layer].contiguous();
            var c = state.Parts[1][layer];
            var outputs = new Tensor[steps];
            for (long t = 0; t < steps; t++)
            {
                var gates = steps == 1 ? inputGates : inputGates.narrow(0, t * batch, batch); // rows of a contiguous tensor: contiguous
                packed[layer].Recurrent.MultiplyInto(h, gates, accumulate: true);
                var chunks = gates.chunk(4, 1);
                c = sigmoid(chunks[1]).mul_(c).add_(sigmoid(chunks[0]).mul_(tanh(chunks[2])), HeldScalars.One);
                h = sigmoid(chunks[3]).mul_(tanh(c)).contiguous();
                outputs[t] = h;
            }
            hLast[layer] = h;
            cLast[layer] = c;
            x = steps == 1 ? h : cat(outputs, 0);
        }
        return (x.reshape(steps, batch, HiddenSize), stack(hLast), stack(cLast));
    }

    /// <summary>
    /// nn.LSTM's equations (gate order i, f, g, o) for input [T, batch, features], feature-major:
    /// gates as [4·hidden, batch] = W·[x; h]ᵀ, which MKL computes ~20% faster than nn.Linear's
    /// h·Wᵀ at 64 and 256 rows (and as fast at one) on this machine. Each layer's input product
    /// covers all T steps at once; then one recurrent product and the gate arithmetic per step.
    /// Gradients are off, so the gate arithmetic works in place. Products run on
    /// <see cref="MklProductThreads"/>, the rest on libtorch's count.
    /// </summary>
    private (Tensor Output, Tensor H, Tensor C) Recur(Tensor input, RecurrentState state, (Tensor WeightIh, Tensor WeightHh, Tensor BiasIh, Tensor BiasHh)[] weights)
    {
        long steps = input.shape[0], batch = input.shape[1];
        var x = input.reshape(steps * batch, -1).t(); // [features, T·batch]
        var hLast = new Tensor[Layers];
        var cLast = new Tensor[Layers];
        for (int layer = 0; layer < Layers; layer++)
        {
            if (layer > 0) x = drop.forward(x);
            var (weightIh, weightHh, biasIh, biasHh) = weights[layer];
            Tensor inputGates; // [4·hidden, T·batch]
            using (MklProductThreads.Use()) inputGates = addmm(biasIh.add(biasHh, HeldScalars.One).unsqueeze(1), weightIh, x, 1, 1);
            var h = state.Parts[0][layer].t();
            var c = state.Parts[1][layer].t();
            var outputs = new Tensor[steps];
            for (long t = 0; t < steps; t++)
            {
                Tensor[] gates;
                using (MklProductThreads.Use())
                    gates = (steps == 1 ? inputGates.addmm_(weightHh, h) : addmm(inputGates.narrow(1, t * batch, batch), weightHh, h, 1, 1)).chunk(4, 0);
                c = sigmoid(gates[1]).mul_(c).add_(sigmoid(gates[0]).mul_(tanh(gates[2])), HeldScalars.One);
                h = sigmoid(gates[3]).mul_(tanh(c));
                outputs[t] = h;
            }
            hLast[layer] = h.t();
            cLast[layer] = c.t();
            x = steps == 1 ? h : cat(outputs, 1);
        }
        return (x.t().reshape(steps, batch, HiddenSize), stack(hLast), stack(cLast));
    }
}
