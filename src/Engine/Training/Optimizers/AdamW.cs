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
            // Decoupled decay first, as per parameter below: it scales the weights, not the gradient.
            using (TorchSharp.Scalar decay = 1 - options.LearningRate!.Value * options.weight_decay!.Value)
                foreach (var parameter in parameters) parameter.mul_(decay);
            using var gradient = FlatMoments.Gradient(parameters, 0, options.maximize!.Value);
            flat.Step(parameters, gradient, states[0].step, options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.LearningRate.Value);
            return;
        }
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
