using CharRnn.Engine.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CharRnn.Engine.Models;

/// <summary>
/// The lesson's first model: three characters in, the fourth out, the recurrence written out by
/// hand. One embedding and one input layer are shared by all three positions.
/// </summary>
public sealed class Char3Model : WindowedCharModel
{
    private readonly Embedding e;
    private readonly Linear l_in, l_hidden, l_out;

    public Char3Model(int vocabSize, int nFac, int nHidden) : base("char3", vocabSize, context: 3)
    {
        e = Embedding(vocabSize, nFac);
        l_in = Linear(nFac, nHidden);
        l_hidden = Linear(nHidden, nHidden);
        l_out = Linear(nHidden, vocabSize);
        RegisterComponents();
    }

    protected override Tensor Predict(Tensor x)
    {
        var in1 = functional.relu(l_in.forward(e.forward(x[.., 0])));
        var in2 = functional.relu(l_in.forward(e.forward(x[.., 1])));
        var in3 = functional.relu(l_in.forward(e.forward(x[.., 2])));
        var h = zeros_like(in1);
        h = tanh(l_hidden.forward(h.add(in1, HeldScalars.One)));
        h = tanh(l_hidden.forward(h.add(in2, HeldScalars.One)));
        h = tanh(l_hidden.forward(h.add(in3, HeldScalars.One)));
        return l_out.forward(h);
    }
}
