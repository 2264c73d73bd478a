using System.CommandLine;
using System.Text;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;
using CharRnn.Tui.Client;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn eval: how well a model predicts a text file (the char-rnn measure: nats and bits per char,
/// perplexity, top-1 accuracy), computed in-process over the whole file in batches, as validation is.
/// A text with characters outside the model's vocabulary is refused, naming them: a score that left
/// some of the text out would not be the text's, unless --skip-unknown asks for just that (the line then says
/// what was left out). So is one with NUL, which the vocabulary holds as padding.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var named = new Argument<string>("model") { Description = "Model folder or .ckpt file, or the name of a model in --models." }.RefusingFlags().NotEmpty("a model's name or folder");
        var models = CommonOptions.ModelsDir();
        var textFile = new Option<string>("--text") { Description = "The text file (UTF-8) to score.", Required = true }.NotEmpty("a text file");
        var skipUnknown = new Option<bool>("--skip-unknown") { Description = "Leave out the characters the model's vocabulary does not know (a stray emoji in a held-out file) and score the rest; the output says how many were skipped and which. Without it such a text is refused." };
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object instead of a line of words." };
        var perChar = new Option<string?>("--per-char")
        {
            Description = "Also write each scored char's score to this file as TSV (index, char, loss_nats, p, top1; written atomically), or - for stdout " +
                          "(the summary then goes to stderr): where the model was surprised.",
        }.NotEmpty("a file for the per-char scores, or -");
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var command = new Command("eval", "Score how well a model predicts a text file: nats and bits per char, perplexity, top-1 accuracy.")
        {
            named, models, textFile, skipUnknown, json, perChar, device, threads,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(textFile)!;
            var text = ReadText(file);
            var perCharOut = parse.GetValue(perChar);
            if (perCharOut != null) PerCharTable.Check(perCharOut, file);
            var path = ModelFolder.CheckpointForGeneration(ModelArgument.Resolve(parse.GetValue(named)!, parse.GetValue(models)!));
            using var signals = AsyncSignalMask.BlockOnThisThread(); // this thread runs libtorch (see AsyncSignalMask)
            var torchDevice = TorchRuntime.Initialize(parse.GetValue(device)!, parse.GetValue(threads));
            (var loaded, path) = ModelArgument.Load(path, torchDevice, "Scoring with");
            using var trained = loaded;
            var known = parse.GetValue(skipUnknown) ? KnownText.Of(trained.Vocabulary, Corpus.WithLineEndingsAsLearned(trained.Vocabulary, text)) : new KnownText(text, []); // "\r\n" as the corpus read it: no '\r' skipped
            var skipped = Skipped(known);
            Engine.Sampling.TextScore score;
            try { score = TextEvaluation.Evaluate(trained, known.Text, torchDevice, perChar: perCharOut != null); }
            catch (UnknownCharactersException e) { throw Unknown(file, text, e); }
            catch (ArgumentException e) // too short, once the unknown chars are out too: said so, or the count would not be the file's
            {
                // "The text has 1 character(s); …" reads as the other refusals do: "--text 'FILE' has 1 character(s); …".
                var said = e.Message.StartsWith("The text ", StringComparison.Ordinal) ? " " + e.Message["The text ".Length..] : ": " + e.Message;
                throw new ArgumentException($"--text '{file}'{said}" + (known.SkippedCount > 0 ? $" That is what is left once --skip-unknown left out {known.SkippedCount:N0} unknown char(s)." : ""));
            }
            if (perCharOut != null) PerCharTable.Write(perCharOut, score.Chars!);
            var summary = perCharOut == "-" ? Console.Error : Console.Out; // stdout holds the table
            summary.WriteLine(parse.GetValue(json)
                ? ScriptJson.Serialize(new
                {
                    model = path, text = file, characters_scored = score.Characters, loss_nats_per_char = score.Loss,
                    bits_per_char = score.Loss / Math.Log(2), perplexity = Math.Exp(score.Loss), accuracy = score.Accuracy,
                    unknown_chars_skipped = known.SkippedCount,
                })
                : $"{score.Characters:N0} chars of {file} scored by {path} · {PredictionScoreText.Describe(score.Loss, score.Accuracy)}{skipped}");
            return 0;
        });
        return command;
    }

    private static string ReadText(string file)
    {
        if (Directory.Exists(file)) throw new ArgumentException($"--text '{file}' is a folder; give the text file to score.");
        if (!File.Exists(file)) throw new ArgumentException($"--text '{file}' does not exist; give the text file to score.");
        var text = Utf8TextFile.Read(file, $"--text '{file}'");
        if (text.Length == 0) throw new ArgumentException($"--text '{file}' is empty; give a text of at least 2 characters to score.");
        RefusePadding(file, text);
        return text;
    }

    /// <summary>
    /// NUL is in every vocabulary as padding, not as text the model reads: it encodes without error, and
    /// validation's batches would score it silently. It is refused as the server's Feed refuses it, saying
    /// where the first one is (lines and columns counted in characters).
    /// </summary>
    private static void RefusePadding(string file, string text)
    {
        var first = text.IndexOf('\0');
        if (first < 0) return;
        var before = text[..first];
        var lineStart = before.LastIndexOf('\n') + 1;
        var line = before.Count(c => c == '\n') + 1;
        var column = before[lineStart..].EnumerateRunes().Count() + 1;
        var character = before.EnumerateRunes().Count() + 1;
        throw new ArgumentException($"--text '{file}' contains {Vocabulary.Describe(new Rune(0))} {text.Count(c => c == '\0'):N0} time(s), the first at line {line:N0}, " +
                                    $"column {column:N0} (character {character:N0} of the file), which the model's vocabulary holds as padding, not as text the model reads. " +
                                    "Nothing was scored: remove it; use only characters of the training corpus (see the model's vocabulary).");
    }

    /// <summary>" · 3 unknown char(s) skipped (…)" (<see cref="UnknownCharsText.Skipped"/>); empty when none was.</summary>
    private static string Skipped(KnownText known) => known.Skipped.Count == 0 ? "" : " · " + UnknownCharsText.Skipped(known);

    /// <summary>Names the characters (the first ten) and says how often they occur, as the text was written.</summary>
    private static ArgumentException Unknown(string file, string text, UnknownCharactersException e) =>
        new($"--text '{file}' {UnknownCharsText.Refused(text, e)} " +
            "Nothing was scored: remove them from the text, give --skip-unknown to leave them out and score the rest, or score it with a model trained on a corpus that has them.");
}
