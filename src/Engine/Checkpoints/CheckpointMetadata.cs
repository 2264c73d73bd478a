using CharRnn.Engine.Text;
using CharRnn.Engine.Training;

namespace CharRnn.Engine.Checkpoints;

/// <summary>The self-description stored at the head of every checkpoint (as JSON).</summary>
public sealed record CheckpointMetadata
{
    public int FormatVersion { get; init; } = CheckpointFile.FormatVersion;
    public required string Architecture { get; init; }
    public required Dictionary<string, double> HyperParameters { get; init; }
    public required VocabularyRecord Vocabulary { get; init; }
    public required CorpusRecord Corpus { get; init; }
    public required TrainingOptions Training { get; init; }
    public required TrainingPosition Position { get; init; }
    public List<EpochRecord> History { get; init; } = [];
    public long ParameterCount { get; init; }
    public DateTimeOffset Created { get; init; }
    public DateTimeOffset Saved { get; init; }
    /// <summary>Why this checkpoint was written: "epoch end", "cycle end", "best", "stopped", "finished", ...</summary>
    public string Reason { get; init; } = "";
    /// <summary>
    /// The validation loss of this checkpoint's weights when one was measured for them outside an
    /// epoch's end (a run ended between epoch ends validates its last weights); null otherwise.
    /// </summary>
    public ValidationRecord? Validation { get; init; }
    /// <summary>Where the weights came from when they were imported from a .safetensors file (charrnn import); null for a trained model.</summary>
    public ImportRecord? Imported { get; init; }
    /// <summary>The model whose weights this one's training started from (a fine-tune); null for a model trained from its seed or imported.</summary>
    public InitFromRecord? InitFrom { get; init; }

    /// <summary>The validation loss of the weights saved here, when known: <see cref="Validation"/>, or the epoch's end they were saved at.</summary>
    [System.Text.Json.Serialization.JsonIgnore] // derived, not stored
    public ValidationRecord? ValidationOfWeights =>
        Validation is { } v && v.Step == Position.Step ? v : ValidationRecord.AtEpochEnd(Position, History);
}

/// <summary>A validation pass over the held-out text: mean cross-entropy (nats/char) and accuracy of the weights at <paramref name="Step"/>.</summary>
public sealed record ValidationRecord(long Step, double Loss, double Accuracy)
{
    /// <summary>The last epoch's figures, when training stands at that epoch's end (no batch of the next one trained).</summary>
    public static ValidationRecord? AtEpochEnd(TrainingPosition position, IReadOnlyList<EpochRecord> history) =>
        position.Batch == 0 && history.Count > 0 && history[^1] is var last && last.Step == position.Step
            ? new ValidationRecord(last.Step, last.ValidLoss, last.ValidAccuracy) : null;
}

public sealed record VocabularyRecord(string[] Symbols, bool Lowercase, bool HasUnknown, long[] Counts)
{
    public static VocabularyRecord From(Vocabulary v) => new(v.Symbols.ToArray(), v.Lowercase, v.HasUnknown, v.Counts.ToArray());

    public Vocabulary ToVocabulary() => new(Symbols, Lowercase, HasUnknown, Counts);
}

/// <summary>
/// What a model was trained on. <paramref name="Characters"/>: the text's size in UTF-16 code units (an emoji beyond U+FFFF
/// is 2), which resuming compares. <paramref name="CodePoints"/>: its size in characters, code points (the emoji is 1), as
/// users read a size; 0 in checkpoints written before it was stored (a resume stores it) and for an imported model.
/// </summary>
public sealed record CorpusRecord(string Name, string Sha256, long Characters, long CodePoints = 0)
{
    public static CorpusRecord Of(Corpus corpus) => new(corpus.Name, corpus.Sha256, corpus.Length, corpus.CodePoints);
}

/// <summary>Where training stands: enough to resume exactly.</summary>
public sealed record TrainingPosition
{
    public int Epoch { get; init; }
    /// <summary>Batches of <see cref="Epoch"/> already trained.</summary>
    public int Batch { get; init; }
    public long Step { get; init; }
    public double ElapsedSeconds { get; init; }
    public double BestValidLoss { get; init; } = double.PositiveInfinity;
    /// <summary>Loss sum and characters of the current epoch so far (for its mean train loss).</summary>
    public double EpochLossSum { get; init; }
    public long EpochCharacters { get; init; }
    public bool Finished { get; init; }
}

/// <summary>One finished epoch: losses are mean cross-entropy in nats per character.</summary>
public sealed record EpochRecord(int Epoch, long Step, double TrainLoss, double ValidLoss, double ValidAccuracy,
    double LearningRate, double ElapsedSeconds, string? Sample);
