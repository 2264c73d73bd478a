using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>The clip that keeps the norm on the device (used on GPUs) gives libtorch's clip_grad_norm_'s gradients.</summary>
public class GradientClippingTests
{
    [Theory]
    [InlineData(0.05)] // below the norm: scaled down
    [InlineData(1e6)]  // above it: the coefficient clamps to 1 and the gradients stay as they were
    public void Clipping_on_the_device_gives_libtorchs_gradients(double maxNorm)
    {
        manual_seed(5);
        var model = nn.Sequential(nn.Linear(7, 11), nn.Tanh(), nn.Linear(11, 3));
        var twin = nn.Sequential(nn.Linear(7, 11), nn.Tanh(), nn.Linear(11, 3));
        twin.load_state_dict(model.state_dict());
        var (x, y) = (randn(16, 7), randn(16, 3));
        foreach (var m in new[] { model, twin }) nn.functional.mse_loss(m.forward(x), y).backward();
        var before = model.parameters().Select(p => p.grad!.clone()).ToList();

        var norm = nn.utils.clip_grad_norm_(model.parameters(), maxNorm);
        Training.GradientClipping.Clip(twin.parameters().ToArray(), maxNorm);

        Assert.True(norm > 0.05 && norm < 1e6, $"the gradients' norm {norm} is not between the two limits tried");
        foreach (var (expected, actual, original) in model.parameters().Zip(twin.parameters(), before).Select(t => (t.First.grad!, t.Second.grad!, t.Third)))
        {
            Assert.True(allclose(actual, expected, rtol: 1e-6, atol: 1e-9), "the gradients differ from clip_grad_norm_'s");
            Assert.Equal(maxNorm < norm, !allclose(actual, original, rtol: 1e-4, atol: 0)); // scaled only when over the limit
        }
    }
}
