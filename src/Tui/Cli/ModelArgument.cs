namespace CharRnn.Tui.Cli;

/// <summary>
/// How generate and resume find the model they are given: a folder or .ckpt path as written, else
/// a model of that name under --models (the names `charrnn models` lists).
/// </summary>
public static class ModelArgument
{
    public static string Resolve(string given, string modelsFolder)
    {
        if (File.Exists(given) || Directory.Exists(given)) return given;
        var named = Path.Combine(modelsFolder, given);
        if (Directory.Exists(named)) return named;
        throw new ArgumentException($"No model '{given}': it is not a model folder or .ckpt file, nor a model in --models '{modelsFolder}' (charrnn models --models {modelsFolder} lists them).");
    }
}
