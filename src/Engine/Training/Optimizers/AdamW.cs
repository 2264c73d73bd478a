using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training.Optimizers;

/// <summary>
/// TorchSharp's AdamW (decoupled weight decay), its step computed by <see cref="AdamUpdate"/> so
/// that no Scalar can be finalized mid-call. Same state, same numbers (tested against
/// TorchSharp's), and the same checkpoint format: it is named AdamW because TorchSharp writes the
/// optimizer's type name into its state and refuses any other on load.
/// </summary>
public sealed class AdamW(IEnumerable<TorchSharp.Modules.AdamW.ParamGroup> groups) : TorchSharp.Modules.AdamW(groups)
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
            using (TorchSharp.Scalar decay = 1 - options.LearningRate!.Value * options.weight_decay!.Value)
                parameter.mul_(decay);
            state.max_exp_avg_sq = AdamUpdate.Apply(parameter, gradient, state.step, state.exp_avg, state.exp_avg_sq, state.max_exp_avg_sq,
                options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.LearningRate.Value, options.amsgrad!.Value);
        }
    }, closure);
}
