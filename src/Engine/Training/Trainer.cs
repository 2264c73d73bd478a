using System.Diagnostics;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Sampling;
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
/// order, bptt lengths, learning rate, dropout's seed), so resuming on the CPU reproduces it
/// exactly. On CUDA dropout is seeded only at a run's first step (see <see cref="DropoutSeed"/>),
/// so a resumed run with dropout draws other masks there.
/// </summary>
public sealed partial class Trainer : IDisposable
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
    private readonly long _firstStep; // this run's first step is reported at once: a loss curve starts at its start
    private EpochEnd? _epochEnd;
    private ValidationPass? _currentWeightsPass;
    private TorchSharp.Modules.Parameter[]? _clipped;
    private long? _stepsForEpochs;
    private readonly Stopwatch _runClock = new(); // this Run's time, against Options.TimeBudget
    private string? _brokenBy;
    /// <summary>Why the run stops early (<see cref="EarlyStopping"/>), set at the epoch end that decided it; null: it goes on.</summary>
    private string? _stoppedEarly;
    /// <summary>Whether this run has seeded the generators (on CUDA only its first step does).</summary>
    private bool _seeded;

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
    /// <summary>The model whose weights this run started from (<see cref="InitFrom(string, string, TrainingOptions, Corpus, Device, string?)"/>), kept by its resumes; null otherwise.</summary>
    public InitFromRecord? StartedFrom { get; private init; }

    /// <summary>
    /// All epochs or steps are done, or the validation loss stopped improving (<see cref="StoppedEarly"/>),
    /// the last epoch's end (validation, checkpoints) included.
    /// </summary>
    public bool IsComplete => _epochEnd == null && (Options.Reached(Position) || _stoppedEarly != null);

    /// <summary>
    /// Why this run stops before its epochs (patience ran out at an epoch end of this run), or null. A resumed
    /// run starts without it: it trains at least one epoch, which stops it again unless that one improves.
    /// </summary>
    public string? StoppedEarly => _stoppedEarly;

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

    /// <summary>Trains one batch; at the end of an epoch also validates, samples and checkpoints.</summary>
    // A whole batch is one piece: StepPiece(1) runs its plain forward and backward (a RowSplitStep of one piece, any layout), then the optimizer step.
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

    /// <summary>
    /// Returns once the device has done the work queued so far: CUDA runs kernels after the call
    /// that queued them returns, so a caller timing a piece must wait for it. No-op on the CPU.
    /// </summary>
    public void WaitForDevice()
    {
        if (Device.type == DeviceType.CUDA) cuda.synchronize();
    }

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
                SetLearningRates(_searchFactor ?? _schedule.Factor(epoch + (double)batchIndex / batches));
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
            else if (_clock.Elapsed - _lastReportAt >= Options.ProgressInterval || IsComplete || Position.Step == _firstStep) ReportProgress();
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
                    return Stop($"time budget of {DurationText.Format(budget)} reached");
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
        var reason = _stoppedEarly ?? (Position.Epoch < Options.Epochs ? $"reached max_steps = {Options.MaxSteps}"
            // Both bounds hold: whichever of max_steps and epochs comes first ends the run, so say when epochs cut max_steps short.
            // A setting is named only as `field = value`, the one form clients find and write in their own names (JobReasonText).
            : Options.MaxSteps > Position.Step ? $"finished {Options.Epochs} epoch(s) (epochs = {Options.Epochs}) at step {Position.Step}, before max_steps = {Options.MaxSteps}: ask for more epochs to train that far"
            : $"finished {Options.Epochs} epoch(s)");
        var best = TakeValidatedAsBest();
        var path = Directory == null ? null : QueueCheckpoint("finished"); // saved even when an epoch's end just saved the same step, so the file says why it stopped
        if (best) WriteCheckpoint("best validation loss", BestCheckpoint);
        if (waitForWrites) FlushCheckpoints(); // the epoch's own saves, queued just before, are on disk too when this returns
        return new TrainingOutcome(TrainingOutcomeKind.Finished, reason, path, History.LastOrDefault(), StoppedEarly: _stoppedEarly != null);
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

    /// <summary>Completes once every checkpoint queued so far is written (or failed: <see cref="FlushCheckpoints"/> says which).</summary>
    public Task CheckpointsWritten => _writer.Written;

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

    private void SetLearningRates(double factor)
    {
        foreach (var (group, paramGroup) in _groups)
            paramGroup.LearningRate = Options.LearningRate[group] * factor;
        _currentLearningRate = Options.LearningRate.Recurrent * factor;
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
