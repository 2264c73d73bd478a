using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Bench;

/// <summary>
/// nn.LSTM's forward and backward alone, at the bench's sizes (42 → 512 × 2 layers, dropout 0.5
/// between them, bs 64): no embedding, output layer, loss or optimizer. What a TorchSharp user
/// gets from libtorch's (oneDNN's) LSTM: the product's step adds those parts, and saves the time
/// nn.LSTM's serial bernoulli_ dropout between the layers takes (StatefulLstm runs its layers one
/// by one with UniformMaskDropout between them), so it can come close to this rate or pass it.
/// </summary>
public sealed class TwoLayerLstmAlone : IDisposable
{
    private const int Batch = 64, Inputs = 42, Hidden = 512, Layers = 2;
    private readonly LSTM _lstm;
    private readonly Tensor _input, _gradOutput, _h0, _c0;
    private readonly int _bptt;

    public TwoLayerLstmAlone(int bptt)
    {
        _bptt = bptt;
        manual_seed(0);
        _lstm = LSTM(Inputs, Hidden, Layers, dropout: 0.5);
        _lstm.to(BenchDevice.Device);
        // The input needs its gradient, as the embedding below it does in training.
        _input = randn(bptt, Batch, Inputs, device: BenchDevice.Device).requires_grad_();
        _gradOutput = randn(bptt, Batch, Hidden, device: BenchDevice.Device);
        _h0 = zeros(Layers, Batch, Hidden, device: BenchDevice.Device);
        _c0 = zeros(Layers, Batch, Hidden, device: BenchDevice.Device);
    }

    public long CharactersPerStep => (long)Batch * _bptt;

    /// <summary>Matrix-product FLOPs per character of this forward and backward (3 × forward).</summary>
    public static double FlopsPerChar => 3 * 2.0 * 4 * Hidden * ((Inputs + Hidden) + (Hidden + Hidden));

    public void Step()
    {
        using var scope = NewDisposeScope();
        _lstm.zero_grad();
        _input.grad?.zero_();
        var (output, _, _) = _lstm.forward(_input, (_h0, _c0));
        output.mul(_gradOutput).sum().backward();
    }

    public void Dispose()
    {
        _lstm.Dispose();
        foreach (var t in new[] { _input, _gradOutput, _h0, _c0 }) t.Dispose();
    }
}
