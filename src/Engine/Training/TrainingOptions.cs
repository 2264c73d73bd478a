using System.Globalization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using static CharRnn.Engine.Models.HyperParameterType;

namespace CharRnn.Engine.Training;

/// <summary>How to train, independent of the architecture. Validate() names any bad field and what is allowed.</summary>
public sealed record TrainingOptions
{
    /// <summary>Epochs to train in total (a resumed run continues up to this).</summary>
    public int Epochs { get; init; } = 1;
    /// <summary>Stop after this many optimizer steps in total (0: no limit).</summary>
    public long MaxSteps { get; init; }
    /// <summary>Stop after this much training time in this run (null: no limit).</summary>
    public TimeSpan? TimeBudget { get; init; }
    /// <summary>"adam" or "adamw" (decoupled weight decay), in any case as schedule kinds are: kept lowercase.</summary>
    public string Optimizer { get; init => field = value.ToLowerInvariant(); } = "adam";
    /// <summary>Decoupled weight decay (internal: the checkpoint's JSON keeps only <see cref="Optimizer"/>).</summary>
    internal bool UsesAdamW => Optimizer == "adamw";
    /// <summary>Base learning rate per layer group (embedding, recurrent, output).</summary>
    public LayerGroupValues LearningRate { get; init; } = LayerGroupValues.All(1e-3);
    public LayerGroupValues WeightDecay { get; init; } = LayerGroupValues.All(0);
    public string Schedule { get; init; } = "constant";
    /// <summary>Clip the global gradient norm to this (0: off).</summary>
    public double Clip { get; init; }
    public bool Lowercase { get; init; }
    public int MinFrequency { get; init; } = 1;
    /// <summary>Share of the data held out for validation: the text's end (stateful) or random windows.</summary>
    public double ValidFraction { get; init; } = 0.2;
    public int Seed { get; init; } = 42;
    /// <summary>
    /// Keep each SGDR cycle's end in a checkpoint of its own (cycle-1.ckpt, cycle-2.ckpt, …), as the
    /// lesson's cycle_save_name did: last.ckpt is written over at the next epoch's end.
    /// </summary>
    public bool KeepCycleCheckpoints { get; init; }
    /// <summary>
    /// Stop once the validation loss has not improved on its best for this many epochs in a row (0: off);
    /// see <see cref="EarlyStopping"/>. best.ckpt keeps the best model either way.
    /// </summary>
    public int Patience { get; init; }
    /// <summary>
    /// The least drop in validation loss (nats/char) that counts as an improvement for <see cref="Patience"/>, as
    /// Keras's min_delta (0: any drop; a checkpoint saved before this option reads 0).
    /// </summary>
    public double MinDelta { get; init; }
    /// <summary>Characters generated at each epoch end as a sample (0: none).</summary>
    public int SampleChars { get; init; } = 200;
    /// <summary>Minimum time between progress events.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public static readonly string[] Optimizers = ["adam", "adamw"];
    public const int MaxEpochs = 100_000;

    /// <summary>The longest time budget: a year (longer ones are typos; TimeSpan itself overflows at ~29,000 years).</summary>
    public const int MaxTimeBudgetDays = 366;
    public const double MaxTimeBudgetSeconds = MaxTimeBudgetDays * 86_400.0;
    public const double MinTimeBudgetSeconds = 0.001;

    /// <summary>The range of the minimum time between progress reports, in seconds.</summary>
    public const double MinProgressIntervalSeconds = 0.05, MaxProgressIntervalSeconds = 3600;

    /// <summary>The numeric options as specs, for listings and editors (lr and wd also take three values).</summary>
    public static IReadOnlyList<HyperParameterSpec> Specs(Architecture? architecture = null) =>
    [
        new("epochs", Int, 1, 1, MaxEpochs, "Epochs to train (SGDR cycle_len=1, cycle_mult=2 ends cycles at 1, 3, 7, 15, 31, 63)."),
        new("lr", Float, architecture?.DefaultLearningRate ?? 1e-3, 0, 10, "Learning rate; or three values: embedding,recurrent,output."),
        new("wd", Float, architecture?.DefaultWeightDecay ?? 0, 0, 1, "Weight decay; or three values: embedding,recurrent,output."),
        new("clip", Float, 0, 0, 1e6, "Clip the gradient norm to this value (0: off)."),
        new("max_steps", Int, 0, 0, 1e12, "Stop after this many steps in total (0: no limit), or at the end of epochs if sooner."),
        new("lower", Bool, 0, 0, 1, "Lowercase the text (the lesson's stateful part does)."),
        new("keep_cycles", Bool, 0, 0, 1, "Keep each SGDR cycle's end as cycle-N.ckpt (the lesson's cycle_save_name); last.ckpt moves on."),
        new("min_freq", Int, 1, 1, 1e9, "Characters rarer than this map to the unknown symbol."),
        new("val_fraction", Float, 0.2, 0.01, 0.5, "Share held out for validation."),
        new("seed", Int, 42, 0, int.MaxValue, "Seed for initialisation, shuffling and dropout."),
        new("sample_chars", Int, 200, 0, 10_000, "Characters sampled at each epoch end."),
        new("patience", Int, 0, 0, EarlyStopping.MaxPatience, "Stop once the validation loss has not improved for this many epochs (0: off); SGDR restarts count, so give it more than a cycle."),
        new("min_delta", Float, 0, 0, EarlyStopping.MaxMinDelta, "With patience: an epoch improves only if its validation loss is below the best less this (nats/char; 0: any drop counts)."),
    ];

    /// <summary>A run at <paramref name="at"/> has trained all these options ask for: its epochs, or max_steps when set.</summary>
    public bool Reached(TrainingPosition at) => at.Epoch >= Epochs || (MaxSteps > 0 && at.Step >= MaxSteps);

    public TrainingOptions Validate()
    {
        Check(Epochs is >= 1 and <= MaxEpochs, $"epochs = {Epochs} is not allowed; epochs must be an integer from 1 to {MaxEpochs}.");
        Check(MaxSteps is >= 0 and <= 1_000_000_000_000, $"max_steps = {MaxSteps} is not allowed; use 0 (no limit) or a number of steps up to 1000000000000.");
        Check(TimeBudget is null || TimeBudget > TimeSpan.Zero, $"time budget = {(TimeBudget is { } budget ? DurationText.Format(budget) : "")} is not allowed; give a positive duration such as 90s, 10m or 2h.");
        Check(Optimizers.Contains(Optimizer), $"optimizer = '{Text.Echo.Of(Optimizer)}' is not known; use {string.Join(" or ", Optimizers)}.");
        LearningRate.Validate("lr", 0, 10);
        WeightDecay.Validate("wd", 0, 1);
        var peak = LearningRateSchedule.Parse(Schedule).MaxFactor; // a step schedule may raise the rate above lr
        if (UsesAdamW)
            foreach (var group in Enum.GetValues<LayerGroup>())
            {
                var (lr, wd) = (LearningRate[group] * peak, WeightDecay[group]);
                var which = (LearningRate.IsUniform && WeightDecay.IsUniform ? "" : $" for the {group.ToString().ToLowerInvariant()} layers")
                            + (peak > 1 ? $" (lr {LearningRate[group].ToString(CultureInfo.InvariantCulture)} at the schedule's peak factor {peak.ToString(CultureInfo.InvariantCulture)})" : "");
                // AdamW multiplies every weight by 1 − lr·wd a step: at 1 it zeroes them, above it flips their sign.
                Check(lr * wd < 1, $"lr × wd = {lr.ToString(CultureInfo.InvariantCulture)} × {wd.ToString(CultureInfo.InvariantCulture)}{which} is not allowed with adamw, " +
                                   "whose decay multiplies the weights by 1 − lr·wd each step; their product must be below 1 (use a smaller lr or wd).");
            }
        Check(Clip is >= 0 and <= 1e6, $"clip = {Clip} is not allowed; use 0 (off) or a gradient norm up to 1000000.");
        Check(MinFrequency is >= 1 and <= 1_000_000_000, $"min_freq = {MinFrequency} is not allowed; it must be from 1 to 1000000000.");
        Check(ValidFraction is >= 0.01 and <= 0.5, $"val_fraction = {ValidFraction} is not allowed; it must be from 0.01 to 0.5.");
        Check(Seed >= 0, $"seed = {Seed} is not allowed; it must be 0 or more.");
        Check(Patience is >= 0 and <= EarlyStopping.MaxPatience, $"patience = {Patience} is not allowed; use 0 (off) or 1 to {EarlyStopping.MaxPatience} epochs.");
        Check(MinDelta is >= 0 and <= EarlyStopping.MaxMinDelta,
              $"min_delta = {MinDelta.ToString(CultureInfo.InvariantCulture)} is not allowed; use 0 (any drop counts) to {EarlyStopping.MaxMinDelta} nats/char.");
        Check(SampleChars is >= 0 and <= 10_000, $"sample_chars = {SampleChars} is not allowed; it must be from 0 to 10000.");
        return this;
    }

    private static void Check(bool ok, string message)
    {
        if (!ok) throw new ArgumentException(message);
    }
}
