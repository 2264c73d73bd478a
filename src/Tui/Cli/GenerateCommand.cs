using System.CommandLine;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn generate: primes a model and streams sampled text to stdout as it is sampled; with --samples,
/// several continuations of the prime at once (<see cref="GeneratedSamples"/>), with --stop each ends at a string.
/// A prime with characters the model cannot read, or with the padding NUL (<see cref="PaddingInText"/>), is refused, naming
/// them, as the server refuses it, unless --skip-unknown leaves them out (<see cref="KnownText"/>, as the server's
/// UNKNOWN_CHARS_SKIP does); stderr then says which, stdout shows the prime fed.
/// </summary>
public static class GenerateCommand
{
    /// <summary>The most characters one generation asks for, here and at the REPL's gen.</summary>
    public const int MaxChars = 1_000_000;

    public static Command Create()
    {
        var named = new Argument<string?>("model") { Description = "Model folder or .ckpt file, or the name of a model in --models (or give it as --model).", Arity = ArgumentArity.ZeroOrOne }.RefusingFlags().NotEmpty("a model's name or folder");
        var model = new Option<string?>("--model") { Description = "Model folder or .ckpt file, or the name of a model in --models." }.NotEmpty("a model's name or folder");
        var models = CommonOptions.ModelsDir();
        var prime = new Option<string>("--prime") { Description = "Text to start from (the model continues it); its \\r\\n read as \\n as the model's corpus was.", DefaultValueFactory = _ => "" };
        var primeFile = new Option<string?>("--prime-file") { Description = $"Read the prime from this UTF-8 file (- for stdin), as it is but for its \\r\\n, read as \\n as the model's corpus was; 1 to {PrimeFile.MaxChars:N0} characters. Not with --prime." }.NotEmpty("a file, or - for stdin");
        var count = new Option<int>("-n", "--chars") { Description = "Characters to generate.", DefaultValueFactory = _ => 400 }.Allowing(1, MaxChars);
        var temperature = new Option<double>("--temperature", "-t") { Description = "0: greedy (argmax); 1: the model's distribution; higher: wilder.", DefaultValueFactory = _ => 0.8 }.Allowing(SamplingRanges.Temperature());
        var topK = new Option<int>("--top-k") { Description = "Sample only among the k most likely chars (0: off).", DefaultValueFactory = _ => 0 }.Allowing(SamplingRanges.TopK);
        var topP = new Option<double>("--top-p") { Description = "Sample only from the smallest set reaching this probability (1: off).", DefaultValueFactory = _ => 1.0 }.Allowing(SamplingRanges.TopP);
        var minP = new Option<double>("--min-p") { Description = "Sample only among the chars at least this many times as likely as the most likely one, at the temperature (0: off; below 1). Holds high temperatures together where --top-p does not.", DefaultValueFactory = _ => 0.0 }.Allowing(SamplingRanges.MinP);
        var seed = new Option<ulong?>("--seed") { Description = "Seed for reproducible samples (default: random); with --samples, sample i (from 1) uses seed + i - 1." }.Allowing(NumberOptions.Range(ulong.MinValue, ulong.MaxValue));
        var stop = new Option<string>("--stop") { Description = $"Stop as soon as the generated text ends with this (it is printed); \\n is a line feed, \\t a tab, \\\\ a backslash. At most {StopString.MaxLength} UTF-16 code units, all chars the model generates.", DefaultValueFactory = _ => "" };
        var samples = new Option<int>("--samples") { Description = $"Independent continuations of the prime, generated together as one batch and printed one after another, each behind a '--- sample i of N (seed S) ---' line (1 to {GeneratedSamples.MaxSamples}).", DefaultValueFactory = _ => 1 }.Allowing(1, GeneratedSamples.MaxSamples);
        var skipUnknown = new Option<bool>("--skip-unknown") { Description = "Leave out of the prime the characters the model's vocabulary does not know (a stray emoji) and generate from the rest; stderr says how many were skipped and which, and the text printed starts with the prime as fed. Without it such a prime is refused." };
        var precision = new Option<string>("--precision") { Description = $"What the model's large products compute in: {GenerationPrecisions.Allowed}.", DefaultValueFactory = _ => "float32" };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var command = new Command("generate", "Generate text from a trained model, streaming to stdout.")
        {
            named, model, models, prime, primeFile, count, temperature, topK, topP, minP, seed, stop, samples, skipUnknown, precision, device, threads,
        };
        command.SetAction(parse =>
        {
            // -n from 1, as the REPL's gen takes it (0 would print the prime alone); its range, and --samples', are their options'.
            var (n, sampleCount) = (parse.GetValue(count), parse.GetValue(samples));
            var stopText = Repl.BackslashEscapes.Unescape(parse.GetValue(stop)!);
            if (StopString.TooLong(stopText) is { } tooLong) throw new ArgumentException($"--stop {tooLong}");
            if (parse.GetValue(primeFile) is not null && parse.GetResult(prime) is { Implicit: false })
                throw new ArgumentException("--prime and --prime-file both give the prime; give one of them.");
            var chosenPrecision = GenerationPrecisions.Parse(parse.GetValue(precision)!, "--precision");
            var drawn = parse.GetValue(seed) is null;
            var settings = new SamplingSettings(parse.GetValue(temperature), parse.GetValue(topK), parse.GetValue(topP),
                parse.GetValue(seed) ?? SamplingSettings.DrawSeed(), parse.GetValue(minP)).Validate();
            var resolved = ModelArgument.Resolve(ModelArgument.OneOf(parse.GetValue(named), parse.GetValue(model)), parse.GetValue(models)!);
            var path = ModelFolder.CheckpointForGeneration(resolved);
            var file = parse.GetValue(primeFile);
            var givenPrime = file is not null ? PrimeFile.Read(file) : parse.GetValue(prime)!;
            using var signals = AsyncSignalMask.BlockOnThisThread(); // this thread runs libtorch: Ctrl+C must land on another (see AsyncSignalMask)
            var torchDevice = TorchRuntime.Initialize(parse.GetValue(device)!, parse.GetValue(threads));
            if (GenerationPrecisions.WhyUnavailable(chosenPrecision, torchDevice.type) is { } why)
                throw new ArgumentException($"--precision {GenerationPrecisions.Name(chosenPrecision)} is not available here: {why}. Use --precision float32 (the default).");
            var (loaded, loadedPath) = ModelArgument.Load(path, torchDevice, "Generating from", chosenPrecision);
            using var trained = loaded;
            if (trained.Model.GenerationPrecision != chosenPrecision)
                throw new ArgumentException($"--precision {GenerationPrecisions.Name(chosenPrecision)}: {GenerationPrecisions.NoBf16Path(trained.Architecture.Name)}. Use --precision float32 (the default).");
            var fellBack = loadedPath != path;
            // A folder holds several checkpoints, and the one it gives is not the latest: say which (a file given is the user's choice).
            if (Directory.Exists(resolved) && !fellBack)
                Console.Error.WriteLine($"charrnn: generating from {path}" + (Path.GetFileName(path) == Engine.Training.Trainer.BestCheckpoint
                    ? $" (the best epoch's; give {Path.Combine(resolved, Engine.Training.Trainer.LastCheckpoint)} for the latest weights)" : ""));
            // Before the prime is fed: a refused stop string costs nothing.
            if (StopString.NeverGenerated(stopText, trained.Vocabulary) is { } never)
                throw new ArgumentException($"--stop {never} Use characters of the model's training corpus.");
            givenPrime = Corpus.WithLineEndingsAsLearned(trained.Vocabulary, givenPrime); // a prime saved or pasted on Windows reads as the corpus did (and as a server session reads one)
            var primeName = file is null ? "--prime" : $"--prime-file '{file}'";
            if (!parse.GetValue(skipUnknown) && PaddingInText.In(givenPrime)) // it encodes: Feed would read it as text
                throw new ArgumentException($"{primeName} {PaddingInText.Problem}. Nothing was generated: remove it, or give --skip-unknown to leave it out and generate from the rest.");
            var known = parse.GetValue(skipUnknown) ? KnownText.Of(trained.Vocabulary, givenPrime) : new KnownText(givenPrime, []);
            var primeText = known.Text;
            using var session = new GenerationSession(trained.Model, trained.Vocabulary, settings);
            try { session.Feed(primeText); }
            catch (UnknownCharactersException e)
            {
                throw new ArgumentException($"{primeName} {UnknownCharsText.Refused(givenPrime, e)} " +
                                            "Nothing was generated: remove them from the prime, give --skip-unknown to leave them out and generate from the rest, or use a model trained on a corpus that has them.");
            }
            if (known.SkippedCount > 0) Console.Error.WriteLine($"charrnn: {UnknownCharsText.Skipped(known)} from the prime");
            // On stderr, so that piped text stays only the text; and first, so that a run cut short names it too.
            if (drawn && settings.Temperature > 0) // at 0 the text is greedy: no seed changes it
                Console.Error.WriteLine($"(seed {settings.Seed}: --seed {settings.Seed} gives {(sampleCount == 1 ? "this text" : "these samples")} again)");
            // A reader that goes away (`| head -c 200`) wants nothing more: generating stops there.
            Standard.WriteUntilReaderLeaves(stdout => GeneratedSamples.Write(stdout, session, trained.Vocabulary.Normalize(primeText), sampleCount, n, stopText));
            return 0;
        });
        return command;
    }
}
