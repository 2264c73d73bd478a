using TorchSharp;
using TorchSharp.Modules;

namespace CharRnn.Engine.Models;

/// <summary>The lesson's CharSeqStatefulGRU: nn.GRU over the text stream; n layers and dropout as <see cref="StackedStatefulModel{TLayer}"/> says.</summary>
public sealed class StatefulGru(int vocabSize, int nFac, int nHidden, int layers = 1, double dropout = 0, bool layersInOneCall = false)
    : StackedStatefulModel<GRU>("stateful-gru", vocabSize, nFac, nHidden, layers, dropout, layersInOneCall,
        (input, hidden, n, between) => torch.nn.GRU(input, hidden, numLayers: n, dropout: between));
