using System.Diagnostics;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Storage;
using CharRnn.Engine.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CharRnn.Engine.Training;

/// <summary>
/// Trains one model, one batch per <see cref="Step"/>, so a caller can run it to the end
/// (<see cref="Run"/>: the CLI) or a slice at a time between other work (the server's device
/// loop). Each step runs in its own dispose scope; the carried hidden state, the loss
/// accumulator and the optimizer state are the only tensors that outlive it. The loss is read
/// back from the device only when progress is reported, not every step.
///
/// Everything an uninterrupted run depends on is either saved in the checkpoint (weights,
/// optimizer state, hidden state, position, loss sums) or a pure function of the position (batch
/// order, bptt lengths, learning rate, dropout's seed), so resuming reproduces it exactly.
/// </summary>
public sealed class Trainer : IDisposable
{
    public const string LastCheckpoint = "last" + CheckpointFile.Extension;
    public const string BestCheckpoint = "best" + CheckpointFile.Extension;

    /// <summary>The file that keeps the end of SGDR cycle <paramref name="cycle"/> (1, 2, …) with <see cref="TrainingOptions.KeepCycleCheckpoints"/>.</summary>
    public static string CycleCheckpoint(int cycle) => $"cycle-{cycle}{CheckpointFile.Extension}";

    /// <summary>Every <see cref="CycleCheckpoint"/>, as a file-name pattern.</summary>
    public const string CycleCheckpoints = "cycle-*" + CheckpointFile.Extension;

    /// <summary>
    /// Epoch records keep their sample text for this many of the latest epochs; older ones keep
    /// only their numbers. Each checkpoint carries the whole history, so samples of up to 10,000
    /// characters over thousands of epochs would grow every checkpoint (and every model listing) without bound.
    /// </summary>
    public const int SampledEpochsKept = 20;

    private readonly TrainingData _data;
    private readonly OptimizerHelper _optimizer;
    private readonly List<(LayerGroup Group, ParamGroup ParamGroup)> _groups;
    private readonly LearningRateSchedule _schedule;
    private readonly Tensor _epochLossSum; // float64 on the device: Σ loss × chars this epoch
    private readonly Stopwatch _clock = new();
    private readonly CorpusRecord _corpus;
    private readonly CheckpointWriter<CheckpointSaved> _writer = new();
    private RecurrentState? _hidden;
    private ISplitStep? _split;
    private int _splitPieces;
    private int _piecesRun; // of the current batch
    /// <summary>The split step's gradient is complete; its optimizer step is the next call.</summary>
    private bool _gradientReady;
    private double _elapsedBefore;
    private long _epochChars;
    private double _currentLearningRate;
    // Progress accounting between two reports.
    private TimeSpan _lastReportAt;
    private double _lastReportSum;
    private long _lastReportChars;
    private long _lastReportStep;

    private Trainer(Architecture architecture, HyperParameters hyperParameters, TrainingOptions options, Vocabulary vocabulary,
        CharModel model, TrainingData data, CorpusRecord corpus, Device device, string? directory,
        TrainingPosition position, List<EpochRecord> history, DateTimeOffset created)
    {
        Architecture = architecture;
        HyperParameters = hyperParameters;
        Options = options;
        Vocabulary = vocabulary;
        Model = model;
        Device = device;
        Directory = directory;
        if (directory != null) // this trainer owns the folder now: clear what a write cut short by a crash left
            foreach (var file in new[] { LastCheckpoint, BestCheckpoint, CycleCheckpoints }) AtomicFile.DeleteLeftovers(directory, file);
        Position = position;
        History = history;
        DropOldSamples(History.Count); // a checkpoint from before the limit holds them all
        Created = created;
        _data = data;
        _corpus = corpus;
        _schedule = LearningRateSchedule.Parse(options.Schedule);
        _elapsedBefore = position.ElapsedSeconds;
        _epochChars = position.EpochCharacters;
        _epochLossSum = tensor(position.EpochLossSum, ScalarType.Float64).to(device).DetachFromDisposeScope();
        _lastReportSum = position.EpochLossSum;
        _lastReportChars = position.EpochCharacters;
        _lastReportStep = position.Step;

        _groups = model.named_parameters()
            .GroupBy(p => LayerGroups.Of(p.name))
            .OrderBy(g => g.Key)
            .Select(g => (g.Key, (ParamGroup)MakeGroup(g.Select(p => p.parameter).ToList(), g.Key)))
            .ToList();
        _optimizer = options.Optimizer == "adamw"
            ? new Optimizers.AdamW(_groups.Select(g => (AdamW.ParamGroup)g.ParamGroup))
            : new Optimizers.Adam(_groups.Select(g => (Adam.ParamGroup)g.ParamGroup));
        model.train();
    }

    public Architecture Architecture { get; }
    public HyperParameters HyperParameters { get; }
    public TrainingOptions Options { get; }
    public Vocabulary Vocabulary { get; }
    public CharModel Model { get; }
    public Device Device { get; }
    /// <summary>The model folder checkpoints go to (null: none are written).</summary>
    public string? Directory { get; }
    public TrainingPosition Position { get; private set; }
    public List<EpochRecord> History { get; }
    public DateTimeOffset Created { get; }

    /// <summary>All epochs or steps are done, the last epoch's end (validation, checkpoints) included.</summary>
    public bool IsComplete => _epochEnd == null && Options.Reached(Position);

    /// <summary>Batches in the current epoch.</summary>
    public int BatchesInEpoch => _data.Train.BatchesPerEpoch(Position.Epoch);

    /// <summary>Progress at a bounded rate (<see cref="TrainingOptions.ProgressInterval"/>).</summary>
    public event Action<TrainingProgress>? Progress;
    /// <summary>After every batch (no device sync is done for it).</summary>
    public event Action<long>? BatchEnded;
    public event Action<EpochRecord>? EpochEnded;
    /// <summary>An SGDR cycle ended at this many completed epochs.</summary>
    public event Action<int>? CycleEnded;
    /// <summary>A checkpoint file is complete on disk; raised on the thread that calls the trainer.</summary>
    public event Action<CheckpointSaved>? CheckpointSaved;

    /// <summary>A new model of <paramref name="architecture"/>, seeded, with its vocabulary built from the corpus.</summary>
    public static Trainer Create(Architecture architecture, HyperParameters hyperParameters, TrainingOptions options,
        Corpus corpus, Device device, string? directory)
    {
        options.Validate();
        var vocabulary = Vocabulary.Build(corpus.Text, options.Lowercase, options.MinFrequency);
        if (vocabulary.Size == 1) // padding alone: every other symbol would have a logit of -inf at the first sample
            throw new CorpusException($"Corpus '{corpus.Name}' holds only NUL characters, which stand for padding, not text: there is nothing to learn.");
        var data = TrainingData.Build(architecture, hyperParameters, options, corpus, vocabulary, device);
        CharModel? model = null;
        try
        {
            lock (TorchRuntime.DefaultGenerators)
            {
                TorchRuntime.Seed(options.Seed);
                model = architecture.Create(hyperParameters, vocabulary.Size, device.type);
            }
            CheckCheckpointFits(model, hyperParameters);
            model.to(device);
            return new Trainer(architecture, hyperParameters, options, vocabulary, model, data,
                new CorpusRecord(corpus.Name, corpus.Sha256, corpus.Length), device, directory,
                new TrainingPosition(), [], DateTimeOffset.UtcNow);
        }
        catch
        {
            model?.Dispose();
            data.Dispose();
            throw;
        }
    }

    /// <summary>A model whose checkpoint (its weights and Adam's two moments of each) could not be written is refused before it trains.</summary>
    private static void CheckCheckpointFits(CharModel model, HyperParameters hyperParameters)
    {
        var bytes = 3 * model.parameters().Sum(p => p.NumberOfElements * p.ElementSize) + (1L << 20);
        if (bytes > CheckpointFile.MaxBytes)
            throw new ArgumentException($"This model ({hyperParameters}) has {model.ParameterCount:N0} weights: its checkpoint, the weights and Adam's two moments of each, " +
                                        $"would take {bytes / 1e9:F1} GB, more than the {CheckpointFile.MaxBytes / 1e9:F1} GB a checkpoint holds. Lower n_hidden or layers.");
    }

    /// <summary>
    /// Continues from a checkpoint exactly where it stopped. <paramref name="change"/> may extend
    /// the run (epochs, max steps, time budget); the corpus must be the one it was trained on.
    /// </summary>
    public static Trainer Resume(string checkpointPath, Corpus corpus, Device device, string? directory,
        Func<TrainingOptions, TrainingOptions>? change = null)
    {
        if (directory != null) RepairBest(directory, checkpointPath);
        using var checkpoint = CheckpointFile.Read(checkpointPath);
        var meta = checkpoint.Metadata;
        if (meta.Corpus.Sha256 != corpus.Sha256)
            throw new CorpusException($"Checkpoint '{checkpointPath}' was trained on corpus '{meta.Corpus.Name}' (SHA-256 {meta.Corpus.Sha256[..12]}…), " +
                                      $"but '{corpus.Name}' (SHA-256 {corpus.Sha256[..12]}…) was given. Resume with the same corpus.");
        // A time budget bounds one run: a resumed run has none unless it is given one again.
        var stored = meta.Training with { TimeBudget = null };
        var options = (change?.Invoke(stored) ?? stored).Validate();
        var (architecture, hyperParameters, vocabulary, model) = TrainedModel.Build(checkpoint, checkpointPath, device.type);
        TrainingData? data = null;
        Trainer? trainer = null;
        try
        {
            model.to(device);
            data = TrainingData.Build(architecture, hyperParameters, options, corpus, vocabulary, device);
            var position = meta.Position with { Finished = false };
            trainer = new Trainer(architecture, hyperParameters, options, vocabulary, model, data, meta.Corpus, device,
                directory, position, meta.History.ToList(), meta.Created);
            trainer.RestoreState(checkpoint, checkpointPath);
            return trainer;
        }
        catch
        {
            // A long-lived server would keep the model on its device otherwise.
            if (trainer != null) trainer.Dispose();
            else
            {
                data?.Dispose();
                model.Dispose();
            }
            throw;
        }
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

    /// <summary>Trains one batch; at the end of an epoch also validates, samples and checkpoints.</summary>
    public void Step()
    {
        while (!StepPiece(1)) { }
        while (InEpochEnd) StepPiece(1);
    }

    /// <summary>Characters the next batch predicts (batch lengths vary with random bptt), to size its pieces.</summary>
    public long NextBatchCharacters
    {
        get
        {
            if (IsComplete || InEpochEnd) return 0;
            using var scope = NewDisposeScope();
            return _data.Train.Get(Position.Epoch, Position.Batch).Characters;
        }
    }

    /// <summary>A batch split into pieces is part way through: its optimizer step has not run yet.</summary>
    public bool InStep => _split != null;

    /// <summary>
    /// An epoch's end is part way through: each <see cref="StepPiece"/> call runs one unit of it
    /// (a validation batch, a few chars of the sample, the epoch's record, one checkpoint).
    /// </summary>
    public bool InEpochEnd => _epochEnd != null;

    private EpochEnd? _epochEnd;

    /// <summary>
    /// Trains the next piece of the current batch, cut into about <paramref name="pieces"/> calls
    /// when it starts, so the caller gets control back every few milliseconds (the server
    /// generates between pieces): stream models cut the step in time (<see cref="TimeSplitStep"/>),
    /// windowed ones in rows (<see cref="RowSplitStep"/>). Gradients add up, and the optimizer
    /// steps after the last piece; the gradient is the whole batch's up to float rounding
    /// (dropout masks are drawn per piece). Returns true when the batch is done (its optimizer
    /// step). After an epoch's last batch the following calls run the epoch's end
    /// (<see cref="InEpochEnd"/>) and return false.
    /// </summary>
    public bool StepPiece(int pieces)
    {
        ThrowIfBroken();
        if (IsComplete) throw new InvalidOperationException("Training is complete; resume with more epochs or steps to continue.");
        RaiseCheckpointsSaved();
        _currentWeightsPass?.Dispose(); // the weights it measured are about to change
        _currentWeightsPass = null;
        _clock.Start();
        try
        {
            if (_epochEnd != null)
            {
                ContinueEpochEnd();
                return false;
            }
            int epoch = Position.Epoch, batchIndex = Position.Batch, batches = BatchesInEpoch;
            if (_split == null)
            {
                SetLearningRates(_schedule.Factor(epoch + (double)batchIndex / batches));
                _split = ISplitStep.For(Architecture.Layout, pieces);
                _splitPieces = pieces;
                _piecesRun = 0;
            }
            long chars;
            using (NewDisposeScope())
            {
                var batch = _data.Train.Get(epoch, batchIndex);
                chars = batch.Characters;
                if (!_gradientReady)
                {
                    if (!_split.Started) _optimizer.zero_grad(); // in the scope: it makes tensor handles
                    // On CUDA once per run: each manual_seed makes cuDNN's LSTM rebuild its dropout state
                    // on the next forward, with a host sync, every step.
                    var pieceSeed = DropoutSeed(Options.Seed, Position.Step, _piecesRun);
                    if (!_seeded || Device.type == DeviceType.CPU) TorchRuntime.Seed(pieceSeed);
                    _seeded = true;
                    _piecesRun++;
                    bool stepDone;
                    using (ThreadSeeds.Use(pieceSeed)) stepDone = _split.RunPiece(Model, batch, _hidden, _epochLossSum); // the CPU's masks: see ThreadSeeds
                    if (!stepDone) return false;
                    // A step in pieces takes its optimizer step in a call of its own: clipping and Adam
                    // over the LSTM's 3.3M weights add ~3 ms to its last backward segment, which was
                    // then the longest call a stream waited for.
                    if (_splitPieces > 1)
                    {
                        _gradientReady = true;
                        return false;
                    }
                }
                _gradientReady = false;

                if (Options.Clip > 0) ClipGradients();
                _optimizer.step();
                if (_split.TakeState() is { } carried)
                {
                    _hidden?.Dispose();
                    _hidden = carried;
                }
            }
            _split.Dispose();
            _split = null;
            _epochChars += chars;
            Position = Position with { Batch = batchIndex + 1, Step = Position.Step + 1 };
            BatchEnded?.Invoke(Position.Step);
            if (Position.Batch >= batches) BeginEpochEnd();
            else if (_clock.Elapsed - _lastReportAt >= Options.ProgressInterval || IsComplete) ReportProgress();
            return true;
        }
        catch (Exception e)
        {
            // A batch that failed can be tried again; an epoch's end cannot: its batches are all counted,
            // but the epoch was never recorded, so neither stepping on nor saving would be right.
            if (_epochEnd != null || Position.Batch >= BatchesInEpoch) _brokenBy = e.Message;
            _gradientReady = false;
            _split?.Dispose();
            _split = null;
            _epochEnd?.Dispose();
            _epochEnd = null;
            throw;
        }
        finally
        {
            _clock.Stop();
        }
    }

    /// <summary>Finishes a batch or an epoch's end that is part way through, so what is saved is a whole step.</summary>
    private void FinishStep()
    {
        while (_split != null || _epochEnd != null) StepPiece(1);
    }

    /// <summary>
    /// Trains until complete, cancelled or out of time budget. A stop saves a checkpoint first
    /// (cancellation is checked between batches, so it takes effect within one batch).
    /// </summary>
    public TrainingOutcome Run(CancellationToken cancellation = default)
    {
        _runClock.Restart();
        try
        {
            while (!IsComplete)
            {
                if (cancellation.IsCancellationRequested) return Stop("stopped on request");
                if (Options.TimeBudget is { } budget && _runClock.Elapsed >= budget)
                {
                    FinishStep();
                    ValidateCurrentWeights(cancellation);
                    return Stop($"time budget of {budget} reached");
                }
                Step();
            }
            ValidateCurrentWeights(cancellation);
            return Finish();
        }
        catch (TrainingDivergedException e)
        {
            return new TrainingOutcome(TrainingOutcomeKind.Failed, e.Message, null, History.LastOrDefault());
        }
        finally
        {
            _runClock.Stop();
        }
    }

    /// <summary>Marks the run finished and saves its final checkpoint.</summary>
    /// <param name="waitForWrites">
    /// False returns once the checkpoint is taken, its write (and any still in flight) left to finish in the
    /// background: the caller waits on <see cref="CheckpointsWritten"/>, then calls <see cref="FlushCheckpoints"/>
    /// (which reports a failed write). The server does so, so that other work goes on during the write.
    /// </param>
    public TrainingOutcome Finish(bool waitForWrites = true)
    {
        Position = Position with { Finished = true };
        var reason = Position.Epoch >= Options.Epochs ? $"finished {Options.Epochs} epoch(s)" : $"reached max_steps = {Options.MaxSteps}";
        var best = TakeValidatedAsBest();
        var path = Directory == null ? null : QueueCheckpoint("finished"); // saved even when an epoch's end just saved the same step, so the file says why it stopped
        if (best) WriteCheckpoint("best validation loss", BestCheckpoint);
        if (waitForWrites) FlushCheckpoints(); // the epoch's own saves, queued just before, are on disk too when this returns
        return new TrainingOutcome(TrainingOutcomeKind.Finished, reason, path, History.LastOrDefault());
    }

    /// <summary>Stops with a checkpoint, so the run can be resumed.</summary>
    /// <param name="waitForWrites">As for <see cref="Finish"/>.</param>
    public TrainingOutcome Stop(string reason, bool waitForWrites = true)
    {
        FinishStep();
        var best = TakeValidatedAsBest();
        var path = Directory == null ? null : QueueCheckpoint("stopped");
        if (best) WriteCheckpoint("best validation loss", BestCheckpoint);
        if (waitForWrites) FlushCheckpoints();
        return new TrainingOutcome(TrainingOutcomeKind.Stopped, reason, path, History.LastOrDefault());
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

    /// <summary>Completes once every checkpoint queued so far is written (or failed: <see cref="FlushCheckpoints"/> says which).</summary>
    public Task CheckpointsWritten => _writer.Written;

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
            Validation = _currentWeightsPass is { IsDone: true } pass && pass.Result() is var (loss, accuracy) ? new ValidationRecord(Position.Step, loss, accuracy) : null,
        };
        return new Checkpoint(metadata, tensors, new Dictionary<string, byte[]> { ["optimizer"] = optimizerState.ToArray() });
    }

    public double ElapsedSeconds => _elapsedBefore + _clock.Elapsed.TotalSeconds;

    /// <summary>
    /// On the CPU libtorch's own clip (one native call; reading its norm back costs nothing there);
    /// on a GPU one that keeps the norm on the device, so a step queues without waiting for the last.
    /// </summary>
    private void ClipGradients()
    {
        _clipped ??= Model.parameters().ToArray();
        if (Device.type == DeviceType.CPU) nn.utils.clip_grad_norm_(_clipped, Options.Clip);
        else GradientClipping.Clip(_clipped, Options.Clip);
    }

    private TorchSharp.Modules.Parameter[]? _clipped;

    private void BeginEpochEnd()
    {
        ReportProgress(); // the epoch's last interval, before its counters reset
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

        _epochLossSum.fill_(HeldScalars.Zero); // not zero_(): in TorchSharp 0.107 it returns a new tensor and leaves this one as it was
        _epochChars = 0;
        _lastReportSum = 0;
        _lastReportChars = 0;
        _hidden?.Dispose();
        _hidden = null; // each epoch starts from a zero state: a choice (the lesson's models carry h across epochs), so that an epoch's result does not hang on the one before
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

    private ValidationPass? _currentWeightsPass;

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

    private long? _stepsForEpochs;
    private readonly Stopwatch _runClock = new(); // this Run's time, against Options.TimeBudget

    private int BatchesInEpochSafe() => _data.Train.BatchesPerEpoch(Math.Min(Position.Epoch, Options.Epochs - 1));

    private void SetLearningRates(double factor)
    {
        foreach (var (group, paramGroup) in _groups)
            paramGroup.LearningRate = Options.LearningRate[group] * factor;
        _currentLearningRate = Options.LearningRate.Recurrent * factor;
    }

    private ParamGroup MakeGroup(List<Parameter> parameters, LayerGroup group) => Options.Optimizer == "adamw"
        ? new AdamW.ParamGroup(parameters, lr: Options.LearningRate[group], weight_decay: Options.WeightDecay[group])
        : new Adam.ParamGroup(parameters, lr: Options.LearningRate[group], weight_decay: Options.WeightDecay[group]);

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

    /// <summary>
    /// Dropout draws from libtorch's default generators, seeded afresh on the CPU for every piece of
    /// every step: a resumed run draws the masks an uninterrupted one drew, and nothing else the
    /// process does between steps (a server loading a model, which initialises weights at random
    /// first) shifts them. On CUDA only a run's first step seeds them: each seeding made cuDNN's
    /// LSTM rebuild its dropout state with a host sync, so a run resumed there draws other masks.
    /// </summary>
    internal static long DropoutSeed(long seed, long step, int piece) =>
        unchecked(seed * 6_364_136_223_846_793_005L + step * 1_442_695_040_888_963_407L + piece * 2_654_435_761L) & long.MaxValue;

    private string? _brokenBy;

    /// <summary>Whether this run has seeded the generators (on CUDA only its first step does).</summary>
    private bool _seeded;

    private void ThrowIfBroken()
    {
        if (_brokenBy != null)
            throw new InvalidOperationException($"This run cannot go on: an epoch's end failed ({_brokenBy}). Resume from the last checkpoint.");
    }

    private TrainingDivergedException Diverged(double value) => new(
        $"Training diverged: the loss became {value} at step {Position.Step} (epoch {Position.Epoch + 1}). " +
        $"Lower the learning rate (now {Options.LearningRate}) or clip gradients (e.g. --clip 1); the last good checkpoint is kept.");

    public void Dispose()
    {
        _writer.Dispose();
        _split?.Dispose();
        _epochEnd?.Dispose();
        _currentWeightsPass?.Dispose();
        _hidden?.Dispose();
        _epochLossSum.Dispose();
        _optimizer.Dispose();
        _data.Dispose();
        Model.Dispose();
    }
}
