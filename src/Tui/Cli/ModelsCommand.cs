using System.CommandLine;
using System.Globalization;
using CharRnn.Engine.Checkpoints;

namespace CharRnn.Tui.Cli;

/// <summary>charrnn models: the trained models in a folder, with architecture, size and validation loss.</summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var dir = CommonOptions.ModelsDir();
        var command = new Command("models", "List trained models (model folders with checkpoints).") { dir };
        command.SetAction(parse =>
        {
            var root = parse.GetValue(dir)!;
            if (File.Exists(root)) throw new ArgumentException($"--models '{root}' is a file; give the folder that holds model folders.");
            // A mistyped --models is not an empty folder; the default one simply has no models yet.
            if (!Directory.Exists(root) && parse.GetResult(dir) is { Implicit: false })
                throw new ArgumentException($"--models '{root}' does not exist; give the folder that holds model folders (default: models).");
            var models = ModelFolder.List(root);
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
                // No BEST VAL for an imported model: its weights were never validated here (the export's figure was its source's).
                if (meta.Imported is { } imported) Console.WriteLine($"{Name("")} imported from {imported.File} at {imported.At.LocalDateTime:yyyy-MM-dd HH:mm}; not validated here (charrnn eval scores it)");
                if (m.Warning != null) Console.WriteLine($"{Name("")} warning: {m.Warning}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>The model folder's size in the unit that reads best: 26K, 12.4M, 1.3G.</summary>
    private static string Size(long bytes) => bytes switch
    {
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{Math.Max(1, (bytes + 500) / 1000)}K"),
        < 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:F1}M"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:F1}G"),
    };
}
