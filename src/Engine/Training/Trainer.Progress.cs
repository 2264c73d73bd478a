namespace CharRnn.Engine.Training;

/// <summary>The progress the trainer reports (a bounded rate of <see cref="Progress"/> events) and the steps it expects the run to take.</summary>
public sealed partial class Trainer
{
    private void ReportProgress()
    {
        if (Progress == null) { _lastReportAt = _clock.Elapsed; return; }
        var sum = _epochLossSum.item<double>();
        var now = _clock.Elapsed;
        var chars = _epochChars - _lastReportChars;
        var loss = chars > 0 ? (sum - _lastReportSum) / chars : History.LastOrDefault()?.TrainLoss ?? double.NaN;
        if (chars > 0 && !double.IsFinite(loss)) throw Diverged(loss);
        var seconds = (now - _lastReportAt).TotalSeconds;
        var steps = Position.Step - _lastReportStep;
        var rate = seconds > 0 ? chars / seconds : 0;
        var totalSteps = EstimateTotalSteps();
        TimeSpan? remaining = steps > 0 && seconds > 0
            ? TimeSpan.FromSeconds(Math.Max(0, totalSteps - Position.Step) * seconds / steps)
            : null;
        // A time budget that runs out first ends the run sooner: the remaining time is what is left of it,
        // and the total the steps it leaves room for at this rate (so a progress bar fills by it).
        if (Options.TimeBudget is { } budget && _runClock.IsRunning && (budget - _runClock.Elapsed) is var left && (remaining == null || left < remaining))
        {
            remaining = left > TimeSpan.Zero ? left : TimeSpan.Zero;
            if (steps > 0 && seconds > 0) totalSteps = Math.Min(totalSteps, Position.Step + (long)(remaining.Value.TotalSeconds * steps / seconds));
        }
        _lastReportAt = now;
        _lastReportSum = sum;
        _lastReportChars = _epochChars;
        _lastReportStep = Position.Step;
        var batches = BatchesInEpochSafe();
        Progress(new TrainingProgress(Position.Step, Position.Epoch, Position.Batch, batches,
            Position.Epoch + (double)Position.Batch / Math.Max(1, batches), loss, _currentLearningRate, rate,
            TimeSpan.FromSeconds(ElapsedSeconds), remaining, totalSteps));
    }

    /// <summary>Steps the whole run will take (epochs × batches, or max_steps if sooner).</summary>
    public long EstimateTotalSteps()
    {
        if (_stepsForEpochs == null)
        {
            // Batches per epoch vary with random bptt; count them once (it is cheap) and restore the current epoch's plan.
            long total = 0;
            for (int e = 0; e < Options.Epochs && (Options.MaxSteps == 0 || total < Options.MaxSteps); e++) total += _data.Train.BatchesPerEpoch(e);
            _data.Train.BatchesPerEpoch(Position.Epoch);
            _stepsForEpochs = total;
        }
        return Math.Max(Position.Step, Options.MaxSteps > 0 ? Math.Min(Options.MaxSteps, _stepsForEpochs.Value) : _stepsForEpochs.Value);
    }

    private int BatchesInEpochSafe() => _data.Train.BatchesPerEpoch(Math.Min(Position.Epoch, Options.Epochs - 1));
}
