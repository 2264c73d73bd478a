using System.CommandLine;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Export;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Storage;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn export: writes a trained model's weights as a .safetensors file for PyTorch users, under the
/// state_dict keys of the same model in torch.nn, with what using them needs in its metadata (see PyTorchExport).
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var named = new Argument<string>("model") { Description = "Model folder or .ckpt file, or the name of a model in --models." }.RefusingFlags().NotEmpty("a model's name or folder");
        var models = CommonOptions.ModelsDir();
        var output = new Option<string>("--out") { Description = $"The {SafetensorsFile.Extension} file to write.", Required = true }.NotEmpty($"the {SafetensorsFile.Extension} file to write");
        var force = new Option<bool>("--force") { Description = "Replace the --out file if it exists." };
        var threads = CommonOptions.Threads();
        var command = new Command("export", $"Write a trained model's weights and vocabulary as a {SafetensorsFile.Extension} file for PyTorch (safetensors.torch.load_file).")
        {
            named, models, output, force, threads,
        };
        command.SetAction(parse =>
        {
            var path = ModelFolder.CheckpointForGeneration(ModelArgument.Resolve(parse.GetValue(named)!, parse.GetValue(models)!));
            var file = parse.GetValue(output)!;
            CheckOutput(file, parse.GetValue(force));
            using var signals = AsyncSignalMask.BlockOnThisThread(); // this thread runs libtorch (see AsyncSignalMask)
            var cpu = TorchRuntime.Initialize("cpu", parse.GetValue(threads));
            (var loaded, path) = ModelArgument.Load(path, cpu, "Exporting");
            using var trained = loaded;
            var export = PyTorchExport.Of(trained, PyTorchExport.SourceName(path));
            var written = WriteTo(export, file);
            var loss = export.Metadata["valid_loss"] is { Length: > 0 } l ? $", validation loss {double.Parse(l, System.Globalization.CultureInfo.InvariantCulture):F4}" : "";
            Console.WriteLine($"Exported {trained.Architecture.Name} (epoch {trained.Metadata.Position.Epoch}{loss}) from {path} to {file}: " +
                              $"{export.Tensors.Count} tensors, {trained.Model.ParameterCount:N0} parameters, {new FileInfo(written).Length:N0} bytes. " +
                              (export.TorchModule is { } module
                                  ? $"Its weights load into torch.nn.{module} with embedding 'e' and output 'l_out' (examples/python/load_in_pytorch.py)."
                                  : $"A windowed model: its weights keep the engine's names; only the stream models (stateful-*) load into torch.nn's RNN/GRU/LSTM."));
            return 0;
        });
        return command;
    }

    /// <summary>Refuses an --out that is a folder, not a .safetensors name, or a file already there (unless --force; through a link, its target).</summary>
    private static void CheckOutput(string file, bool force)
    {
        if (Directory.Exists(file))
            throw new ArgumentException($"--out '{file}' is a folder; give the file to write, e.g. {Path.Combine(file, "model" + SafetensorsFile.Extension)}.");
        if (!file.EndsWith(SafetensorsFile.Extension, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--out '{file}' does not end in {SafetensorsFile.Extension}; give a file name that does (the format is safetensors).");
        if (File.Exists(AtomicFile.ThroughLink(file)) && !force) // a link whose target is not there yet is a new file, as for cp
            throw new ArgumentException($"--out '{file}' exists; give --force to replace it, or another file name.");
    }

    /// <summary>
    /// Writes the file, and says a place that cannot take it in --out's terms (exit 2, as train says an --out it cannot
    /// write), not as the temp file beside it that could not be made. A full disk stays a failed run (exit 1).
    /// Through a link, its target is written (the link kept); returns the file written.
    /// </summary>
    private static string WriteTo(PyTorchExport export, string file)
    {
        var target = AtomicFile.ThroughLink(file);
        try
        {
            export.Write(target);
            return target;
        }
        catch (Exception e) when (OutputFolder.IsPlaceProblem(e))
        {
            throw OutputFolder.CannotWrite("--out", file, target, e);
        }
    }
}
