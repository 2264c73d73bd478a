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
    private readonly Dictionary<ParamGroup, FlatMoments> _flat = new(ReferenceEqualityComparer.Instance);

    protected override void Dispose(bool disposing)
    {
        if (disposing) foreach (var flat in _flat.Values) flat.Dispose();
        base.Dispose(disposing);
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        var parameters = group.Parameters.Where(p => p.grad is not null).ToList<Tensor>();
        var states = parameters.Select(p => (State)_state[p.Handle]).ToList();
        if (!options.amsgrad!.Value && FlatMoments.Fits(parameters, states.Select(s => s.step).ToList()))
        {
            if (!_flat.TryGetValue(group, out var flat)) _flat[group] = flat = new FlatMoments();
            var (expAvg, expAvgSq) = flat.Bind(parameters, states.Select(s => s.exp_avg).ToList(), states.Select(s => s.exp_avg_sq).ToList());
            for (int i = 0; i < states.Count; i++) (states[i].exp_avg, states[i].exp_avg_sq, states[i].step) = (expAvg[i], expAvgSq[i], states[i].step + 1);
            using var gradient = FlatMoments.Gradient(parameters, options.weight_decay!.Value, options.maximize!.Value);
            flat.Step(parameters, gradient, states[0].step, options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.LearningRate!.Value);
            return;
        }
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
