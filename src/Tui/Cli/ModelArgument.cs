namespace CharRnn.Tui.Cli;

/// <summary>
/// How generate, eval and resume find the model they are given: a .ckpt file or a model folder as
/// written, else a model of that name under --models (the names `charrnn models` lists). A folder
/// that holds no checkpoint (`bench` in the repository's root) does not hide a model of its name.
/// </summary>
public static class ModelArgument
{
    /// <summary>Whether <paramref name="given"/> names something <see cref="Resolve"/> would look in: a file or folder as written, or one in <paramref name="modelsFolder"/>.</summary>
    public static bool Names(string given, string modelsFolder)
    {
        var named = Path.Combine(modelsFolder, given);
        return File.Exists(given) || Directory.Exists(given) || File.Exists(named) || Directory.Exists(named);
    }

    public static string Resolve(string given, string modelsFolder)
    {
        if (File.Exists(given) || (Directory.Exists(given) && Engine.Checkpoints.ModelFolder.HoldsModel(given))) return given;
        var named = Path.Combine(modelsFolder, given);
        if (Directory.Exists(named) || File.Exists(named)) return named; // a name, or a checkpoint in it (lstm/best.ckpt)
        if (Directory.Exists(given)) return given; // no model either way: its own error says what the folder lacks
        // A checkpoint that is not there, in a folder that is: say which there are.
        foreach (var folder in new[] { Path.GetDirectoryName(given), Path.GetDirectoryName(named) })
            if (given.EndsWith(Engine.Checkpoints.CheckpointFile.Extension, StringComparison.Ordinal) && !string.IsNullOrEmpty(folder) && Directory.Exists(folder))
            {
                var there = Directory.GetFiles(folder, "*" + Engine.Checkpoints.CheckpointFile.Extension).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
                throw new ArgumentException($"No checkpoint '{Path.GetFileName(given)}' in {folder}; " +
                                            (there.Count > 0 ? $"it holds {string.Join(", ", there)}." : "it holds no checkpoints."));
            }
        throw new ArgumentException($"No model '{given}': it is not a model folder or .ckpt file, nor a model in --models '{modelsFolder}' (charrnn models --models {modelsFolder} lists them).{Suggestion(given, modelsFolder)}");
    }

    /// <summary>" Did you mean 'lstm'?" when <paramref name="given"/> is close to the name of a model in <paramref name="modelsFolder"/>; empty otherwise.</summary>
    public static string Suggestion(string given, string modelsFolder)
    {
        var names = Directory.Exists(modelsFolder) ? Engine.Checkpoints.ModelFolder.List(modelsFolder).Where(m => m.Error == null).Select(m => m.Name) : [];
        return Engine.Text.ClosestName.Suggestion(given, names);
    }

    /// <summary>
    /// Loads <paramref name="path"/> as generate, eval, neurons and export do: a damaged best.ckpt falls back to
    /// last.ckpt, said on stderr ("… <paramref name="doing"/> last.ckpt instead."); returns the model and the file it came from.
    /// </summary>
    public static (Engine.Checkpoints.TrainedModel Model, string Path) Load(string path, TorchSharp.torch.Device device, string doing,
        Engine.Models.GenerationPrecision precision = Engine.Models.GenerationPrecision.Float32)
    {
        var loaded = path;
        var model = Engine.Checkpoints.TrainedModel.LoadForGeneration(path, device, e =>
        {
            loaded = Path.Combine(Path.GetDirectoryName(path) ?? "", Engine.Training.Trainer.LastCheckpoint);
            Console.Error.WriteLine($"charrnn: {e.Message} {doing} last.ckpt instead.");
        }, precision);
        return (model, loaded);
    }

    /// <summary>The model given as an argument (`generate lstm`) or as --model (`generate --model lstm`): one of them, once.</summary>
    public static string OneOf(string? argument, string? option) => (argument, option) switch
    {
        (null, null) => throw new ArgumentException("Which model? Give its name or folder: charrnn generate NAME (or --model NAME); charrnn models lists them."),
        (not null, not null) when argument != option =>
            throw new ArgumentException($"Two models given, '{argument}' and --model '{option}'; give one."),
        _ => argument ?? option!,
    };
}
