using static TorchSharp.torch;

namespace CharRnn.Engine.Training.Optimizers;

/// <summary>
/// One parameter's Adam state, read and written in place in the optimizer's own State object:
/// TorchSharp's Adam and AdamW each have a State type of their own, with no common base.
/// </summary>
internal interface IAdamMoments
{
    long Step { get; set; }
    Tensor ExpAvg { get; set; }
    Tensor ExpAvgSq { get; set; }
    Tensor? MaxExpAvgSq { get; set; }
}
