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
    public void Steps_match_TorchSharps_own_optimizer_bit_for_bit(string kind, double weightDecay, bool amsgrad) =>
        AssertSameSteps(kind, weightDecay, amsgrad, Linear);

    /// <summary>Six parameters of odd sizes: stepped as one flat group (<see cref="Training.Optimizers.FlatMoments"/>), every element must still match.</summary>
    [Theory]
    [InlineData("adam", 0.0)]
    [InlineData("adam", 1e-5)]
    [InlineData("adamw", 0.0)] // wd 0 skips the decay's × 1: the steps must not change
    [InlineData("adamw", 1e-2)]
    public void A_group_stepped_at_once_matches_TorchSharps_per_parameter_steps_bit_for_bit(string kind, double weightDecay) =>
        AssertSameSteps(kind, weightDecay, amsgrad: false, ThreeLayers);

    [Fact]
    public void A_groups_moments_are_slices_of_one_buffer_and_a_loaded_state_stays_bound()
    {
        var x = randn(16, 7);
        var y = randn(16, 3);
        static void Step(OptimizerHelper optimizer, nn.Module<Tensor, Tensor> model, Tensor x, Tensor y)
        {
            optimizer.zero_grad();
            nn.functional.mse_loss(model.forward(x), y).backward();
            optimizer.step();
        }
        static List<Tensor> Moments(OptimizerHelper optimizer) => optimizer.state_dict().State.Cast<Adam.State>().Select(s => s.exp_avg).ToList();

        var (ours, model) = Make("adam", 1e-5, amsgrad: false, held: true, ThreeLayers);
        Step(ours, model, x, y);
        var moments = Moments(ours);
        var offset = 0L;
        foreach (var (moment, parameter) in moments.Zip(model.parameters()))
        {
            Assert.Equal(Buffer(moments[0]), Buffer(moment)); // end to end in one buffer
            Assert.Equal(offset, moment.storage_offset());
            Assert.Equal(parameter.shape, moment.shape);
            offset += parameter.numel();
        }

        // A checkpoint's state is read into the bound moments in place: they keep their buffer and hold the saved values.
        var saved = State(ours);
        var (reloaded, reloadedModel) = Make("adam", 1e-5, amsgrad: false, held: true, ThreeLayers);
        Step(reloaded, reloadedModel, x.mul(2), y);
        var bound = Moments(reloaded).Select(m => (Buffer(m), m.storage_offset())).ToList();
        Assert.NotEqual(saved, State(reloaded));
        using (var reader = new BinaryReader(new MemoryStream(Convert.FromHexString(saved)))) reloaded.load_state_dict(reader);
        Assert.Equal(saved, State(reloaded));
        Assert.Equal(bound, Moments(reloaded).Select(m => (Buffer(m), m.storage_offset())).ToList());
    }

    private static IntPtr Buffer(Tensor t) => t.storage<float>().data_ptr();

    private static void AssertSameSteps(string kind, double weightDecay, bool amsgrad, Func<nn.Module<Tensor, Tensor>> build)
    {
        var (theirs, theirsModel) = Make(kind, weightDecay, amsgrad, held: false, build);
        var (ours, ourModel) = Make(kind, weightDecay, amsgrad, held: true, build);
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

    private static nn.Module<Tensor, Tensor> Linear() => nn.Linear(7, 3);

    private static nn.Module<Tensor, Tensor> ThreeLayers() => nn.Sequential(nn.Linear(7, 13), nn.Tanh(), nn.Linear(13, 5), nn.Tanh(), nn.Linear(5, 3));

    private static (OptimizerHelper Optimizer, nn.Module<Tensor, Tensor> Model) Make(string kind, double weightDecay, bool amsgrad, bool held,
        Func<nn.Module<Tensor, Tensor>> build)
    {
        manual_seed(1);
        var model = build();
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
