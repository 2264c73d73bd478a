using TorchSharp;
using TorchSharp.Modules;

namespace CharRnn.Engine.Models;

/// <summary>
/// The lesson's CharSeqStatefulRnn: nn.RNN over the text stream, hidden state kept between
/// batches; n layers and dropout as <see cref="StackedStatefulModel{TLayer}"/> says.
/// </summary>
public sealed class StatefulRnn(int vocabSize, int nFac, int nHidden, int layers = 1, double dropout = 0, bool layersInOneCall = false)
    : StackedStatefulModel<RNN>("stateful-rnn", vocabSize, nFac, nHidden, layers, dropout, layersInOneCall,
        (input, hidden, n, between) => torch.nn.RNN(input, hidden, numLayers: n, dropout: between));
