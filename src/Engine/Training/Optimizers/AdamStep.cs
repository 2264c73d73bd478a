using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training.Optimizers;

/// <summary>
/// The step Adam and AdamW share: a group's parameters stepped together (<see cref="FlatMoments"/>)
/// where they fit, else one at a time (<see cref="AdamUpdate"/>). They differ only in weight decay:
/// Adam adds it to the gradient (an L2 term), AdamW scales the weights by 1 − lr × wd first.
/// </summary>
internal sealed class AdamStep : IDisposable
{
    private readonly Dictionary<object, FlatMoments> _flat = new(ReferenceEqualityComparer.Instance);

    public void Run(object group, IEnumerable<Parameter> groupParameters, Func<Tensor, IAdamMoments> momentsOf, bool decoupledDecay,
        double learningRate, double beta1, double beta2, double eps, double weightDecay, bool amsgrad, bool maximize)
    {
        var parameters = groupParameters.Where(p => p.grad is not null).ToList<Tensor>();
        var states = parameters.Select(momentsOf).ToList();
        if (!amsgrad && FlatMoments.Fits(parameters, states.Select(s => s.Step).ToList()))
        {
            if (!_flat.TryGetValue(group, out var flat)) _flat[group] = flat = new FlatMoments();
            var (expAvg, expAvgSq) = flat.Bind(parameters, states.Select(s => s.ExpAvg).ToList(), states.Select(s => s.ExpAvgSq).ToList());
            for (int i = 0; i < states.Count; i++) (states[i].ExpAvg, states[i].ExpAvgSq, states[i].Step) = (expAvg[i], expAvgSq[i], states[i].Step + 1);
            // First, as per parameter below: it scales the weights, not the gradient. At wd 0 it would
            // multiply every weight by exactly 1: a pass over all of them for nothing.
            if (decoupledDecay && weightDecay != 0)
                using (TorchSharp.Scalar decay = 1 - learningRate * weightDecay)
                    foreach (var parameter in parameters) parameter.mul_(decay);
            using var gradient = FlatMoments.Gradient(parameters, decoupledDecay ? 0 : weightDecay, maximize);
            flat.Step(parameters, gradient, states[0].Step, beta1, beta2, eps, learningRate);
            return;
        }
        foreach (var parameter in groupParameters)
        {
            if (parameter.grad is not { } gradient) continue;
            var state = momentsOf(parameter);
            if (maximize) gradient = -gradient;
            state.Step += 1;
            if (decoupledDecay)
            {
                if (weightDecay != 0) // × 1 at wd 0: skipped, as above
                {
                    using TorchSharp.Scalar decay = 1 - learningRate * weightDecay;
                    parameter.mul_(decay);
                }
            }
            else if (weightDecay != 0)
            {
                using TorchSharp.Scalar decay = weightDecay;
                gradient = gradient.add(parameter, decay);
            }
            state.MaxExpAvgSq = AdamUpdate.Apply(parameter, gradient, state.Step, state.ExpAvg, state.ExpAvgSq, state.MaxExpAvgSq,
                beta1, beta2, eps, learningRate, amsgrad);
        }
    }

    public void Dispose()
    {
        foreach (var flat in _flat.Values) flat.Dispose();
    }
}
