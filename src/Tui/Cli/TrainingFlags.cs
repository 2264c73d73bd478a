using System.CommandLine;
using System.Globalization;
using CharRnn.Engine.Models;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>The training options charrnn train, charrnn resume and charrnn lr-find share, as flags.</summary>
/// <param name="resuming">A resumed model keeps its optimizer: its saved state fits only that one.</param>
/// <param name="searching">charrnn lr-find: only the flags that shape a step (lr as a ratio, wd, optimizer, clip); it runs its own steps.</param>
internal sealed class TrainingFlags(bool resuming, bool searching = false)
{
    private static readonly TrainingOptions Defaults = new();

    /// <summary>What --help says a flag left out means: a resume keeps what the model was trained with.</summary>
    private static string Default(bool resuming, object value) =>
        resuming ? " (default: as the model was trained)" : string.Create(CultureInfo.InvariantCulture, $" (default: {value})");

    public Option<int?> Epochs { get; } = new Option<int?>("--epochs") { Description = $"Epochs to train in total{Default(resuming, Defaults.Epochs)}." }.Allowing(Spec("epochs"));
    public Option<string?> Lr { get; } = new("--lr") { Description = searching
        ? "Three rates, embedding,recurrent,output, to keep the ratio of: they scale together, the recurrent one rising from --start-lr to --end-lr (default: one rate for all; a single rate is refused, having no effect)."
        : $"Learning rate, or three: embedding,recurrent,output{Default(resuming, "the architecture's; charrnn archs")}." };
    public Option<string?> Wd { get; } = new("--wd") { Description = $"Weight decay, or three: embedding,recurrent,output{Default(resuming, "the architecture's; charrnn archs")}." };
    public Option<string?> Optimizer { get; } = new("--optimizer") { Description = $"adam or adamw{Default(resuming, Defaults.Optimizer)}." };
    public Option<string?> Schedule { get; } = new("--schedule") { Description = LearningRateSchedule.Help + Default(resuming, Defaults.Schedule) };
    public Option<double?> Clip { get; } = new Option<double?>("--clip") { Description = $"Clip the gradient norm (0: off){Default(resuming, Defaults.Clip)}." }.Allowing(Spec("clip"), (_, max) => $"0 (off) or a gradient norm up to {max}");
    public Option<long?> MaxSteps { get; } = new Option<long?>("--max-steps") { Description = $"Stop after this many steps in total (0: no limit), or at the end of --epochs if sooner{Default(resuming, Defaults.MaxSteps)}." }.Allowing(Spec("max_steps"), (_, max) => $"0 (no limit) or a number of steps up to {max}");
    public Option<string?> TimeBudget { get; } = new("--time-budget") { Description = "Stop after this long in this run, e.g. 90s, 10m, 1h30m (default: no limit)." };
    public Option<int?> SampleChars { get; } = new Option<int?>("--sample-chars") { Description = $"Characters sampled at each epoch end (0: none){Default(resuming, Defaults.SampleChars)}." }.Allowing(Spec("sample_chars"), (_, max) => $"0 (none) to {max}");
    public Option<int?> Patience { get; } = new Option<int?>("--patience") { Description = $"Stop once the validation loss has not improved on its best for N epochs in a row, 0 to {EarlyStopping.MaxPatience} (0: off; best.ckpt keeps the best model either way). " +
        $"Every epoch counts, an SGDR restart's too, which raises the loss: give more than a cycle's epochs. A resume continues the count{Default(resuming, "0")}." }.Allowing(Spec("patience"), (_, max) => $"0 (off) or 1 to {max} epochs");
    public Option<double?> MinDelta { get; } = new Option<double?>("--min-delta") { Description = $"With --patience: an epoch counts as an improvement only if its validation loss is below the best less this, 0 to {EarlyStopping.MaxMinDelta} nats/char " +
        $"(Keras's min_delta; 0: any drop counts); without a patience it is refused, having no effect{Default(resuming, "0")}." }.Allowing(Spec("min_delta"), (_, max) => $"0 (any drop counts) to {max} nats/char");
    public Option<bool?> KeepCycles { get; } = new("--keep-cycles") { Description = $"Keep each SGDR cycle's end as cycle-N.ckpt beside last.ckpt (the lesson's cycle_save_name){Default(resuming, "no")}." };

    /// <summary>The training option <paramref name="name"/>'s spec: its flag allows its range, refused as "an integer from 1 to 100000".</summary>
    public static HyperParameterSpec Spec(string name) => TrainingOptions.Specs().Single(s => s.Name == name);

    public IEnumerable<Option> All => searching ? [Lr, Wd, Optimizer, Clip]
        : resuming ? [Epochs, Lr, Wd, Schedule, Clip, MaxSteps, TimeBudget, Patience, MinDelta, SampleChars, KeepCycles]
        : [Epochs, Lr, Wd, Optimizer, Schedule, Clip, MaxSteps, TimeBudget, Patience, MinDelta, SampleChars, KeepCycles];

    public TrainingOptions Apply(ParseResult parse, TrainingOptions options)
    {
        if (parse.GetValue(Epochs) is { } epochs) options = options with { Epochs = epochs };
        if (parse.GetValue(Lr) is { } lr)
        {
            options = options with { LearningRate = LayerGroupValues.Parse(lr, Spec("lr")) };
            // The search keeps only the ratio between the groups' rates: one rate would be silently ignored.
            if (searching && !lr.Contains(','))
                throw new ArgumentException($"--lr {lr} is one rate, and one rate has no effect on a search: the rate goes from --start-lr to --end-lr (set those instead); " +
                                            "three rates, --lr a,b,c, set the layer groups' ratio.");
        }
        if (parse.GetValue(Wd) is { } wd) options = options with { WeightDecay = LayerGroupValues.Parse(wd, Spec("wd")) };
        if (!resuming && parse.GetValue(Optimizer) is { } opt) options = options with { Optimizer = opt };
        if (parse.GetValue(Schedule) is { } schedule) options = options with { Schedule = schedule };
        if (parse.GetValue(Clip) is { } clip) options = options with { Clip = clip };
        if (parse.GetValue(MaxSteps) is { } maxSteps) options = options with { MaxSteps = maxSteps };
        if (parse.GetValue(TimeBudget) is { } budget) options = options with { TimeBudget = Durations.Parse(budget, TimeBudget.Name) };
        if (parse.GetValue(Patience) is { } patience) options = options with { Patience = patience };
        if (parse.GetValue(MinDelta) is { } minDelta) options = options with { MinDelta = minDelta };
        if (parse.GetValue(SampleChars) is { } sample) options = options with { SampleChars = sample };
        if (parse.GetResult(KeepCycles) is not null) options = options with { KeepCycleCheckpoints = parse.GetValue(KeepCycles) ?? true };
        options = options.Validate();
        // Asked for now, it would keep nothing: only SGDR (alone or as a phase) has cycles to end.
        // The schedule as a flag the user typed or can type, and where it came from when not typed.
        if (parse.GetResult(KeepCycles) is not null && options.KeepCycleCheckpoints && !LearningRateSchedule.Parse(options.Schedule).HasCycles)
            throw new ArgumentException($"--keep-cycles keeps each SGDR cycle's end, and --schedule {ShellWord.Of(options.Schedule)}" +
                                        (parse.GetValue(Schedule) != null ? "" : resuming ? " (the model's)" : options.Schedule == Defaults.Schedule ? " (the default)" : " (the recipe's)") +
                                        " has no cycles; give --schedule sgdr:cycle_len=1,cycle_mult=2 (say), or a schedule with an sgdr phase, or drop --keep-cycles.");
        // Without a patience nothing stops early, so a delta would change nothing: refused, as the server refuses it.
        // The off patience is named where it comes from: the flag given, or (on resume) the model's own.
        if (parse.GetValue(MinDelta) > 0 && options.Patience == 0)
            throw new ArgumentException($"--min-delta {options.MinDelta.ToString(CultureInfo.InvariantCulture)} only counts with early stopping, and " +
                                        (parse.GetValue(Patience) is not null ? "--patience 0 turns it off" : resuming ? "the patience is 0 (off) for this model" : "the patience is 0 (off)") +
                                        "; add --patience N (the epochs to wait, say 3), or drop --min-delta.");
        return options;
    }
}
