using System.CommandLine;
using System.Globalization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Persistence;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn train and charrnn resume. Every hyperparameter of every architecture is a flag
/// (--n-hidden 512); the chosen architecture's spec decides which are allowed and their range.
/// </summary>
public static class TrainCommand
{
    /// <param name="resuming">A resumed model keeps its optimizer: its saved state fits only that one.</param>
    private sealed class TrainingFlags(bool resuming)
    {
        private static readonly TrainingOptions Defaults = new();

        /// <summary>What --help says a flag left out means: a resume keeps what the model was trained with.</summary>
        private static string Default(bool resuming, object value) =>
            resuming ? " (default: as the model was trained)" : string.Create(CultureInfo.InvariantCulture, $" (default: {value})");

        public Option<int?> Epochs { get; } = new("--epochs") { Description = $"Epochs to train in total{Default(resuming, Defaults.Epochs)}." };
        public Option<string?> Lr { get; } = new("--lr") { Description = $"Learning rate, or three: embedding,recurrent,output{Default(resuming, "the architecture's; charrnn archs")}." };
        public Option<string?> Wd { get; } = new("--wd") { Description = $"Weight decay, or three: embedding,recurrent,output{Default(resuming, "the architecture's; charrnn archs")}." };
        public Option<string?> Optimizer { get; } = new("--optimizer") { Description = $"adam or adamw{Default(resuming, Defaults.Optimizer)}." };
        public Option<string?> Schedule { get; } = new("--schedule") { Description = LearningRateSchedule.Help + Default(resuming, Defaults.Schedule) };
        public Option<double?> Clip { get; } = new("--clip") { Description = $"Clip the gradient norm (0: off){Default(resuming, Defaults.Clip)}." };
        public Option<long?> MaxSteps { get; } = new("--max-steps") { Description = $"Stop after this many steps in total (0: no limit){Default(resuming, Defaults.MaxSteps)}." };
        public Option<string?> TimeBudget { get; } = new("--time-budget") { Description = "Stop after this long in this run, e.g. 90s, 10m, 1h30m (default: no limit)." };
        public Option<int?> SampleChars { get; } = new("--sample-chars") { Description = $"Characters sampled at each epoch end (0: none){Default(resuming, Defaults.SampleChars)}." };
        public Option<bool?> KeepCycles { get; } = new("--keep-cycles") { Description = $"Keep each SGDR cycle's end as cycle-N.ckpt beside last.ckpt (the lesson's cycle_save_name){Default(resuming, "no")}." };

        public IEnumerable<Option> All => resuming
            ? [Epochs, Lr, Wd, Schedule, Clip, MaxSteps, TimeBudget, SampleChars, KeepCycles]
            : [Epochs, Lr, Wd, Optimizer, Schedule, Clip, MaxSteps, TimeBudget, SampleChars, KeepCycles];

        public TrainingOptions Apply(ParseResult parse, TrainingOptions options)
        {
            if (parse.GetValue(Epochs) is { } epochs) options = options with { Epochs = epochs };
            if (parse.GetValue(Lr) is { } lr) options = options with { LearningRate = LayerGroupValues.Parse(lr, "lr", 0, 10) };
            if (parse.GetValue(Wd) is { } wd) options = options with { WeightDecay = LayerGroupValues.Parse(wd, "wd", 0, 1) };
            if (!resuming && parse.GetValue(Optimizer) is { } opt) options = options with { Optimizer = opt };
            if (parse.GetValue(Schedule) is { } schedule) options = options with { Schedule = schedule };
            if (parse.GetValue(Clip) is { } clip) options = options with { Clip = clip };
            if (parse.GetValue(MaxSteps) is { } maxSteps) options = options with { MaxSteps = maxSteps };
            if (parse.GetValue(TimeBudget) is { } budget) options = options with { TimeBudget = Durations.Parse(budget, TimeBudget.Name) };
            if (parse.GetValue(SampleChars) is { } sample) options = options with { SampleChars = sample };
            if (parse.GetResult(KeepCycles) is not null) options = options with { KeepCycleCheckpoints = parse.GetValue(KeepCycles) ?? true };
            options = options.Validate();
            // Asked for now, it would keep nothing: only SGDR has cycles to end.
            if (parse.GetResult(KeepCycles) is not null && options.KeepCycleCheckpoints && LearningRateSchedule.Parse(options.Schedule) is not SgdrSchedule)
                throw new ArgumentException($"--keep-cycles keeps each SGDR cycle's end, and schedule '{options.Schedule}' has no cycles; " +
                                            "add --schedule sgdr:cycle_len=1,cycle_mult=2 (say), or drop --keep-cycles.");
            return options;
        }
    }

    public static Command CreateTrain()
    {
        // The architecture as an argument (`train stateful-gru`, as the REPL takes it) or as --arch.
        var names = Architectures.All.Select(a => a.Name).ToArray();
        var archArgument = new Argument<string?>("arch") { Description = "Architecture (or give it as --arch); default stateful-lstm.", Arity = ArgumentArity.ZeroOrOne, HelpName = "arch" }.RefusingFlags();
        archArgument.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0 || result.Tokens[0].Value is var value && (value.StartsWith('-') || names.Contains(value))) return;
            result.AddError($"Argument '{value}' not recognized. Must be one of: {string.Join(", ", names.Select(n => $"'{n}'"))}.{ClosestName.Suggestion(value, names)}");
        });
        var arch = new Option<string?>("--arch") { Description = $"Architecture: {string.Join(", ", names)} (default: stateful-lstm).", HelpName = "arch" };
        arch.AcceptOnlyFromAmong(names);
        var models = CommonOptions.ModelsDir();
        models.Description = "Folder that holds model folders: the model goes in MODELS/NAME.";
        var name = new Option<string?>("--name") { Description = "The model's name: its folder in --models (default: the architecture's name)." };
        var output = new Option<string?>("--out") { Description = "Model folder to create, anywhere (instead of --models and --name)." }.NotEmpty("the model folder to create");
        var corpus = new Option<string?>("--corpus") { Description = "UTF-8 text file, or a known corpus name (default: nietzsche)." }.NotEmpty("a text file or a known corpus name, or leave it out for nietzsche");
        var lower = new Option<bool>("--lower") { Description = "Lowercase the text (as the lesson's stateful part)." };
        var minFreq = new Option<int>("--min-freq") { Description = "Characters rarer than this map to the unknown symbol.", DefaultValueFactory = _ => 1 };
        var valFraction = new Option<double>("--val-fraction") { Description = "Share held out for validation.", DefaultValueFactory = _ => 0.2 };
        var seed = new Option<int>("--seed") { Description = "Seed for initialisation, shuffling and dropout.", DefaultValueFactory = _ => 42 };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var flags = new TrainingFlags(resuming: false);

        // One option per distinct hyperparameter name across all architectures.
        var hyper = Architectures.All.SelectMany(a => a.Parameters)
            .GroupBy(p => p.Name).Select(g => g.First())
            .ToDictionary(p => p.Name, p => new Option<string?>(p.Flag)
            {
                Description = $"{p.Doc} (architectures that have it: {HoldersOf(p.Name)})",
                // A yes/no flag on its own means yes: --identity-init, or --identity-init false.
                Arity = p.Type == HyperParameterType.Bool ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
            });

        var command = new Command("train", "Train a model, showing progress; Ctrl+C saves and stops.")
        {
            archArgument, arch, models, name, output, corpus, lower, minFreq, valFraction, seed, device, threads,
        };
        foreach (var o in flags.All) command.Add(o);
        foreach (var o in hyper.Values) command.Add(o);

        command.SetAction(parse =>
        {
            var architecture = Architectures.Get(ArchitectureOf(parse.GetValue(archArgument), parse.GetValue(arch)));
            var given = new Dictionary<string, double>();
            foreach (var (name, option) in hyper)
            {
                if (parse.GetResult(option) is null) continue;
                var value = parse.GetValue(option) ?? "true";
                var spec = architecture.Parameters.FirstOrDefault(p => p.Name == name)
                    ?? throw new ArgumentException($"{option.Name} is not a hyperparameter of {architecture.Name}; it has: {string.Join(" ", architecture.Parameters.Select(p => p.Flag))}.");
                given[name] = spec.Parse(value);
            }
            var hyperParameters = architecture.Resolve(given);
            var options = flags.Apply(parse, new TrainingOptions
            {
                LearningRate = LayerGroupValues.All(architecture.DefaultLearningRate),
                WeightDecay = LayerGroupValues.All(architecture.DefaultWeightDecay),
                Lowercase = parse.GetValue(lower),
                MinFrequency = parse.GetValue(minFreq),
                ValidFraction = parse.GetValue(valFraction),
                Seed = parse.GetValue(seed),
            });
            var folder = FolderFor(parse.GetValue(output), parse.GetResult(models) is { Implicit: false } ? parse.GetValue(models) : null, parse.GetValue(name), architecture);
            // Messages name the option the folder came from.
            var folderOption = parse.GetValue(output) != null ? "--out" : parse.GetValue(name) != null ? "--name" : "--name (it defaults to the architecture's)";
            if (ModelFolder.HoldsModel(folder))
                throw new ArgumentException($"'{folder}' already holds a model; continue it with 'charrnn resume {folder}' or choose another {folderOption}.");
            var text = new CorpusResolver().Resolve(parse.GetValue(corpus));
            var torchDevice = TorchRuntime.Initialize(parse.GetValue(device)!, parse.GetValue(threads)); // a bad --device is refused before --out is made
            // Before the folder is made too: a stdout that cannot be written (a full disk) leaves no empty model folder.
            Console.WriteLine($"corpus {text.Name}: {text.Length:N0} chars · {architecture.Name} {hyperParameters} · {TorchRuntime.Describe(torchDevice)}");
            using var served = ServerDatabase.HoldIfServed(ParentOf(folder));
            var made = !Directory.Exists(folder);
            CheckWritableFolder(folder, parse.GetValue(output) != null ? "--out" : "The model folder");
            using var training = ModelFolder.HoldForTraining(folder);
            if (ModelFolder.HoldsModel(folder)) // again, held: a run that held it until now may have just saved one
                throw new ArgumentException($"'{folder}' already holds a model; continue it with 'charrnn resume {folder}' or choose another {folderOption}.");
            if (torchDevice.type == TorchSharp.DeviceType.CPU)
                WarnIfTooLarge(architecture, hyperParameters, Vocabulary.Build(text.Text, options.Lowercase, options.MinFrequency).Size, text.Length);
            Trainer trainer;
            try
            {
                trainer = Trainer.Create(architecture, hyperParameters, options, text, torchDevice, folder);
            }
            catch
            {
                training.Dispose();
                if (made && !Directory.EnumerateFileSystemEntries(folder).Any())
                    Directory.Delete(folder); // a refused corpus or setting leaves no empty model folder behind
                throw;
            }
            using (trainer) return RunToEnd(trainer);
        });
        return command;
    }

    private static string ArchitectureOf(string? argument, string? option) => (argument, option) switch
    {
        (not null, not null) when argument != option => throw new ArgumentException($"Two architectures given, '{argument}' and --arch '{option}'; give one."),
        _ => argument ?? option ?? "stateful-lstm",
    };

    /// <summary>--out as given, else MODELS/NAME (models/ARCH by default): a model name as the server takes it, not a path.</summary>
    private static string FolderFor(string? output, string? models, string? name, Architecture architecture)
    {
        if (output != null && (models != null || name != null))
            throw new ArgumentException($"--out names the model's folder whole; give it, or --models and --name, not both.");
        if (output != null) return output;
        if (models != null && File.Exists(models))
            throw new ArgumentException($"--models '{models}' is a file; give the folder that holds model folders (it is made if missing).");
        if (name != null)
        {
            try { ModelServer.Models.ModelStore.ValidateName(name, "--name"); }
            catch (ModelServer.Errors.ServerException e) { throw new ArgumentException(e.Message); }
        }
        var (root, folderName) = (models ?? "models", name ?? architecture.Name);
        // As the server keeps names: on Windows and macOS the two would be one folder.
        // (The same name exactly is refused below, with a resume hint.)
        if (ModelServer.Models.ModelStore.TakenName(root, folderName) is { } taken && taken != folderName)
            throw new ArgumentException($"A model named '{taken}' exists in {root}, and names may not differ only in case (on some file systems they are one folder); choose another --name.");
        return Path.Combine(root, folderName);
    }

    /// <summary>
    /// Says before training starts when the run may need more memory than the machine has (by
    /// <see cref="TrainingFootprint"/>'s estimate, an upper one): otherwise the first sign would be
    /// the system killing the process, minutes in. A warning, not a refusal: the estimate runs high.
    /// </summary>
    private static void WarnIfTooLarge(Architecture architecture, HyperParameters hp, int vocabulary, int characters)
    {
        var needed = TrainingFootprint.Bytes(architecture, hp, vocabulary, characters);
        var machine = MachineMemory.Bytes;
        if (needed <= machine) return;
        Console.Error.WriteLine($"charrnn: warning: by its sizes this run may need up to {TrainingFootprint.Format(needed)} of memory, more than the " +
                                $"{TrainingFootprint.Format(machine)} this process may use: it may be killed for want of memory. A smaller bs, bptt, context or n_hidden needs less.");
    }

    /// <summary>--out is made and written to before training starts, not found unusable at the first checkpoint, an epoch later.</summary>
    private static void CheckWritableFolder(string folder, string label)
    {
        if (File.Exists(folder))
            throw new ArgumentException($"{label} '{folder}' is a file; give a folder for the model's checkpoints (it is made if missing).");
        var probe = Path.Combine(folder, $".write-check-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{label} '{folder}' cannot be written: {e.Message}");
        }
    }

    public static Command CreateResume()
    {
        var model = new Argument<string>("model") { Description = "Model folder (or a .ckpt file) to continue, or the name of a model in --models." }.RefusingFlags().NotEmpty("a model's name or folder");
        var models = CommonOptions.ModelsDir();
        var corpus = new Option<string?>("--corpus") { Description = "The corpus file it was trained on; needed only for a model trained on a file (known corpora and server uploads are found by name; checked by SHA-256)." }.NotEmpty("the text file it was trained on");
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var flags = new TrainingFlags(resuming: true);
        var command = new Command("resume", "Continue training a model exactly where it stopped (optionally for more epochs).")
        {
            model, models, corpus, device, threads,
        };
        foreach (var o in flags.All) command.Add(o);
        command.SetAction(parse =>
        {
            var path = ModelFolder.CheckpointForResume(ModelArgument.Resolve(parse.GetValue(model)!, parse.GetValue(models)!));
            var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
            // The run saves into the checkpoint's folder: continuing an older checkpoint there would overwrite its last.ckpt.
            var last = Path.Combine(folder, Trainer.LastCheckpoint);
            if (File.Exists(last) && Path.GetFullPath(path) != last)
                throw new ArgumentException($"'{path}' is not its folder's last.ckpt, which a resume there would overwrite; " +
                                            $"copy it into a folder of its own as last.ckpt and resume that (or resume {folder} to continue the latest).");
            var meta = CheckpointFile.ReadMetadata(path);
            var torchDevice = TorchRuntime.Initialize(parse.GetValue(device)!, parse.GetValue(threads));
            using var served = ServerDatabase.HoldIfServed(ParentOf(folder));
            using var training = ModelFolder.HoldForTraining(folder);
            var text = new CorpusResolver().Resolve(parse.GetValue(corpus) ?? CorpusOf(meta, folder));
            using var trainer = Trainer.Resume(path, text, torchDevice, folder, options => flags.Apply(parse, options with { TimeBudget = null }));
            if (trainer.IsComplete)
            {
                var (options, position) = (trainer.Options, trainer.Position);
                var byMaxSteps = options.MaxSteps > 0 && position.Step >= options.MaxSteps;
                // A limit given now that the run has already passed: a typo, or --epochs read as "this many more".
                if (byMaxSteps ? parse.GetValue(flags.MaxSteps) != null : parse.GetValue(flags.Epochs) != null)
                    throw new ArgumentException(byMaxSteps
                        ? FormattableString.Invariant($"--max-steps {options.MaxSteps} is not more than the {position.Step} steps it has trained (it counts steps in total); pass a larger one, or --max-steps 0 to train to --epochs.")
                        : FormattableString.Invariant($"--epochs {options.Epochs} is not more than the {position.Epoch} epochs it has trained (it counts epochs in total); pass --epochs {position.Epoch + 1} or more."));
                Console.WriteLine(byMaxSteps
                    ? FormattableString.Invariant($"Nothing to do: it has reached max_steps = {options.MaxSteps} (step {position.Step}; {position.Epoch} of {options.Epochs} epoch(s) done). Pass a larger --max-steps N, or --max-steps 0 to train to --epochs.")
                    : FormattableString.Invariant($"Nothing to do: it has trained {position.Epoch} of {options.Epochs} epoch(s). Pass --epochs N (more than {position.Epoch}) to train further."));
                return 0;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"resuming {trainer.Architecture.Name} at epoch {trainer.Position.Epoch + 1}, step {trainer.Position.Step} of {trainer.EstimateTotalSteps()} · {TorchRuntime.Describe(torchDevice)}"));
            return RunToEnd(trainer);
        });
        return command;
    }

    /// <summary>
    /// The corpus a resume reads when --corpus is not given: a known corpus by name, or the copy
    /// of an upload a server keeps in the model folder. A file it was trained on cannot be found by name.
    /// </summary>
    private static string CorpusOf(CheckpointMetadata meta, string folder)
    {
        var name = meta.Corpus.Name;
        // By content too: a file of the same name (another nietzsche.txt) is not the known corpus.
        if (KnownCorpus.All.Any(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase) && k.Sha256 == meta.Corpus.Sha256)) return name;
        var upload = Path.Combine(folder, ModelFolder.UploadedCorpusFile);
        if (File.Exists(upload)) return upload;
        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"The model was trained on corpus '{name}' ({meta.Corpus.Characters:N0} chars, SHA-256 {meta.Corpus.Sha256[..Math.Min(12, meta.Corpus.Sha256.Length)]}…), a file rather than a known corpus; give that file with --corpus PATH."));
    }

    private static int RunToEnd(Trainer trainer)
    {
        using var console = new TrainingConsole(Console.Out, live: !Console.IsOutputRedirected);
        console.Attach(trainer);
        TrainingOutcome outcome;
        try { outcome = trainer.Run(console.Stopping); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk or a folder taken away mid-run: the run failed (exit 1), not its arguments (2).
            outcome = new TrainingOutcome(TrainingOutcomeKind.Failed, $"could not write a checkpoint: {e.Message}", null, trainer.History.LastOrDefault());
        }
        console.Report(outcome);
        // Ended between epoch ends (max_steps, a time budget): the run validated its last weights before saving them.
        if (outcome.Kind != TrainingOutcomeKind.Failed && trainer.Position.Batch > 0 && trainer.CurrentValidation is var (loss, accuracy))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"validation loss {loss:F4} nats/char, accuracy {accuracy:P1} at step {trainer.Position.Step} (mid-epoch)"));
        }
        // 128 + the signal, as a shell gives a run a signal ended: `charrnn train … && charrnn generate …` stops there.
        return outcome.Kind == TrainingOutcomeKind.Failed ? 1 : console.SignalExitCode ?? 0;
    }

    private static string ParentOf(string folder) => Path.GetDirectoryName(Path.GetFullPath(folder)) ?? ".";

    private static string HoldersOf(string name) =>
        string.Join(", ", Architectures.All.Where(a => a.Parameters.Any(p => p.Name == name)).Select(a => a.Name));
}
