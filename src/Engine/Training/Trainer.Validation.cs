using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training;

/// <summary>The trainer's epoch ends: validation (whole, or a batch per call), the epoch's record and its sample.</summary>
public sealed partial class Trainer
{
    private void BeginEpochEnd()
    {
        ReportProgress(); // the epoch's last interval, before its counters reset
        if (_searchFactor != null) return; // a search's step moves on to the next epoch itself (StepAtFactor)
        var trainLoss = _epochLossSum.item<double>() / Math.Max(1, _epochChars);
        if (!double.IsFinite(trainLoss)) throw Diverged(trainLoss);
        _epochEnd = new EpochEnd(Model, Vocabulary, trainLoss, new ValidationPass(Model, _data.Valid, Device),
            Options.SampleChars, SamplePrime(), SampleSettings(Position.Epoch + 1));
    }

    /// <summary>One unit of the epoch's end: a validation batch, a few sample chars, the record, or one checkpoint.</summary>
    private void ContinueEpochEnd()
    {
        var end = _epochEnd!;
        if (end.Validated is not { } validated)
        {
            end.ValidateNext();
            if (end.Validated is { Loss: var loss } && !double.IsFinite(loss)) throw Diverged(loss);
            if (end.Validated is { Loss: var validLoss }) ThrowIfWorseThanGuessing(end.TrainLoss, validLoss);
            return;
        }
        if (!end.IsSampled)
        {
            end.SampleNext();
            return;
        }
        if (end.Saves == null) RecordEpoch(end, validated);
        else if (end.Saves.TryDequeue(out var save)) WriteCheckpoint(save.Reason, save.File);
        if (end.Saves!.Count > 0) return;

        _epochEnd = null;
        end.Dispose();
        if (end.IsCycleEnd) CycleEnded?.Invoke(Position.Epoch);
        _lastReportAt = _clock.Elapsed; // validation and checkpoints are not training time for chars/s
    }

    /// <summary>The epoch's loss and char counters back to zero, and the next epoch's state a zero one.</summary>
    private void ResetEpochCounters()
    {
        _epochLossSum.fill_(HeldScalars.Zero); // not zero_(): in TorchSharp 0.107 it returns a new tensor and leaves this one as it was
        _epochChars = 0;
        _lastReportSum = 0;
        _lastReportChars = 0;
        _hidden?.Dispose();
        _hidden = null; // each epoch starts from a zero state: a choice (the lesson's models carry h across epochs), so that an epoch's result does not hang on the one before
    }

    /// <summary>Drops the sample of up to <paramref name="records"/> records older than the <see cref="SampledEpochsKept"/> latest.</summary>
    private void DropOldSamples(int records)
    {
        for (int i = History.Count - SampledEpochsKept - 1; i >= 0 && records-- > 0; i--)
            History[i] = History[i] with { Sample = null };
    }

    /// <summary>The epoch's record and the move to the next epoch; lists the checkpoints to write.</summary>
    private void RecordEpoch(EpochEnd end, (double Loss, double Accuracy) validated)
    {
        var completed = Position.Epoch + 1;
        var record = new EpochRecord(completed, Position.Step, end.TrainLoss, validated.Loss, validated.Accuracy, _currentLearningRate, ElapsedSeconds, end.Sample);
        History.Add(record);
        DropOldSamples(1);
        if (!Options.Reached(Position with { Epoch = completed })) _stoppedEarly = EarlyStopping.Reason(Options.Patience, Options.MinDelta, History); // the last epoch ends the run anyway, as it says

        ResetEpochCounters();
        var isBest = validated.Loss < Position.BestValidLoss;
        Position = Position with { Epoch = completed, Batch = 0, BestValidLoss = Math.Min(validated.Loss, Position.BestValidLoss) };
        EpochEnded?.Invoke(record);

        end.IsCycleEnd = _schedule.IsCycleEnd(completed);
        end.Saves = new Queue<(string, string)>();
        if (Directory == null) return;
        // last.ckpt first: a crash between the two writes leaves a model that can be resumed (and generated from),
        // where a lone best.ckpt could be neither resumed nor trained over.
        end.Saves.Enqueue((end.IsCycleEnd ? "cycle end" : "epoch end", LastCheckpoint));
        if (isBest) end.Saves.Enqueue(("best validation loss", BestCheckpoint));
        if (end.IsCycleEnd && Options.KeepCycleCheckpoints)
            end.Saves.Enqueue(("cycle end", CycleCheckpoint(_schedule.CyclesEndedBy(completed)))); // cycles ending between epochs count too
    }

    /// <summary>
    /// The validation loss and accuracy of the weights as they are, when something measured them:
    /// the epoch's end they stopped at, or a <see cref="ValidatePiece"/> pass since their last step. Null otherwise.
    /// </summary>
    public (double Loss, double Accuracy)? CurrentValidation =>
        _currentWeightsPass is { IsDone: true } pass ? pass.Result()
        : _split == null && _epochEnd == null && ValidationRecord.AtEpochEnd(Position, History) is { } atEnd ? (atEnd.Loss, atEnd.Accuracy) : null;

    /// <summary>
    /// Validates the weights as they are, <paramref name="batches"/> batches a call, so that a device
    /// shared with other work (the server's streams) is never held for the whole pass, as an epoch's
    /// end is run: for a run that ends between epoch ends (max_steps, a time budget). Returns true
    /// once <see cref="CurrentValidation"/> holds the result; training on starts it over.
    /// </summary>
    public bool ValidatePiece(int batches)
    {
        if (_split != null || _epochEnd != null) throw new InvalidOperationException("A step or an epoch's end is part way through: validate between steps.");
        _currentWeightsPass ??= new ValidationPass(Model, _data.Valid, Device);
        _currentWeightsPass.Advance(batches);
        return _currentWeightsPass.IsDone;
    }

    /// <summary>
    /// A run that ends between epoch ends validates its last weights, so its end and its checkpoint can
    /// say how good they are; a few batches at a time, so that a stop (Ctrl+C) cuts it short and saves at once.
    /// </summary>
    private void ValidateCurrentWeights(CancellationToken cancellation)
    {
        while (CurrentValidation == null && !cancellation.IsCancellationRequested && !ValidatePiece(8)) { }
    }

    /// <summary>Mean cross-entropy (nats/char) and accuracy over the validation data, in eval mode.</summary>
    public (double Loss, double Accuracy) Validate()
    {
        using var pass = new ValidationPass(Model, _data.Valid, Device);
        pass.Advance(int.MaxValue);
        return pass.Result();
    }

    /// <summary>The first line of the validation text, up to 16 chars: what each epoch's sample starts from.</summary>
    private string SamplePrime()
    {
        // By characters as seen (runes), not UTF-16 units: half an emoji is not text the model knows.
        var runes = _data.ValidText.EnumerateRunes();
        var prime = string.Concat(runes.TakeWhile(r => r.Value != '\n').Take(16));
        return prime.Length > 0 ? prime : string.Concat(runes.Take(8));
    }

    private SamplingSettings SampleSettings(int epoch) => new(Temperature: 0.8, Seed: (ulong)(Options.Seed + epoch));
}
