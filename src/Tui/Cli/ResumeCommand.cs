using System.CommandLine;
using System.Globalization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Persistence;

namespace CharRnn.Tui.Cli;

/// <summary>charrnn resume: continue a model exactly where it stopped, with the training flags train takes (those a resume may change).</summary>
public static class ResumeCommand
{
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
            // As given, not made absolute: the lines that name checkpoints print it as charrnn train prints its folder.
            var folder = Path.GetDirectoryName(path) is { Length: > 0 } parent ? parent : ".";
            // The run saves into the checkpoint's folder: continuing an older checkpoint there would overwrite its last.ckpt.
            var last = Path.Combine(folder, Trainer.LastCheckpoint);
            if (File.Exists(last) && Path.GetFullPath(path) != Path.GetFullPath(last))
                throw new ArgumentException($"'{path}' is not its folder's last.ckpt, which a resume there would overwrite; " +
                                            $"copy it into a folder of its own as last.ckpt and resume that (or resume {folder} to continue the latest).");
            CheckpointMetadata meta;
            try { meta = CheckpointFile.ReadMetadata(path); }
            catch (CheckpointException e) when (Path.GetFileName(path) == Trainer.LastCheckpoint && ModelFolder.ResumeFromBestHint(folder) is { Length: > 0 } hint)
            {
                throw new CheckpointException(path, e.Problem + hint, e.Damaged);
            }
            if (meta.Imported is { } imported) throw new CheckpointException(path, imported.WhyNotResumable); // before it asks for a corpus
            TrainCommand.CheckWritableFolder(folder, "The model folder"); // as train says it, not as its lock file that could not be made (exit 1)
            using var signals = AsyncSignalMask.BlockOnThisThread(); // this thread runs libtorch: Ctrl+C must land on another (see AsyncSignalMask)
            var torchDevice = TorchRuntime.Initialize(parse.GetValue(device)!, parse.GetValue(threads));
            using var console = TrainingRun.NewConsole();
            using var served = ServerDatabase.HoldIfServed(TrainingRun.ParentOf(folder));
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
                    ? FormattableString.Invariant($"Nothing to do: it has reached --max-steps {options.MaxSteps} (step {position.Step}; {position.Epoch} of {options.Epochs} epoch(s) done). Pass a larger --max-steps N, or --max-steps 0 to train to --epochs.")
                    : FormattableString.Invariant($"Nothing to do: it has trained {position.Epoch} of {options.Epochs} epoch(s). Pass --epochs N (more than {position.Epoch}) to train further."));
                return console.SignalExitCode ?? 0;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"resuming {trainer.Architecture.Name} at epoch {trainer.Position.Epoch + 1}, step {trainer.Position.Step} of {trainer.EstimateTotalSteps()} · {TorchRuntime.Describe(torchDevice)}"));
            Console.WriteLine(TrainingSettingsLine.Of(trainer.Options));
            // No --lr: the run goes on at the model's stored rate, which the warning names as such.
            foreach (var warning in TrainingWarnings.For(trainer.Options, rateGiven: parse.GetValue(flags.Lr) != null))
                Console.Error.WriteLine("charrnn: warning: " + warning.Say(TrainingSettingNames.CommandLine));
            return TrainingRun.RunToEnd(trainer, console);
        });
        return command;
    }

    /// <summary>"2,040 chars" (code points), or "2,460 UTF-16 units" from a checkpoint saved before it stored its code points.</summary>
    private static string SizeOf(CorpusRecord corpus) => corpus.CodePoints > 0
        ? corpus.CodePoints.ToString("N0", CultureInfo.InvariantCulture) + " chars"
        : corpus.Characters.ToString("N0", CultureInfo.InvariantCulture) + " UTF-16 units";

    /// <summary>
    /// The corpus a resume reads when --corpus is not given: a known corpus by name, or the copy
    /// of an upload a server keeps in the model folder. A file it was trained on cannot be found by name.
    /// </summary>
    private static string CorpusOf(CheckpointMetadata meta, string folder)
    {
        var name = meta.Corpus.Name;
        // By content too: a file of the same name (another nietzsche.txt) is not the known corpus.
        if (KnownCorpus.All.Any(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase) && k.Sha256 == meta.Corpus.Sha256)) return name;
        // By the checkpoint's word, as a server resumes: a corpus.txt can be a stopped upload job's leftover.
        var upload = Path.Combine(folder, ModelFolder.UploadedCorpusFile);
        if (name == ModelServer.Corpora.CorpusStore.UploadedName && File.Exists(upload)) return upload;
        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"The model was trained on corpus '{name}' ({SizeOf(meta.Corpus)}, SHA-256 {meta.Corpus.Sha256[..Math.Min(12, meta.Corpus.Sha256.Length)]}…), a file rather than a known corpus; give that file with --corpus PATH."));
    }
}
