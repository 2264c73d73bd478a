using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training.Optimizers;

/// <summary>
/// TorchSharp's Adam (weight decay as an L2 term on the gradient), its step computed by
/// <see cref="AdamStep"/> so that no Scalar can be finalized mid-call. Same state, same numbers
/// (tested against TorchSharp's), and the same checkpoint format: it is named Adam because
/// TorchSharp writes the optimizer's type name into its state and refuses any other on load.
/// </summary>
public sealed class Adam(IEnumerable<TorchSharp.Modules.Adam.ParamGroup> groups) : TorchSharp.Modules.Adam(groups)
{
    private readonly AdamStep _adam = new();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _adam.Dispose();
        base.Dispose(disposing);
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        _adam.Run(group, group.Parameters, p => new Moments((State)_state[p.Handle]), decoupledDecay: false,
            options.LearningRate!.Value, options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.weight_decay!.Value,
            options.amsgrad!.Value, options.maximize!.Value);
    }, closure);

    private sealed class Moments(State state) : IAdamMoments
    {
        public long Step { get => state.step; set => state.step = value; }
        public Tensor ExpAvg { get => state.exp_avg; set => state.exp_avg = value; }
        public Tensor ExpAvgSq { get => state.exp_avg_sq; set => state.exp_avg_sq = value; }
        public Tensor? MaxExpAvgSq { get => state.max_exp_avg_sq; set => state.max_exp_avg_sq = value; }
    }
}
