using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn lr-find: fastai's learning-rate finder (learn.lr_find(), then sched.plot()). Trains a fresh model that is
/// never saved for up to --steps batches, the rate rising exponentially from --start-lr to --end-lr, and prints the
/// smoothed loss against the rate, fastai's two readings of it, and the charrnn train line that uses one.
/// </summary>
public static class LrFindCommand
{
    private const double DefaultStartLr = 1e-7, DefaultEndLr = 10;

    public static Command Create()
    {
        var architectureFlags = new ArchitectureFlags("stateful-lstm");
        var recipe = RecipeOption.Create("Search with a named recipe's architecture and text settings (lowercasing, --min-freq), not its " +
                                         "epochs or schedule: the search counts its own steps and sets the rate. Flags given beside it override it, " +
                                         "and the train line printed is the recipe's with the rate found.", r => r.SearchFlags);
        var corpus = CommonOptions.Corpus();
        var lower = new Option<bool>("--lower") { Description = "Lowercase the text (as the lesson's stateful part)." };
        var minFreq = new Option<int>("--min-freq") { Description = "Characters rarer than this map to the unknown symbol.", DefaultValueFactory = _ => 1 }.Allowing(TrainingFlags.Spec("min_freq"));
        var seed = new Option<int>("--seed") { Description = "Seed for initialisation, shuffling and dropout.", DefaultValueFactory = _ => 42 }.Allowing(TrainingFlags.Spec("seed"));
        // Defaults said in the description, not DefaultValueFactory: its help would write "[default: 1E-07]".
        var startLr = new Option<double?>("--start-lr") { Description = $"The first step's rate (default: {HyperParameterSpec.Number(DefaultStartLr)}; as in fastai 1 and 2, while the lesson's fastai 0.7 started at 1e-5)." }.Allowing("a rate above 0 and below --end-lr", v => v > 0); // below --end-lr: checked with it, by the schedule
        var endLr = new Option<double?>("--end-lr") { Description = $"The last step's rate, at most {HyperParameterSpec.Number(ExponentialSchedule.MaxRate)} (default: {HyperParameterSpec.Number(DefaultEndLr)}, as in fastai)." }.Allowing($"a rate above 0 and at most {HyperParameterSpec.Number(ExponentialSchedule.MaxRate)}", v => v > 0 && v <= ExponentialSchedule.MaxRate);
        var steps = new Option<int>("--steps") { Description = $"Batches to train at most, {ExponentialSchedule.MinSteps} to {ExponentialSchedule.MaxSteps} (fastai: one epoch's; 100 shows the curve).", DefaultValueFactory = _ => 100 }.Allowing(ExponentialSchedule.MinSteps, ExponentialSchedule.MaxSteps);
        var json = new Option<bool>("--json") { Description = "Print the steps and the suggestions as one JSON object instead of the plot." };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var flags = new TrainingFlags(resuming: false, searching: true);
        var command = new Command("lr-find", "Find a learning rate as fastai's lr_find does: train a fresh model (never saved) for up to --steps batches with the rate " +
                                             "rising exponentially from --start-lr to --end-lr, stopping once the smoothed loss passes 4 × its best; print the smoothed loss " +
                                             "against the rate, the rate where it falls fastest and the lowest loss's rate / 10, and a charrnn train line. Ctrl+C stops it and shows what it has.")
        {
            architectureFlags.Argument, architectureFlags.Arch, recipe, corpus, lower, minFreq, seed, startLr, endLr, steps, json, device, threads,
        };
        foreach (var o in flags.All) command.Add(o);
        foreach (var o in architectureFlags.HyperParameters.Values) command.Add(o);

        command.SetAction(parse =>
        {
            var chosenRecipe = RecipeOption.Chosen(parse, recipe);
            var architecture = Architectures.Get(RecipeOption.ArchitectureOf(architectureFlags.Given(parse), chosenRecipe, r => r.SearchFlags));
            var hyperParameters = architectureFlags.Resolve(parse, architecture);
            var schedule = new ExponentialSchedule(parse.GetValue(startLr) ?? DefaultStartLr, parse.GetValue(endLr) ?? DefaultEndLr, parse.GetValue(steps));
            var options = flags.Apply(parse, new TrainingOptions
            {
                LearningRate = LayerGroupValues.All(architecture.DefaultLearningRate),
                WeightDecay = LayerGroupValues.All(architecture.DefaultWeightDecay),
                // The recipe's, unless the flag is given: then the flag's, as train takes them.
                Lowercase = parse.GetResult(lower) is { Implicit: false } || chosenRecipe == null ? parse.GetValue(lower) : chosenRecipe.Lowercase,
                MinFrequency = parse.GetResult(minFreq) is { Implicit: false } || chosenRecipe == null ? parse.GetValue(minFreq) : chosenRecipe.MinFrequency,
                Seed = parse.GetValue(seed),
            }).Validate();
            var text = new CorpusResolver().Resolve(parse.GetValue(corpus));
            Trainer.CheckNoNul(text); // before any line that says it trains, as the Trainer would refuse it only after them
            using var signals = AsyncSignalMask.BlockOnThisThread(); // this thread runs libtorch: Ctrl+C must land on another (see AsyncSignalMask)
            var torchDevice = TorchRuntime.Initialize(parse.GetValue(device)!, parse.GetValue(threads));
            var asJson = parse.GetValue(json);
            var heading = $"corpus {text.Name}: {text.CodePoints:N0} chars · {architecture.Name} {TrainingSettingsLine.HyperParameters(hyperParameters)} · {TorchRuntime.Describe(torchDevice)}";
            var searching = string.Create(CultureInfo.InvariantCulture,
                $"lr-find: up to {schedule.Steps} steps, lr {LearningRatePlot.Rate(schedule.Start)} to {LearningRatePlot.Rate(schedule.End)} (×{schedule.Multiplier:G3} a step) · {TrainingSettingsLine.Flag("optimizer", options.Optimizer)} · {TrainingSettingsLine.Flag("weight_decay", TrainingSettingsLine.Values(options.WeightDecay))}{(options.Clip > 0 ? " · " + TrainingSettingsLine.Flag("clip", HyperParameterSpec.Number(options.Clip)) : "")}{TextSettings(options)}");
            // Ctrl+C caught before the line that says the search runs: one that came between would end the process unhandled.
            using var console = new TrainingConsole(Console.Error, live: false, saves: false,
                stoppingNote: "Stopping the search after this batch, then showing what it found");
            if (!asJson)
            {
                Console.WriteLine(heading);
                Console.WriteLine(searching);
            }
            if (torchDevice.type == TorchSharp.DeviceType.CPU)
                MemoryWarning.WriteIfTooLarge(architecture, hyperParameters, Vocabulary.Build(text.Text, options.Lowercase, options.MinFrequency).Size, text.Length, Console.Error);
            // As train checks it, naming the sizes as flags; the Trainer's own check would name them as the engine does (bs).
            // lr-find takes no --val-fraction (it holds out the default share), so its refusal offers none.
            TrainingData.CheckFits(architecture, hyperParameters, options, text.Text.EnumerateRunes().Count(), validFractionName: null,
                hyperParameterName: HyperParameterSpec.FlagOf, assign: " ");
            using var finder = new LearningRateFinder(architecture, hyperParameters, options, text, schedule, torchDevice);
            var progress = Console.IsErrorRedirected ? null : new Action<int, LearningRatePoint>((step, p) =>
                Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\rstep {step}/{schedule.Steps}  lr {LearningRatePlot.Rate(p.Rate)}  smoothed loss {p.SmoothedLoss:F3}   ")));
            var finding = finder.Run(console.Stopping, progress);
            if (progress != null) Console.Error.Write("\r" + new string(' ', 60) + "\r");
            var train = finding.Suggestion is { } s ? TrainLine(parse, command, architecture, chosenRecipe, finding.RatesAt(s.MinimumLossRateOverTen)) : null;
            if (asJson) Console.WriteLine(Json(architecture, text, schedule, finding, train));
            else Print(finding, train);
            return console.SignalExitCode ?? 0; // 130 after Ctrl+C, as train gives: what was found is printed all the same
        });
        return command;
    }

    /// <summary>Lowercasing and --min-freq where not the defaults (a recipe's, or flags'), as train's settings line writes them.</summary>
    private static string TextSettings(TrainingOptions options) =>
        options.Lowercase || options.MinFrequency != 1 ? " · " + TrainingSettingsLine.TextSettings(options) : "";

    private static void Print(LearningRateFinding finding, string? train)
    {
        foreach (var line in LearningRatePlot.Lines(finding.Points, finding.Suggestion)) Console.WriteLine(line);
        Console.WriteLine($"ended: {finding.Ended}");
        if (finding.Suggestion is not { } s)
        {
            Console.WriteLine($"no suggestion: {finding.Points.Count} step(s) kept, and reading a slope takes 2; search from a lower --start-lr or with more --steps.");
            return;
        }
        Console.WriteLine($"suggested lr: {LearningRatePlot.Rate(s.SteepestRate)} (steepest fall) or " +
                          $"{LearningRatePlot.Rate(s.MinimumLossRateOverTen)} (lowest loss's {LearningRatePlot.Rate(s.MinimumLossRate)} / 10)");
        Console.WriteLine(train);
    }

    private static string Json(Architecture architecture, Corpus text, ExponentialSchedule schedule, LearningRateFinding finding, string? train) =>
        ScriptJson.Serialize(new
        {
            architecture = architecture.Name, corpus = text.Name, start_lr = schedule.Start, end_lr = schedule.End, steps = schedule.Steps,
            steps_run = finding.Points.Count, completed = finding.Completed, ended = finding.Ended,
            points = finding.Points.Select(p => new { lr = p.Rate, loss = p.Loss, smoothed_loss = p.SmoothedLoss }),
            suggestion = finding.Suggestion is { } s
                ? new { steepest_lr = s.SteepestRate, min_loss_lr = s.MinimumLossRate, min_loss_lr_over_10 = s.MinimumLossRateOverTen }
                : null,
            train_command = train,
        });

    /// <summary>The options only the search takes: the train line leaves them out (and --lr, which it gives anew; --recipe, which it gives first).</summary>
    private static readonly string[] SearchOnly = ["--start-lr", "--end-lr", "--steps", "--json", "--lr", "--arch", "--recipe"];

    /// <summary>
    /// charrnn train with the flags given here (the corpus, the sizes, wd, …) and <paramref name="rates"/> as --lr. With a
    /// recipe, --recipe NAME stands for the architecture and its settings, and only the flags that change them follow.
    /// </summary>
    private static string TrainLine(ParseResult parse, Command command, Architecture architecture, TrainingRecipe? recipe, LayerGroupValues rates)
    {
        List<string> words = recipe == null ? ["charrnn", "train", architecture.Name] : ["charrnn", "train", "--recipe", recipe.Name];
        foreach (var option in command.Options)
        {
            if (SearchOnly.Contains(option.Name) || parse.GetResult(option) is not { Implicit: false } given) continue;
            if (recipe != null && option.Name switch // a flag that says what the recipe says already
                {
                    "--lower" => parse.GetValue((Option<bool>)option) == recipe.Lowercase,
                    "--min-freq" => parse.GetValue((Option<int>)option) == recipe.MinFrequency,
                    _ => false,
                }) continue;
            words.Add(option.Name);
            words.AddRange(given.Tokens.Select(t => ShellWord.Of(t.Value)));
        }
        words.Add("--lr");
        words.Add(rates.IsUniform ? LearningRatePlot.Rate(rates.Recurrent)
            : string.Join(",", new[] { rates.Embedding, rates.Recurrent, rates.Output }.Select(LearningRatePlot.Rate)));
        return string.Join(' ', words);
    }
}
