using System.CommandLine;
using System.Globalization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Text;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn models: the trained models in a folder, with architecture, size and validation loss; charrnn models NAME: one
/// model's details (as the REPL's info shows them) with its epochs and checkpoints. --json prints either as JSON.
/// </summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var dir = CommonOptions.ModelsDir();
        var named = new Argument<string?>("model")
        {
            Description = "Show this model in full: a name in --models, a model folder or a .ckpt file (as generate finds it).", Arity = ArgumentArity.ZeroOrOne,
        }.RefusingFlags().NotEmpty("a model's name or folder");
        var json = new Option<bool>("--json") { Description = "Print the list (or the model) as JSON instead of a table." };
        var command = new Command("models", "List trained models (model folders with checkpoints), or show one in full with its epochs and checkpoints.") { named, dir, json };
        command.SetAction(parse =>
        {
            var root = parse.GetValue(dir)!;
            var asJson = parse.GetValue(json);
            if (File.Exists(root)) throw new ArgumentException($"--models '{root}' is a file; give the folder that holds model folders.");
            StoppedRenames.Finish(root); // a model a crash left half renamed is listed again
            if (parse.GetValue(named) is { } given)
            {
                var model = Find(given, root);
                var checkpoints = StoredCheckpoint.In(model.Folder);
                if (asJson) Console.WriteLine(ScriptJson.Serialize(ModelJson.Details(model, checkpoints)));
                else foreach (var line in ModelDetailsText.Lines(model, checkpoints)) Console.WriteLine(line);
                return 0;
            }
            // A mistyped --models is not an empty folder; the default one simply has no models yet.
            if (!Directory.Exists(root) && parse.GetResult(dir) is { Implicit: false })
                throw new ArgumentException($"--models '{root}' does not exist; give the folder that holds model folders (default: models).");
            var models = ModelFolder.List(root);
            if (asJson)
            {
                Console.WriteLine(ScriptJson.Serialize(models.Select(ModelJson.Summary)));
                return 0;
            }
            if (models.Count == 0)
            {
                Console.WriteLine($"No models in '{root}'. Train one: charrnn train stateful-lstm {(parse.GetResult(dir) is { Implicit: false } ? $"--models {root} " : "")}--name NAME");
                return 0;
            }
            var width = Math.Max(20, models.Max(m => m.Name.Length)); // names run to 64 characters: the columns make room
            string Name(string name) => name.PadRight(width);
            Console.WriteLine($"{Name("NAME")} {"ARCH",-18} {"PARAMS",10} {"EPOCHS",6} {"BEST VAL",9} {"CORPUS",-12} {"SIZE",8}  SAVED");
            foreach (var m in models)
            {
                if (m.Metadata is not { } meta)
                {
                    Console.WriteLine($"{Name(m.Name)} unreadable: {m.Error}");
                    continue;
                }
                // The best epoch's (BEST VAL: beside the latest EPOCHS, a bare "VAL LOSS" read as the latest's), else that of the
                // last weights (a model no epoch of which has ended), as the REPL's list shows.
                var loss = double.IsFinite(meta.Position.BestValidLoss) ? meta.Position.BestValidLoss : meta.ValidationOfWeights?.Loss;
                var val = loss?.ToString("F4", CultureInfo.InvariantCulture) ?? "-";
                Console.WriteLine($"{Name(m.Name)} {meta.Architecture,-18} {meta.ParameterCount,10:N0} {meta.Position.Epoch,6} {val,9} {meta.Corpus.Name,-12} {Size(m.Bytes),8}  {meta.Saved.LocalDateTime:yyyy-MM-dd HH:mm}");
            }
            // After the table and on stderr: a script reads stdout as the header and one row a model (the REPL's models does the same under --exec).
            Console.Out.Flush();
            foreach (var m in models.Where(m => m.Warning != null)) Console.Error.WriteLine($"charrnn: warning: model '{m.Name}': {m.Warning}");
            // Why an imported model has no BEST VAL: its weights were never validated here (the export's figure was its source's).
            foreach (var m in models)
                if (m.Metadata?.Imported is { } imported)
                    Console.Error.WriteLine($"charrnn: note: model '{m.Name}' was imported from {imported.File} at {imported.At.LocalDateTime:yyyy-MM-dd HH:mm}; not validated here (charrnn eval scores it)");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The model generate would use for <paramref name="given"/> (ModelArgument's lookup), as listed; a name that is
    /// none is refused with the names there are, since the user asked for one of them.
    /// </summary>
    private static ModelListing Find(string given, string root)
    {
        string resolved;
        try { resolved = ModelArgument.Resolve(given, root); }
        catch (ArgumentException) when (!given.EndsWith(CheckpointFile.Extension, StringComparison.Ordinal))
        {
            var names = ModelFolder.List(root).Select(m => m.Name).ToList();
            throw new ArgumentException($"No model '{given}' in --models '{root}', nor a model folder or .ckpt file of that path; " +
                                        (names.Count > 0 ? $"the models there: {string.Join(", ", names)}." : "it holds no models.") + ClosestName.Suggestion(given, names));
        }
        if (Directory.Exists(resolved)) return ModelFolder.Describe(resolved);
        // A checkpoint file: that file's figures, in the folder whose other checkpoints are listed beside it.
        var folder = Path.GetDirectoryName(Path.GetFullPath(resolved))!;
        return new ModelListing(Path.GetFileName(folder), folder, resolved, CheckpointMetadataCache.Read(resolved), null, new FileInfo(resolved).Length);
    }

    /// <summary>
    /// Why models NAME cannot show a model: a damaged checkpoint a fault of the data (exit 1), as eval's and resume's, else a usage error (exit 2).
    /// </summary>
    public static Exception Unreadable(ModelListing m)
    {
        var why = $"Model '{m.Name}' cannot be read: {m.Error}";
        return m.Damaged ? new IOException(why) : new ArgumentException(why);
    }

    /// <summary>The model folder's size in the unit that reads best: 26K, 12.4M, 1.3G.</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{Math.Max(1, (bytes + 500) / 1000)}K"),
        < 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:F1}M"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:F1}G"),
    };
}
