using static TorchSharp.torch;

namespace CharRnn.Engine.Training.Optimizers;

/// <summary>
/// Adam's update of one parameter from its gradient, as TorchSharp 0.107's Adam and AdamW compute
/// it (the same operations in the same order, so the same bits), with every Scalar held by a
/// <c>using</c> until its call has returned (see <see cref="Runtime.HeldScalars"/>).
/// </summary>
internal static class AdamUpdate
{
    /// <summary>Updates the moments and the parameter in place; returns the AMSGrad maximum (a new tensor when <paramref name="amsgrad"/>).</summary>
    public static Tensor? Apply(Tensor parameter, Tensor gradient, long step, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq,
        double beta1, double beta2, double eps, double learningRate, bool amsgrad)
    {
        var biasCorrection1 = 1 - Math.Pow(beta1, step);
        var biasCorrection2 = 1 - Math.Pow(beta2, step);
        using TorchSharp.Scalar keep1 = beta1, gain1 = 1 - beta1, keep2 = beta2, gain2 = 1 - beta2,
            root2 = Math.Sqrt(biasCorrection2), epsilon = eps, stepSize = -(learningRate / biasCorrection1);

        expAvg.mul_(keep1).add_(gradient, gain1);
        expAvgSq.mul_(keep2).addcmul_(gradient, gradient.conj(), gain2);
        if (amsgrad)
        {
            var previous = maxExpAvgSq!;
            maxExpAvgSq = maximum(previous, expAvgSq).DetachFromDisposeScope();
            previous.Dispose();
        }
        // The alpha is the held One: add_(epsilon) alone makes an alpha Scalar nothing holds through the call.
        var denominator = (amsgrad ? maxExpAvgSq! : expAvgSq).sqrt().div(root2).add_(epsilon, Runtime.HeldScalars.One);
        parameter.addcdiv_(expAvg, denominator, stepSize);
        return maxExpAvgSq;
    }
}
