namespace CharRnn.Engine.Training;

/// <summary>When a run cannot go on: an epoch's end that failed, a loss that diverged or is worse than guessing; each error says what to change and what is kept.</summary>
public sealed partial class Trainer
{
    private void ThrowIfBroken()
    {
        if (_brokenBy != null)
            throw new InvalidOperationException($"This run cannot go on: an epoch's end failed ({_brokenBy}). Resume from the last checkpoint.");
    }

    // The option is named as every client spells it (the CLI's --clip, the REPL's and the API's clip): the engine knows no flags.
    private TrainingDivergedException Diverged(double value) => new(
        $"Training diverged: the loss became {value} at step {Position.Step} (epoch {Position.Epoch + 1}). " +
        $"Lower the learning rate (now {Options.LearningRate}) or clip gradients (option clip, e.g. 1); {WhatIsKept()}");

    /// <summary>
    /// A run that diverges before its first checkpoint leaves nothing to go back to (a server removes the model),
    /// so it must not promise a checkpoint. A write still queued counts: it completes.
    /// </summary>
    private string WhatIsKept() =>
        Directory != null && (File.Exists(Path.Combine(Directory, LastCheckpoint)) || !_writer.Written.IsCompleted)
            ? "the last good checkpoint is kept."
            : "no checkpoint was saved before it diverged, so there is none to resume from.";

    /// <summary>
    /// Adam keeps a run whose learning rate is far too high finite: no NaN to fail on, yet it ends far worse
    /// than a model that learned nothing (seen: val 145 nats/char with 45 symbols). A training loss twice a
    /// uniform guess's is diverged, not young; so is a validation loss that high while the training loss is
    /// above a uniform guess's too (a model that overfits a tiny corpus has a low training loss). Checked
    /// before weights are recorded or saved, so the last good checkpoint stays.
    /// </summary>
    private void ThrowIfWorseThanGuessing(double trainLoss, double? validLoss)
    {
        var uniform = Vocabulary.UniformLoss;
        var what = validLoss > 2 * uniform && trainLoss > uniform ? ("validation", validLoss.Value)
            : trainLoss > 2 * uniform ? ("training", trainLoss)
            : default;
        if (what.Item1 == null) return;
        throw new TrainingDivergedException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Training diverged: {what.Item1} loss {what.Item2:F2} nats/char at step {Position.Step} (epoch {Position.Epoch + 1}) is more than twice what guessing every character equally likely scores ({uniform:F2}). " +
            $"Lower the learning rate (now {Options.LearningRate}); {WhatIsKept()}"));
    }
}
