using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training.Optimizers;

/// <summary>
/// TorchSharp's Adam (weight decay as an L2 term on the gradient), its step computed by
/// <see cref="AdamUpdate"/> so that no Scalar can be finalized mid-call. Same state, same numbers
/// (tested against TorchSharp's), and the same checkpoint format: it is named Adam because
/// TorchSharp writes the optimizer's type name into its state and refuses any other on load.
/// </summary>
public sealed class Adam(IEnumerable<TorchSharp.Modules.Adam.ParamGroup> groups) : TorchSharp.Modules.Adam(groups)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        foreach (var parameter in group.Parameters)
        {
            if (parameter.grad is not { } gradient) continue;
            var state = (State)_state[parameter.Handle];
            if (options.maximize!.Value) gradient = -gradient;
            state.step += 1;
            if (options.weight_decay!.Value != 0)
            {
                using TorchSharp.Scalar decay = options.weight_decay.Value;
                gradient = gradient.add(parameter, decay);
            }
            state.max_exp_avg_sq = AdamUpdate.Apply(parameter, gradient, state.step, state.exp_avg, state.exp_avg_sq, state.max_exp_avg_sq,
                options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.LearningRate!.Value, options.amsgrad!.Value);
        }
    }, closure);
}
