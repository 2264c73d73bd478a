using System.CommandLine;
using System.Globalization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Storage;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Persistence;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn train. Every hyperparameter of every architecture is a flag (--n-hidden 512); the
/// chosen architecture's spec decides which are allowed and their range.
/// </summary>
public static class TrainCommand
{
    public static Command CreateTrain()
    {
        var architectureFlags = new ArchitectureFlags("stateful-lstm");
        var (archArgument, arch, hyper) = (architectureFlags.Argument, architectureFlags.Arch, architectureFlags.HyperParameters);
        var recipe = RecipeOption.Create("Start from a named recipe's settings; flags given beside it override them.", r => r.Flags);
        var models = CommonOptions.ModelsDir();
        models.Description = "Folder that holds model folders: the model goes in MODELS/NAME.";
        var name = new Option<string?>("--name") { Description = "The model's name: its folder in --models (default: the architecture's name)." };
        var output = new Option<string?>("--out") { Description = "Model folder to create, anywhere (instead of --models and --name); its last folder is the model's name, held to --name's rule." }.NotEmpty("the model folder to create");
        var corpus = CommonOptions.Corpus();
        var lower = new Option<bool>("--lower") { Description = "Lowercase the text (as the lesson's stateful part)." };
        var minFreq = new Option<int>("--min-freq") { Description = "Characters rarer than this map to the unknown symbol.", DefaultValueFactory = _ => 1 }.Allowing(TrainingFlags.Spec("min_freq"));
        var valFraction = new Option<double>("--val-fraction") { Description = "Share held out for validation.", DefaultValueFactory = _ => 0.2 }.Allowing(TrainingFlags.Spec("val_fraction"));
        var seed = new Option<int>("--seed") { Description = "Seed for initialisation, shuffling and dropout.", DefaultValueFactory = _ => 42 }.Allowing(TrainingFlags.Spec("seed"));
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var flags = new TrainingFlags(resuming: false);
        var initFrom = new Option<string?>("--init-from") { Description = "Start from this model's weights (a name in --models, a model folder or a .ckpt, as generate finds it): a new model with its architecture, hyperparameters and vocabulary, " +
            "and a fresh optimizer, schedule and history, trained on --corpus with these flags (fine-tuning; karpathy's -init_from). The architecture and the hyperparameter flags, --lower and --min-freq may be left out; given, they must be the source's.", HelpName = "model" }.NotEmpty("a model name, folder or .ckpt");

        var command = new Command("train", $"Train a model, showing progress (c/s: characters predicted per second; {WholeWindowReaders} read a whole window for each); Ctrl+C saves and stops. The defaults train 1 epoch at a constant lr; --recipe {TrainingRecipe.Lesson.Name} trains the lesson's LSTM with the lesson's whole schedule (2 epochs at a constant lr, SGDR over 15, a fresh SGDR over 63: 80 epochs, about an hour at 2 CPU threads; --epochs N stops sooner): {TrainingRecipe.Lesson.Command}")
        {
            archArgument, arch, recipe, initFrom, models, name, output, corpus, lower, minFreq, valFraction, seed, device, threads,
        };
        foreach (var o in flags.All) command.Add(o);
        foreach (var o in hyper.Values) command.Add(o);

        command.SetAction(parse =>
        {
            var chosenRecipe = RecipeOption.Chosen(parse, recipe);
            var source = parse.GetValue(initFrom) is { } sourceGiven ? InitFromArgument.Resolve(sourceGiven, parse.GetValue(models)!) : null;
            if (source != null && chosenRecipe != null)
                throw new ArgumentException($"--recipe sets an architecture and its hyperparameters, and --init-from takes them from '{source.Name}'; drop --recipe and give the training flags (--epochs, --lr, --schedule, ...).");
            var architecture = source != null ? Architectures.Get(source.Metadata.Architecture)
                : Architectures.Get(RecipeOption.ArchitectureOf(architectureFlags.Given(parse), chosenRecipe, r => r.Flags));
            if (source != null)
                InitFromSource.CheckGiven(source.Metadata, source.Name, new InitFromGiven(architectureFlags.Given(parse), architectureFlags.GivenValues(parse, architecture),
                    parse.GetResult(lower) is { Implicit: false } ? parse.GetValue(lower) : null, parse.GetResult(minFreq) is { Implicit: false } ? parse.GetValue(minFreq) : null));
            var hyperParameters = source != null ? architecture.Resolve(source.Metadata.HyperParameters) : architectureFlags.Resolve(parse, architecture);
            var options = new TrainingOptions
            {
                LearningRate = LayerGroupValues.All(architecture.DefaultLearningRate),
                WeightDecay = LayerGroupValues.All(architecture.DefaultWeightDecay),
                ValidFraction = parse.GetValue(valFraction),
                Seed = parse.GetValue(seed),
            };
            // The recipe first, then what the flags given say over it.
            if (chosenRecipe != null) options = chosenRecipe.Apply(options);
            if (parse.GetResult(lower) is { Implicit: false }) options = options with { Lowercase = parse.GetValue(lower) };
            if (parse.GetResult(minFreq) is { Implicit: false }) options = options with { MinFrequency = parse.GetValue(minFreq) };
            options = flags.Apply(parse, options);
            if (source != null) options = InitFromSource.WithSourceText(options, source.Metadata);
            var folder = FolderFor(parse.GetValue(output), parse.GetResult(models) is { Implicit: false } ? parse.GetValue(models) : null, parse.GetValue(name), architecture.Name);
            // Messages name the option the folder came from.
            var folderOption = parse.GetValue(output) != null ? "--out" : parse.GetValue(name) != null ? "--name" : "--name (it defaults to the architecture's)";
            if (ModelFolder.HoldsModel(folder))
            {
                // A run training into it now: that first, as a resume would only meet it. One this user may not write holds a model all the same.
                try { using (ModelFolder.HoldForTraining(folder)) { } }
                catch (UnauthorizedAccessException) { }
                throw new ArgumentException(HeldFolderMessage(folder, folderOption, source));
            }
            var text = new CorpusResolver().Resolve(parse.GetValue(corpus));
            Trainer.CheckNoNul(text); // before any line that says it trains, as the Trainer would refuse it only after them
            if (source != null) // its bs or window is the source's, which no flag here changes: the refusal says what can be
                TrainingData.CheckFits(architecture, hyperParameters, options, text.Text.EnumerateRunes().Count(), source.Name, valFraction.Name, HyperParameterSpec.FlagOf, " ");
            using var signals = AsyncSignalMask.BlockOnThisThread(); // this thread runs libtorch: Ctrl+C must land on another (see AsyncSignalMask)
            var torchDevice = TorchRuntime.Initialize(parse.GetValue(device)!, parse.GetValue(threads)); // a bad --device is refused before --out is made
            using var console = TrainingRun.NewConsole();
            // Before the lines that say what it trains, without making the folder (a stdout that fails at its first line leaves none).
            CheckWritableFolder(folder, parse.GetValue(output) != null ? "--out" : "The model folder", make: false);
            // Before the lines that say what it trains: a run a server's folder refuses has not started.
            using var served = ServerDatabase.HoldIfServed(TrainingRun.ParentOf(folder));
            // Before the folder is made too: a stdout that cannot be written (a full disk) leaves no empty model folder.
            Console.WriteLine($"corpus {text.Name}: {text.CodePoints:N0} chars · {architecture.Name} {TrainingSettingsLine.HyperParameters(hyperParameters)} · {TorchRuntime.Describe(torchDevice)}");
            if (source != null) Console.WriteLine($"{InitFromSource.Record(source.Metadata, source.Name, source.Checkpoint).Describe()}: its weights and vocabulary, a fresh optimizer and history");
            Console.WriteLine(TrainingSettingsLine.Of(options));
            foreach (var warning in TrainingWarnings.For(options)) Console.Error.WriteLine("charrnn: warning: " + warning.Say(TrainingSettingNames.CommandLine));
            var made = !Directory.Exists(folder);
            CheckWritableFolder(folder, parse.GetValue(output) != null ? "--out" : "The model folder");
            using var training = ModelFolder.HoldForTraining(folder);
            if (ModelFolder.HoldsModel(folder)) // again, held: a run that held it until now may have just saved one
                throw new ArgumentException(HeldFolderMessage(folder, folderOption, source));
            if (torchDevice.type == TorchSharp.DeviceType.CPU)
                MemoryWarning.WriteIfTooLarge(architecture, hyperParameters,
                    source?.Metadata.Vocabulary.Symbols.Length ?? Vocabulary.Build(text.Text, options.Lowercase, options.MinFrequency).Size, text.Length, Console.Error);
            Trainer trainer;
            try
            {
                if (source == null) TrainingData.CheckFits(architecture, hyperParameters, options, text.Text.EnumerateRunes().Count(), null, valFraction.Name, HyperParameterSpec.FlagOf, " "); // as Create checks it, naming --val-fraction
                trainer = source != null ? Trainer.InitFrom(source.Checkpoint, source.Name, options, text, torchDevice, folder)
                    : Trainer.Create(architecture, hyperParameters, options, text, torchDevice, folder);
            }
            catch
            {
                training.Dispose();
                if (made && !Directory.EnumerateFileSystemEntries(folder).Any())
                    Directory.Delete(folder); // a refused corpus or setting leaves no empty model folder behind
                throw;
            }
            using (trainer) return TrainingRun.RunToEnd(trainer, console);
        });
        return command;
    }

    /// <summary>
    /// Why <paramref name="folder"/>, holding a model, is refused: a resume hint for a new model, which may have meant to
    /// continue it; a fine-tune (<paramref name="source"/>) is a new model of its own, whatever folder it names.
    /// </summary>
    private static string HeldFolderMessage(string folder, string folderOption, InitFromArgument? source)
    {
        if (source == null) return $"'{folder}' already holds a model; continue it with 'charrnn resume {folder}' or choose another {folderOption}.";
        var other = folderOption == "--out" ? "--name" : "--out";
        var sameFolder = string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)),
            Path.GetDirectoryName(Path.GetFullPath(source.Checkpoint)), StringComparison.Ordinal);
        return sameFolder
            ? $"'{folder}' is the folder of '{source.Name}', the model --init-from starts from; the fine-tuned model is a new one and needs a folder of its own: choose another {folderOption}, or {other}."
            : $"'{folder}' already holds a model; --init-from makes a new one, which needs a folder of its own: choose another {folderOption}, or {other}.";
    }

    /// <summary>--out as given, else MODELS/NAME (models/<paramref name="defaultName"/> without --name): a model name as the server takes it, not a path.</summary>
    internal static string FolderFor(string? output, string? models, string? name, string defaultName)
    {
        if (output != null && (models != null || name != null))
            throw new ArgumentException($"--out names the model's folder whole; give it, or --models and --name, not both.");
        if (output != null)
        {
            // The model's name is its folder's (models and the server list it so): the rule --name gets, on --out's last folder.
            CheckNewName(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(output))), $"--out '{output}': the model's name (its folder's)");
            return output;
        }
        if (models != null && File.Exists(models))
            throw new ArgumentException($"--models '{models}' is a file; give the folder that holds model folders (it is made if missing).");
        if (name != null) CheckNewName(name, "--name");
        var (root, folderName) = (models ?? "models", name ?? defaultName);
        // As the server keeps names: on Windows and macOS the two would be one folder.
        // (The same name exactly is refused below, with a resume hint.)
        if (ModelServer.TrainedModels.ModelNames.Taken(root, folderName) is { } taken && taken != folderName)
            throw new ArgumentException($"A model named '{taken}' exists in {root}, and names may not differ only in case (on some file systems they are one folder); choose another --name.");
        return Path.Combine(root, folderName);
    }

    /// <summary>A new model's name by the server's rule (<see cref="ModelServer.TrainedModels.ModelNames.ValidateNew"/>), refused as a usage error.</summary>
    internal static void CheckNewName(string name, string field)
    {
        try { ModelServer.TrainedModels.ModelNames.ValidateNew(name, field); }
        catch (ModelServer.Errors.ServerException e) { throw new ArgumentException(e.Message); }
    }

    /// <summary>
    /// --out is made and written to before training starts, not found unusable at the first checkpoint, an epoch later.
    /// Without <paramref name="make"/>, a folder not there yet is not made: the nearest folder above it is written to instead.
    /// </summary>
    internal static void CheckWritableFolder(string folder, string label, bool make = true)
    {
        if (File.Exists(folder))
            throw new ArgumentException($"{label} '{folder}' is a file; give a folder for the model's checkpoints (it is made if missing).");
        var probeName = ModelFolder.WriteCheckFile(Environment.ProcessId);
        var existing = OutputFolder.NearestExisting(Path.Combine(folder, probeName)); // the folder itself where it exists
        if (File.Exists(existing))
            throw new ArgumentException($"{label} '{folder}' cannot be written: '{existing}' is a file, not a folder; give a folder for the model's checkpoints (it is made if missing).");
        var probe = Path.Combine(make ? folder : existing, probeName);
        try
        {
            if (make) Directory.CreateDirectory(folder);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !DiskFault.Is(e)) // a full disk is a failed run (exit 1)
        {
            // The system's words name the probe, a file the user never gave: they name the folder it was written in instead.
            var written = Path.GetDirectoryName(probe)!;
            throw new ArgumentException($"{label} '{folder}' cannot be written: {e.Message.Replace(Path.GetFullPath(probe), written).Replace(probe, written)}");
        }
    }

    /// <summary>The architectures that predict one character from each window (char3, loop, …), for the help's c/s note.</summary>
    private static string WholeWindowReaders
    {
        get
        {
            var names = Architectures.All.Where(a => a.Layout == DataLayout.NextCharWindows).Select(a => a.Name).ToList();
            return ProseList.Of(names, "and");
        }
    }
}
