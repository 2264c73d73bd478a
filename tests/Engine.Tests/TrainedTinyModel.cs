using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Training;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>A small model trained for 60 steps on the tiny corpus, in eval mode: a class fixture for tests of generation.</summary>
public abstract class TrainedTinyModel : IDisposable
{
    protected TrainedTinyModel(string architecture, int hidden = 32)
    {
        var a = Architectures.Get(architecture);
        Trainer = Trainer.Create(a, Tiny.HyperParameters(a, hidden), Tiny.Options(maxSteps: 60), Tiny.Corpus(), CPU, null);
        Trainer.Run();
        Trainer.Model.eval();
    }

    public Trainer Trainer { get; }

    public GenerationSession Session(SamplingSettings settings) => new(Trainer.Model, Trainer.Vocabulary, settings);

    public void Dispose() => Trainer.Dispose();
}
