using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CharRnn.Engine.Models;

/// <summary>The four tensors of a hand-written recurrent cell, shaped and initialised as PyTorch's nn.RNN/nn.GRU layer 0.</summary>
public sealed record RecurrentCellWeights(Parameter WeightIh, Parameter WeightHh, Parameter BiasIh, Parameter BiasHh)
{
    /// <summary>U(−1/√H, 1/√H) for every tensor, as PyTorch initialises its recurrent layers.</summary>
    public static RecurrentCellWeights Create(int inputSize, int hiddenSize, int gates)
    {
        var bound = 1.0 / Math.Sqrt(hiddenSize);
        Parameter Uniform(params long[] shape) => new(empty(shape).uniform_(-bound, bound));
        return new RecurrentCellWeights(
            Uniform(gates * hiddenSize, inputSize),
            Uniform(gates * hiddenSize, hiddenSize),
            Uniform(gates * hiddenSize),
            Uniform(gates * hiddenSize));
    }
}
