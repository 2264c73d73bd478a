using CharRnn.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training;

/// <summary>
/// Clips the gradients' global L2 norm as torch.nn.utils.clip_grad_norm_ does, without reading
/// the norm back to the host: libtorch's C++ version returns it as a double, a device sync on
/// every step on a GPU. Same arithmetic: the coefficient max / (norm + 1e-6), clamped to 1, is
/// multiplied into every gradient whether or not it clips.
/// </summary>
public static class GradientClipping
{
    public static void Clip(IReadOnlyList<Parameter> parameters, double maxNorm)
    {
        using var scope = NewDisposeScope();
        var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToArray();
        if (grads.Length == 0) return;
        using var epsilon = 1e-6.ToScalar(); // held: see HeldScalars
        using var max = maxNorm.ToScalar();
        // add_(Scalar) alone would make an unheld alpha of 1: pass the held one.
        var total = linalg.vector_norm(stack(grads.Select(g => linalg.vector_norm(g)).ToArray())).add_(epsilon, HeldScalars.One);
        var coefficient = full_like(total, max).div_(total).clamp_max_(HeldScalars.One);
        foreach (var g in grads) g.mul_(coefficient);
    }
}
