using System.Globalization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// What `charrnn models --json` and `charrnn archs --json` print, as objects for System.Text.Json: the tables' facts as
/// typed fields with snake_case names (as eval --json and lr-find --json write theirs). Every model object has every
/// field; one that cannot be read has its error and nulls where its figures would be, not a gap in the list.
/// </summary>
public static class ModelJson
{
    public static object Summary(ModelListing m)
    {
        var meta = m.Metadata;
        return new
        {
            name = m.Name,
            folder = m.Folder,
            architecture = meta?.Architecture,
            hyperparameters = meta?.HyperParameters.OrderBy(h => h.Key, StringComparer.Ordinal).ToDictionary(h => h.Key, h => h.Value),
            parameters = meta?.ParameterCount,
            epochs = meta?.Position.Epoch,
            steps = meta?.Position.Step,
            // The best epoch's (best.ckpt's); null before an epoch has ended, or for an imported model, never validated here.
            best_valid_loss = meta is not null && double.IsFinite(meta.Position.BestValidLoss) ? meta.Position.BestValidLoss : (double?)null,
            // That of the last weights, when measured (at an epoch's end, or when a run stopped between epoch ends).
            last_valid_loss = meta?.ValidationOfWeights is { } v && double.IsFinite(v.Loss) ? v.Loss : (double?)null,
            corpus = meta?.Corpus.Name,
            lowercase = meta?.Vocabulary.Lowercase,
            bytes = m.Bytes,
            saved = meta is null ? null : ScriptJson.Utc(meta.Saved),
            imported = meta is null ? (bool?)null : meta.Imported is not null,
            imported_from = meta?.Imported?.File,
            generation_checkpoint = m.CheckpointPath is null ? null : Path.GetFileName(m.CheckpointPath),
            warning = m.Warning,
            error = m.Error,
        };
    }

    /// <summary>One model's details (`charrnn models NAME --json`): its summary's fields, how it was trained, its epochs and checkpoints.</summary>
    public static object Details(ModelListing m, IReadOnlyList<StoredCheckpoint> checkpoints)
    {
        var meta = m.Metadata ?? throw ModelsCommand.Unreadable(m);
        var o = meta.Training;
        return new
        {
            model = Summary(m),
            training = new
            {
                optimizer = o.Optimizer,
                lr = Groups(o.LearningRate),
                wd = Groups(o.WeightDecay),
                schedule = o.Schedule,
                clip = o.Clip,
                patience = o.Patience,
                min_delta = o.MinDelta,
                min_freq = o.MinFrequency,
                val_fraction = o.ValidFraction,
                seed = o.Seed,
                epochs = o.Epochs,
                max_steps = o.MaxSteps,
            },
            corpus_sha256 = meta.Corpus.Sha256,
            corpus_characters = meta.Corpus.Characters, // UTF-16 units, as it always said: a script may compare it
            // In characters, as users count them: unknown (null) in a checkpoint saved before it was stored, until a resume stores it.
            corpus_code_points = meta.Corpus.CodePoints > 0 || meta.Corpus.Characters == 0 ? meta.Corpus.CodePoints : (long?)null,
            created = ScriptJson.Utc(meta.Created),
            vocabulary = meta.Vocabulary.Symbols.Skip(1).ToArray(), // index 0 is padding
            history = meta.History.Select(e => new
            {
                epoch = e.Epoch, step = e.Step, train_loss = e.TrainLoss, valid_loss = e.ValidLoss, valid_accuracy = e.ValidAccuracy,
                lr = e.LearningRate, elapsed_seconds = e.ElapsedSeconds, sample = e.Sample,
            }),
            checkpoints = checkpoints.Select(c => new
            {
                file = c.File, bytes = c.Bytes, epoch = c.Metadata?.Position.Epoch, step = c.Metadata?.Position.Step,
                valid_loss = c.Metadata?.ValidationOfWeights is { } v && double.IsFinite(v.Loss) ? v.Loss : (double?)null,
                reason = c.Metadata?.Reason, saved = c.Metadata is { } saved ? ScriptJson.Utc(saved.Saved) : null, error = c.Error,
            }),
        };
    }

    /// <summary>
    /// One architecture as `charrnn archs` lists it: its hyperparameters, the training options with its own defaults
    /// (lr and wd are each architecture's; the table lists the rest once for all), its recipes.
    /// </summary>
    public static object Architecture(Architecture a) => new
    {
        name = a.Name,
        description = a.Summary,
        lesson_class = LessonNames.ClassOf(a.Name), // the notebook's name for it (CharSeqStatefulLSTM)
        stateful = a.IsStateful,
        hyperparameters = a.Parameters.Select(Spec),
        training_options = TrainingOptions.Specs(a).Select(Spec),
        optimizers = TrainingOptions.Optimizers,
        recipes = TrainingRecipe.All.Where(r => r.Architecture == a.Name).Select(r => new { name = r.Name, command = r.Command }),
    };

    public static object Spec(HyperParameterSpec p) => new
    {
        name = p.Name, flag = p.Flag, type = p.Type.ToString().ToLowerInvariant(), @default = p.Default, min = p.Min, max = p.Max, doc = p.Doc,
    };

    private static double[] Groups(LayerGroupValues v) => v.IsUniform ? [v.Embedding] : [v.Embedding, v.Recurrent, v.Output];
}
