using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Bench;

/// <summary>
/// The reference a TorchSharp user would write by hand: embedding → nn.RNN/GRU/LSTM → (dropout)
/// → linear, Adam, hidden state detached between batches, each step in a dispose scope. The
/// product's training path is measured against this.
/// </summary>
public sealed class BareTorchLoop : IDisposable
{
    private readonly Embedding _e;
    private readonly RNN? _rnn;
    private readonly GRU? _gru;
    private readonly LSTM? _lstm;
    private readonly Dropout _drop;
    private readonly Linear _out;
    private readonly Module _rnnModule;
    private readonly optim.Optimizer _adam;
    private readonly Tensor _data; // [L, bs]
    private readonly int _bs, _bptt, _layers, _hidden, _vocab;
    private Tensor[]? _state;
    private long _position;

    public BareTorchLoop(string arch, int[] ids, int vocab, int bs, int bptt)
    {
        (_bs, _bptt, _vocab) = (bs, bptt, vocab);
        var lstm = arch == "lstm";
        (_hidden, _layers) = lstm ? (512, 2) : (256, 1);
        _e = Embedding(vocab, 42);
        if (arch == "rnn") _rnn = RNN(42, _hidden);
        else if (arch == "gru") _gru = GRU(42, _hidden);
        else _lstm = LSTM(42, _hidden, _layers, dropout: 0.5);
        _drop = Dropout(lstm ? 0.5 : 0.0);
        _out = Linear(_hidden, vocab);
        _rnnModule = (Module?)_rnn ?? (Module?)_gru ?? _lstm!;
        _e.to(BenchDevice.Device);
        _rnnModule.to(BenchDevice.Device);
        _out.to(BenchDevice.Device);
        _adam = optim.Adam(_e.parameters().Concat(_rnnModule.parameters()).Concat(_out.parameters()), lr: 1e-3, beta2: 0.999); // TorchSharp's factory defaults beta2 to 0.99; PyTorch and the product use 0.999
        var length = ids.Length / bs;
        using var streams = tensor(ids.Take(length * bs).Select(i => (long)i).ToArray(), [bs, length]);
        _data = streams.t().contiguous().to(BenchDevice.Device).DetachFromDisposeScope();
    }

    public long CharactersPerStep => (long)_bs * _bptt;

    public void Step()
    {
        using var scope = NewDisposeScope();
        if (_position + _bptt + 1 > _data.shape[0]) { _position = 0; DisposeState(); }
        var x = _data.narrow(0, _position, _bptt);
        var y = _data.narrow(0, _position + 1, _bptt);
        _position += _bptt;
        var emb = _e.forward(x);
        Tensor output;
        Tensor[] next;
        if (_rnn != null) { var (o, h) = _rnn.forward(emb, _state?[0]); output = o; next = [h]; }
        else if (_gru != null) { var (o, h) = _gru.forward(emb, _state?[0]); output = o; next = [h]; }
        else { var (o, h, c) = _lstm!.forward(emb, _state == null ? null : (_state[0], _state[1])); output = o; next = [h, c]; }
        var logits = _out.forward(_drop.forward(output));
        var loss = functional.cross_entropy(logits.reshape(-1, _vocab), y.reshape(-1));
        _adam.zero_grad();
        loss.backward();
        _adam.step();
        DisposeState();
        _state = next.Select(t => t.detach().DetachFromDisposeScope()).ToArray();
    }

    private void DisposeState()
    {
        if (_state == null) return;
        foreach (var t in _state) t.Dispose();
        _state = null;
    }

    public void Dispose()
    {
        DisposeState();
        _adam.Dispose();
        _e.Dispose();
        _rnnModule.Dispose();
        _drop.Dispose();
        _out.Dispose();
        _data.Dispose();
    }
}
