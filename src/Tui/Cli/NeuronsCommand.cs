using System.CommandLine;
using System.Text;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Inspection;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn neurons: what a trained model's hidden cells respond to (Karpathy's "visualizing the predictions and the
/// neuron firings"). A text is fed one char at a time from a fresh state (<see cref="HiddenStateTrace"/>); without
/// --cell the cells that track a simple text feature best are listed (<see cref="CellRanking"/>), with --cell one
/// cell's activation after each char is shown (<see cref="CellActivationText"/>). In-process, as eval is.
/// </summary>
public static class NeuronsCommand
{
    /// <summary>At most as much as a prime: the trace keeps a row of cells per char in memory (100,000 × 512 floats: 200 MB).</summary>
    public const int DefaultMaxChars = 10_000, MostChars = 100_000;

    public static Command Create()
    {
        var named = new Argument<string>("model") { Description = "Model folder or .ckpt file, or the name of a model in --models (a stateful-* one: the others carry no hidden state)." }.RefusingFlags().NotEmpty("a model's name or folder");
        var models = CommonOptions.ModelsDir();
        var textFile = new Option<string?>("--text") { Description = "The text (UTF-8) to feed the model, from this file, or - for stdin. Not with --prime." }.NotEmpty("a text file, or - for stdin");
        var prime = new Option<string?>("--prime") { Description = "The text to feed the model, given here. Not with --text." }.NotEmpty("a text to feed");
        var layer = new Option<int?>("--layer") { Description = "The layer whose cells to show, counted from 0 (the one that reads the input); default: the last." }.Allowing("a layer of the model, from 0 to its layers less 1");
        var cell = new Option<int?>("--cell") { Description = "Show this cell's activation after each char (counted from 0): coloured on a terminal, a TSV (index, char, activation) when redirected or where NO_COLOR is set. Without it: list the cells that track a text feature best." }.Allowing("a cell of the layer, from 0 to its n_hidden less 1");
        var top = new Option<int>("--top") { Description = "How many cells to list without --cell.", DefaultValueFactory = _ => 10 }.Allowing(1, int.MaxValue);
        var maxChars = new Option<int>("--max-chars") { Description = $"Feed at most this many chars of the text, its start (1 to {MostChars:N0}); stderr says when it was cut.", DefaultValueFactory = _ => DefaultMaxChars }.Allowing(1, MostChars);
        var json = new Option<bool>("--json") { Description = "Print the cells listed, or the cell's activations, as one JSON object." };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var command = new Command("neurons", "Show what a model's hidden cells respond to: the cells that track quotes, line position and the like, or one cell's activation along a text.")
        {
            named, models, textFile, prime, layer, cell, top, maxChars, json, device, threads,
        };
        command.SetAction(parse =>
        {
            var (file, given) = (parse.GetValue(textFile), parse.GetValue(prime));
            if (file is null && given is null) throw new ArgumentException("Give the text to feed the model: --text FILE (- for stdin) or --prime TEXT, one of them.");
            if (file is not null && given is not null) throw new ArgumentException("--text and --prime both give the text to feed the model; give one of them.");
            var (most, count) = (parse.GetValue(maxChars), parse.GetValue(top));
            var textName = file is null ? "--prime" : file == "-" ? "--text - (stdin)" : $"--text '{file}'";
            var whole = file is null ? given! : ReadText(file, textName);

            var path = ModelFolder.CheckpointForGeneration(ModelArgument.Resolve(parse.GetValue(named)!, parse.GetValue(models)!));
            using var signals = AsyncSignalMask.BlockOnThisThread(); // this thread runs libtorch (see AsyncSignalMask)
            var torchDevice = TorchRuntime.Initialize(parse.GetValue(device)!, parse.GetValue(threads));
            (var loaded, path) = ModelArgument.Load(path, torchDevice, "Tracing with");
            using var trained = loaded;
            whole = HiddenStateTrace.AsRead(trained.Vocabulary, whole); // --max-chars counts chars as the model reads them
            var text = Start(whole, most);
            if (text.Length < whole.Length)
                Console.Error.WriteLine($"charrnn: feeding the first {most:N0} of {whole.EnumerateRunes().Count():N0} chars of {textName} (--max-chars)");
            if (PaddingInText.In(text)) throw new ArgumentException($"{textName} {PaddingInText.Problem}. Nothing was traced: remove it.");
            HiddenStateTrace trace;
            try { trace = HiddenStateTrace.RecordAsRead(trained.Model, trained.Vocabulary, text, parse.GetValue(layer)); } // read once, above
            catch (UnknownCharactersException e)
            {
                throw new ArgumentException($"{textName} {UnknownCharsText.Refused(text, e)} " +
                                            "Nothing was traced: remove them from the text, or use a model trained on a corpus that has them.");
            }
            var model = (StatefulCharModel)trained.Model;
            var about = new TracedModel(path, trained.Architecture.Name, trace.Layer, model.Layers, trace.Cells, trace.Characters.Count);
            var (chosen, asJson) = (parse.GetValue(cell), parse.GetValue(json));
            var activations = chosen is { } one ? trace.Cell(one) : null; // a cell the layer lacks is refused before any output
            // Read before any output: a bad $CHARRNN_COLORS is refused whole, not after the header.
            var colours = activations != null && !asJson && !Console.IsOutputRedirected
                ? CellActivationText.ColoursOf(Environment.GetEnvironmentVariable, OperatingSystem.IsWindows()) : CellActivationText.TrueColour;
            Standard.WriteUntilReaderLeaves(stdout =>
            {
                if (activations != null)
                {
                    if (asJson) stdout.WriteLine(ScriptJson.Serialize(CellActivationText.Json(about, chosen!.Value, trace.Characters, activations)));
                    else if (Console.IsOutputRedirected || colours == CellActivationText.NoColour) CellActivationText.WriteTable(stdout, trace.Characters, activations);
                    else CellActivationText.WriteColoured(stdout, about, chosen!.Value, trace.Characters, activations, colours);
                }
                else
                {
                    var ranked = CellRanking.Rank(trace, count);
                    if (asJson) stdout.WriteLine(ScriptJson.Serialize(CellActivationText.Json(about, ranked)));
                    else CellActivationText.WriteRanking(stdout, about, ranked);
                }
            });
            return 0;
        });
        return command;
    }

    /// <summary>The first <paramref name="most"/> Unicode characters of <paramref name="text"/>.</summary>
    private static string Start(string text, int most)
    {
        var units = 0;
        var runes = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (runes++ == most) return text[..units];
            units += rune.Utf16SequenceLength;
        }
        return text;
    }

    /// <summary>The file, or stdin for "-", as strict UTF-8 (bytes that are not would be fed as U+FFFD).</summary>
    private static string ReadText(string file, string name)
    {
        if (file != "-" && Directory.Exists(file)) throw new ArgumentException($"{name} is a folder; give a text file (UTF-8) to feed the model, or - for stdin.");
        if (file != "-" && !File.Exists(file)) throw new ArgumentException($"{name} does not exist; give a text file (UTF-8) to feed the model, or - for stdin.");
        var text = Utf8TextFile.Read(file, name);
        if (text.Length == 0) throw new ArgumentException($"{name} is empty; give at least one character to feed the model.");
        return text;
    }
}
