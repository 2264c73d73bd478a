using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>
/// The engine's Adam and AdamW (Scalars held through their calls) take TorchSharp's steps bit for
/// bit, and save the same state: same weights, same moments, same checkpoint bytes.
/// </summary>
public class AdamTests
{
    [Theory]
    [InlineData("adam", 0.0, false)]
    [InlineData("adam", 1e-2, false)]
    [InlineData("adam", 1e-2, true)]
    [InlineData("adamw", 0.0, false)]
    [InlineData("adamw", 1e-2, true)]
    public void Steps_match_TorchSharps_own_optimizer_bit_for_bit(string kind, double weightDecay, bool amsgrad)
    {
        var (theirs, theirsModel) = Make(kind, weightDecay, amsgrad, held: false);
        var (ours, ourModel) = Make(kind, weightDecay, amsgrad, held: true);
        manual_seed(5);
        for (int step = 0; step < 6; step++)
        {
            var x = randn(16, 7);
            var y = randn(16, 3);
            foreach (var (optimizer, model) in new[] { (theirs, theirsModel), (ours, ourModel) })
            {
                optimizer.zero_grad();
                nn.functional.mse_loss(model.forward(x), y).backward();
                optimizer.step();
            }
        }
        foreach (var ((name, expected), actual) in theirsModel.named_parameters().Zip(ourModel.parameters()))
            Assert.True(expected.eq(actual).all().item<bool>(), $"{name} differs after 6 steps");
        Assert.Equal(State(theirs), State(ours));
    }

    private static (OptimizerHelper Optimizer, Linear Model) Make(string kind, double weightDecay, bool amsgrad, bool held)
    {
        manual_seed(1);
        var model = nn.Linear(7, 3);
        OptimizerHelper optimizer = kind == "adamw"
            ? held ? new Training.Optimizers.AdamW([new AdamW.ParamGroup(model.parameters(), lr: 0.05, weight_decay: weightDecay, amsgrad: amsgrad)])
                   : optim.AdamW([new AdamW.ParamGroup(model.parameters(), lr: 0.05, weight_decay: weightDecay, amsgrad: amsgrad)])
            : held ? new Training.Optimizers.Adam([new Adam.ParamGroup(model.parameters(), lr: 0.05, weight_decay: weightDecay, amsgrad: amsgrad)])
                   : optim.Adam([new Adam.ParamGroup(model.parameters(), lr: 0.05, weight_decay: weightDecay, amsgrad: amsgrad)]);
        return (optimizer, model);
    }

    /// <summary>The optimizer's saved state: the moments and step counts a checkpoint keeps.</summary>
    private static string State(OptimizerHelper optimizer)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(writer);
        return Convert.ToHexString(stream.ToArray());
    }
}
