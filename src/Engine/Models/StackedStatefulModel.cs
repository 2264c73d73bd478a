using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Engine.Models;

/// <summary>
/// nn.RNN or nn.GRU over the text stream, as the lesson's stateful models, and optionally (as
/// char-rnn's -num_layers and -dropout) n stacked layers with dropout between them and on the
/// output. With the defaults (one layer, no dropout) it is the lesson's model, module for module:
/// one nn.RNN/nn.GRU named rnn, no dropout module.
/// </summary>
/// <remarks>
/// Several layers are laid out as <see cref="StatefulLstm"/>'s, for the same reasons: on the CPU
/// one-layer modules with <see cref="UniformMaskDropout"/> between them, whose masks come from the
/// training piece's own seeds (nn.GRU's own dropout draws from libtorch's process-wide generator,
/// which a model loaded on another thread meanwhile draws from too: a resumed run would no longer
/// be exact; and its bernoulli_ is serial on non-Intel CPUs); on CUDA one n-layer module, which
/// cuDNN runs, with its dropout between the layers, in one call. Both save nn's multi-layer names
/// (<see cref="MultiLayerNames"/>): a checkpoint loads into either.
/// </remarks>
public abstract class StackedStatefulModel<TLayer> : StatefulCharModel where TLayer : Module<Tensor, Tensor?, (Tensor, Tensor)>
{
    private readonly Embedding e;
    private readonly TLayer? _allLayers;          // one n-layer module (one layer, or layersInOneCall)
    private readonly ModuleList<TLayer>? _layers; // one-layer modules
    private readonly UniformMaskDropout? drop;    // only where dropout > 0
    private readonly Linear l_out;

    /// <param name="layer">Makes an nn.RNN/nn.GRU: input size, hidden size, layers, dropout between them.</param>
    /// <param name="layersInOneCall">Several layers as one n-layer module (for CUDA) rather than n one-layer ones (for the CPU).</param>
    protected StackedStatefulModel(string name, int vocabSize, int nFac, int nHidden, int layers, double dropout, bool layersInOneCall,
        Func<long, long, long, double, TLayer> layer)
        : base(name, vocabSize, nHidden, layers, stateParts: 1)
    {
        e = Embedding(vocabSize, nFac);
        register_module("e", e);
        if (layers == 1 || layersInOneCall)
        {
            // The module's own dropout acts between layers only; with one layer it would just warn.
            _allLayers = layer(nFac, nHidden, layers, layers > 1 ? dropout : 0.0);
            register_module("rnn", _allLayers);
        }
        else
        {
            _layers = new ModuleList<TLayer>(Enumerable.Range(0, layers).Select(l => layer(l == 0 ? nFac : nHidden, nHidden, 1, 0.0)).ToArray());
            register_module("rnn", _layers);
        }
        if (dropout > 0)
        {
            drop = new UniformMaskDropout(dropout);
            register_module("drop", drop);
        }
        l_out = Linear(nHidden, vocabSize);
        register_module("l_out", l_out);
    }

    public override Dictionary<string, Tensor> state_dict(Dictionary<string, Tensor>? destination = null, string? prefix = null) =>
        _layers == null ? base.state_dict(destination, prefix) : MultiLayerNames.Rename(base.state_dict(null, prefix), destination);

    protected override (Tensor Logits, RecurrentState State) Run(Tensor x, RecurrentState state)
    {
        var (output, h) = _allLayers != null ? _allLayers.forward(e.forward(x), state.Parts[0]) : RunLayers(e.forward(x), state.Parts[0]);
        return (l_out.forward(drop?.forward(output) ?? output), new RecurrentState([h], batchDim: 1));
    }

    /// <summary>The one-layer modules one after another, with dropout between them.</summary>
    private (Tensor Output, Tensor H) RunLayers(Tensor input, Tensor h0)
    {
        var hLast = new Tensor[Layers];
        var x = input;
        for (int layer = 0; layer < Layers; layer++)
        {
            if (layer > 0 && drop != null) x = drop.forward(x);
            (x, hLast[layer]) = _layers![layer].forward(x, h0.narrow(0, layer, 1));
        }
        return (x, cat(hLast, 0));
    }
}
