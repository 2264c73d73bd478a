using static TorchSharp.torch;

namespace CharRnn.Engine.Training.Optimizers;

/// <summary>
/// One parameter group's Adam moments as slices of two flat buffers, so that a step updates the
/// moments and the denominator in a handful of operations over the whole group rather than ~8 per
/// parameter; only the final <c>addcdiv_</c> stays per parameter. Each operation is a P/Invoke
/// and, on a GPU, a kernel launch: the lesson's models have 7–11 parameters, and their steps on an
/// H200 took a few milliseconds, set by launches rather than arithmetic
/// (bench/results-2026-12-04-h200.md), where PyTorch's CUDA Adam updates a group at once.
/// Elementwise the operations and their order are <see cref="AdamUpdate"/>'s, and each
/// parameter's moments stay a tensor of its own shape, so the optimizer's saved state is the same.
/// </summary>
internal sealed class FlatMoments : IDisposable
{
    private Tensor? _expAvg, _expAvgSq, _denominator;
    private Tensor[] _expAvgSlices = [], _expAvgSqSlices = [], _denominatorSlices = [];

    /// <summary>
    /// Whether a group's parameters can be stepped together: two or more, on one device, of one
    /// type, each at the same step (a parameter that missed a step has its own bias correction).
    /// </summary>
    public static bool Fits(IReadOnlyList<Tensor> parameters, IReadOnlyList<long> steps) =>
        parameters.Count >= 2
        && parameters.All(p => p.device_type == parameters[0].device_type && p.device_index == parameters[0].device_index
            && p.dtype == parameters[0].dtype && p.is_floating_point())
        && steps.All(s => s == steps[0]);

    /// <summary>
    /// Points the moments at slices of the flat buffers, copying their values in, unless they are
    /// those slices already (a loaded state is read into them in place; a state moved to another
    /// device, or another set of parameters with gradients, is bound anew).
    /// </summary>
    /// <returns>The moments to keep in the optimizer's state, in the order of <paramref name="parameters"/>.</returns>
    public (Tensor[] ExpAvg, Tensor[] ExpAvgSq) Bind(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> expAvg, IReadOnlyList<Tensor> expAvgSq)
    {
        if (IsBound(expAvg, _expAvgSlices) && IsBound(expAvgSq, _expAvgSqSlices)) return (_expAvgSlices, _expAvgSqSlices);
        var (newExpAvg, newExpAvgSlices) = Flatten(parameters, expAvg);
        var (newExpAvgSq, newExpAvgSqSlices) = Flatten(parameters, expAvgSq);
        Release();
        foreach (var t in expAvg.Concat(expAvgSq)) t.Dispose(); // their values are in the new buffers
        (_expAvg, _expAvgSlices, _expAvgSq, _expAvgSqSlices) = (newExpAvg, newExpAvgSlices, newExpAvgSq, newExpAvgSqSlices);
        _denominator = empty_like(_expAvgSq).DetachFromDisposeScope();
        _denominatorSlices = Slice(_denominator, parameters);
        return (_expAvgSlices, _expAvgSqSlices);
    }

    /// <summary>
    /// One Adam step of the bound group from its gradients laid end to end (<paramref name="gradient"/>,
    /// weight decay and maximize already applied), as <see cref="AdamUpdate.Apply"/> takes it per parameter.
    /// </summary>
    public void Step(IReadOnlyList<Tensor> parameters, Tensor gradient, long step, double beta1, double beta2, double eps, double learningRate)
    {
        var biasCorrection1 = 1 - Math.Pow(beta1, step);
        var biasCorrection2 = 1 - Math.Pow(beta2, step);
        using TorchSharp.Scalar keep1 = beta1, gain1 = 1 - beta1, keep2 = beta2, gain2 = 1 - beta2,
            root2 = Math.Sqrt(biasCorrection2), epsilon = eps, stepSize = -(learningRate / biasCorrection1);
        _expAvg!.mul_(keep1).add_(gradient, gain1);
        using (var conjugate = gradient.conj()) _expAvgSq!.mul_(keep2).addcmul_(gradient, conjugate, gain2);
        _denominator!.copy_(_expAvgSq).sqrt_().div_(root2).add_(epsilon, Runtime.HeldScalars.One);
        for (int i = 0; i < parameters.Count; i++) parameters[i].addcdiv_(_expAvgSlices[i], _denominatorSlices[i], stepSize);
    }

    /// <summary>The parameters' gradients laid end to end, with weight decay (<c>grad + decay · param</c>) and maximize applied.</summary>
    public static Tensor Gradient(IReadOnlyList<Tensor> parameters, double weightDecay, bool maximize)
    {
        using var scope = NewDisposeScope();
        var gradient = cat(parameters.Select(p => p.grad!.reshape(-1)).ToList(), 0);
        if (maximize) gradient.neg_();
        if (weightDecay != 0)
        {
            using var flatParameters = cat(parameters.Select(p => p.reshape(-1)).ToList(), 0);
            using TorchSharp.Scalar decay = weightDecay;
            gradient.add_(flatParameters, decay);
        }
        return gradient.MoveToOuterDisposeScope();
    }

    private static bool IsBound(IReadOnlyList<Tensor> moments, Tensor[] slices) =>
        slices.Length > 0 && moments.Count == slices.Length && moments.Zip(slices).All(m => ReferenceEquals(m.First, m.Second));

    private static (Tensor Flat, Tensor[] Slices) Flatten(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> moments)
    {
        using var scope = NewDisposeScope();
        var flat = cat(moments.Select((m, i) => m.to(parameters[i].device).reshape(-1)).ToList(), 0).DetachFromDisposeScope();
        return (flat, Slice(flat, parameters));
    }

    private static Tensor[] Slice(Tensor flat, IReadOnlyList<Tensor> parameters)
    {
        var slices = new Tensor[parameters.Count];
        long offset = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            var count = parameters[i].numel();
            using var run = flat.narrow(0, offset, count);
            slices[i] = run.view(parameters[i].shape).DetachFromDisposeScope();
            offset += count;
        }
        return slices;
    }

    private void Release()
    {
        _expAvg?.Dispose();
        _expAvgSq?.Dispose();
        _denominator?.Dispose();
        foreach (var t in _denominatorSlices) t.Dispose();
        // The moment slices belong to the optimizer's state once handed out; it disposes them.
        (_expAvg, _expAvgSq, _denominator, _denominatorSlices) = (null, null, null, []);
    }

    public void Dispose() => Release();
}
