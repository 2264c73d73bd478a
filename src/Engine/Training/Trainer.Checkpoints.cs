using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Storage;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training;

/// <summary>The trainer's checkpoints: what one holds, writing it (in the background, atomically), and restoring from it.</summary>
public sealed partial class Trainer
{
    /// <summary>A model whose checkpoint (its weights and Adam's two moments of each) could not be written is refused before it trains.</summary>
    private static void CheckCheckpointFits(CharModel model, HyperParameters hyperParameters)
    {
        var bytes = 3 * model.parameters().Sum(p => p.NumberOfElements * p.ElementSize) + (1L << 20);
        if (bytes > CheckpointFile.MaxBytes)
            throw new ArgumentException($"This model ({hyperParameters}) has {model.ParameterCount:N0} weights: its checkpoint, the weights and Adam's two moments of each, " +
                                        $"would take {bytes / 1e9:F1} GB, more than the {CheckpointFile.MaxBytes / 1e9:F1} GB a checkpoint holds. Lower n_hidden or layers.");
    }

    /// <summary>
    /// A run that died between last.ckpt and best.ckpt at an epoch's end or a run's end (kill -9, a full disk
    /// on the second write) left last.ckpt recording a best validation loss that best.ckpt does not hold, and
    /// no later epoch may beat it to write best.ckpt again; generation would use the older weights.
    /// Both were captured at that point, so when last.ckpt's weights are the ones that loss was measured
    /// for, they are the best's: copied over (atomically).
    /// </summary>
    private static void RepairBest(string directory, string checkpointPath)
    {
        if (Path.GetFileName(checkpointPath) != LastCheckpoint) return;
        var last = CheckpointFile.ReadMetadata(checkpointPath);
        if (last.ValidationOfWeights is not { } weights || weights.Loss != last.Position.BestValidLoss) return;
        var best = Path.Combine(directory, BestCheckpoint);
        try
        {
            if (File.Exists(best) && CheckpointFile.ReadMetadata(best).Position.BestValidLoss <= last.Position.BestValidLoss) return;
        }
        catch (CheckpointException) { } // a damaged best.ckpt is replaced too
        AtomicFile.WriteAllBytes(best, File.ReadAllBytes(checkpointPath));
    }

    /// <summary>
    /// Last weights validated at the run's end (it ended between epoch ends) that beat every saved epoch's are
    /// the model's best: their loss becomes the best, and the caller saves them as best.ckpt too, after
    /// last.ckpt as at an epoch's end, so that generation uses the weights the run's end reported.
    /// </summary>
    private bool TakeValidatedAsBest()
    {
        if (Directory == null || _currentWeightsPass is not { IsDone: true } pass || pass.Result().Loss >= Position.BestValidLoss) return false;
        Position = Position with { BestValidLoss = pass.Result().Loss };
        return true;
    }

    /// <summary>Writes the full training state to <see cref="Directory"/>/<paramref name="fileName"/> and waits for the file.</summary>
    public string SaveCheckpoint(string reason, string fileName = LastCheckpoint)
    {
        var path = QueueCheckpoint(reason, fileName);
        FlushCheckpoints();
        return path;
    }

    /// <summary>
    /// Takes the full training state now and writes it in the background (<see cref="CheckpointSaved"/>
    /// follows once the file is complete). Training can go on at once: the state is copied first.
    /// </summary>
    public string QueueCheckpoint(string reason, string fileName = LastCheckpoint)
    {
        if (Directory == null) throw new InvalidOperationException("This trainer has no model folder to save to.");
        ThrowIfBroken();
        FinishStep();
        return WriteCheckpoint(reason, fileName);
    }

    /// <summary>Waits for checkpoints still being written and raises <see cref="CheckpointSaved"/> for each; a failed write throws here.</summary>
    public void FlushCheckpoints()
    {
        _writer.WaitAll();
        RaiseCheckpointsSaved();
    }

    /// <summary>Takes this moment as it is (a split step or an epoch's end in progress is the caller's to finish first) and queues its write.</summary>
    private string WriteCheckpoint(string reason, string fileName)
    {
        var path = Path.Combine(Directory!, fileName);
        using (var checkpoint = Capture(reason))
            _writer.Queue(path, CheckpointFile.Encode(checkpoint), new CheckpointSaved(path, reason, Position.Step, Position.Epoch));
        return path;
    }

    private void RaiseCheckpointsSaved()
    {
        foreach (var saved in _writer.TakeCompleted()) CheckpointSaved?.Invoke(saved);
    }

    private Checkpoint Capture(string reason)
    {
        // Divergence shows in the loss only when progress is next reported, or in the next step's loss:
        // a checkpoint in between must not replace the last good one with NaN weights.
        var lossSum = _epochLossSum.item<double>();
        if (_epochChars > 0 && !double.IsFinite(lossSum)) throw Diverged(lossSum / _epochChars);
        if (_epochChars > 0) ThrowIfWorseThanGuessing(lossSum / _epochChars, CurrentValidation?.Loss); // a save mid-epoch, or a run's end between epoch ends
        using (var scope = NewDisposeScope())
            if (Model.parameters().Any(p => !isfinite(p).all().item<bool>())) throw Diverged(double.NaN);
        var tensors = new Dictionary<string, Tensor>();
        using (var scope = NewDisposeScope())
        {
            foreach (var (name, t) in Model.state_dict()) tensors["model/" + name] = t.detach().cpu();
            if (_hidden != null)
                for (int i = 0; i < _hidden.Parts.Length; i++) tensors[$"state/{i}"] = _hidden.Parts[i].detach().cpu();
            foreach (var t in tensors.Values) t.MoveToOuterDisposeScope(); // the checkpoint owns them; intermediates go
        }
        // Adam keeps two moments per weight; sized for them up front, growing by doubling copies tens of MB.
        var weightBytes = Model.parameters().Sum(p => p.NumberOfElements * p.ElementSize);
        using var optimizerState = new MemoryStream((int)Math.Min(2 * weightBytes + 65_536, Array.MaxLength));
        using (var writer = new BinaryWriter(optimizerState, System.Text.Encoding.UTF8, leaveOpen: true))
            _optimizer.save_state_dict(writer);
        var position = Position with
        {
            ElapsedSeconds = ElapsedSeconds,
            EpochLossSum = lossSum,
            EpochCharacters = _epochChars,
        };
        var metadata = new CheckpointMetadata
        {
            Architecture = Architecture.Name,
            HyperParameters = HyperParameters.Values.ToDictionary(kv => kv.Key, kv => kv.Value),
            Vocabulary = VocabularyRecord.From(Vocabulary),
            Corpus = _corpus,
            Training = Options,
            Position = position,
            History = History.ToList(),
            ParameterCount = Model.ParameterCount,
            Created = Created,
            Saved = DateTimeOffset.UtcNow,
            Reason = reason,
            InitFrom = StartedFrom,
            Validation = _currentWeightsPass is { IsDone: true } pass && pass.Result() is var (loss, accuracy) ? new ValidationRecord(Position.Step, loss, accuracy) : null,
        };
        return new Checkpoint(metadata, tensors, new Dictionary<string, byte[]> { ["optimizer"] = optimizerState.ToArray() });
    }

    private void RestoreState(Checkpoint checkpoint, string path)
    {
        if (checkpoint.Blobs.TryGetValue("optimizer", out var optimizerState))
        {
            try
            {
                using var reader = new BinaryReader(new MemoryStream(optimizerState));
                _optimizer.load_state_dict(reader);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or EndOfStreamException)
            {
                throw new CheckpointException(path, $"its optimizer state does not fit this model and optimizer '{Options.Optimizer}' ({e.Message})");
            }
            // The saved state carries each group's options too: a resume that changes weight decay means it.
            // (The learning rate is set before every step.)
            foreach (var (group, paramGroup) in _groups)
            {
                switch (paramGroup.Options)
                {
                    case AdamW.Options adamW: adamW.weight_decay = Options.WeightDecay[group]; break;
                    case Adam.Options adam: adam.weight_decay = Options.WeightDecay[group]; break;
                }
            }
        }
        var parts = checkpoint.WithPrefix("state/").OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value.to(Device)).ToArray();
        if (parts.Length > 0) _hidden = new RecurrentState(parts, batchDim: 1).DetachFromDisposeScope();
    }
}
