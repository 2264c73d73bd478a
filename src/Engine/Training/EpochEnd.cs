using System.Text;
using CharRnn.Engine.Models;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;

namespace CharRnn.Engine.Training;

/// <summary>
/// An epoch's end in progress. The trainer runs it one unit per <see cref="Trainer.StepPiece"/>
/// call, so a device it shares (the server generates between calls) is never held for long:
/// validation a batch at a time, the epoch's sample a few chars at a time, the epoch's record,
/// then each checkpoint in a call of its own.
/// </summary>
internal sealed class EpochEnd : IDisposable
{
    private const int SampleCharsPerCall = 16;

    private readonly CharModel _model;
    private readonly Vocabulary _vocabulary;
    private readonly string _prime;
    private readonly SamplingSettings _sampling;
    private GenerationSession? _sampler;
    private StringBuilder? _sample;
    private int _sampleLeft;

    public EpochEnd(CharModel model, Vocabulary vocabulary, double trainLoss, ValidationPass validation,
        int sampleChars, string prime, SamplingSettings sampling)
    {
        _model = model;
        _vocabulary = vocabulary;
        TrainLoss = trainLoss;
        Validation = validation;
        _sampleLeft = sampleChars;
        _prime = prime;
        _sampling = sampling;
    }

    public double TrainLoss { get; }
    public ValidationPass Validation { get; }
    public (double Loss, double Accuracy)? Validated { get; private set; }
    public bool IsSampled => _sampleLeft == 0;
    /// <summary>The prime in brackets and the chars generated after it; null when the epoch takes no sample.</summary>
    public string? Sample => _sample?.ToString();
    /// <summary>The checkpoints still to write, once the epoch's record is made (null before).</summary>
    public Queue<(string Reason, string File)>? Saves { get; set; }
    public bool IsCycleEnd { get; set; }

    public void ValidateNext()
    {
        Validation.Advance(1);
        if (Validation.IsDone) Validated = Validation.Result();
    }

    /// <summary>The next few chars of the sample, in eval mode (the model is left in the mode it was in).</summary>
    public void SampleNext()
    {
        var wasTraining = _model.training;
        _model.eval();
        try
        {
            if (_sampler == null)
            {
                _sampler = new GenerationSession(_model, _vocabulary, _sampling);
                _sampler.Feed(_prime);
                // Bracketed: the prime is the validation text's own, and unmarked it was read as what the model wrote.
                _sample = new StringBuilder("[").Append(_prime).Append(']');
            }
            var count = Math.Min(SampleCharsPerCall, _sampleLeft);
            foreach (var c in _sampler.Generate(count)) _sample!.Append(c.Text);
            _sampleLeft -= count;
        }
        finally
        {
            _model.train(wasTraining);
        }
    }

    public void Dispose()
    {
        Validation.Dispose();
        _sampler?.Dispose();
    }
}
