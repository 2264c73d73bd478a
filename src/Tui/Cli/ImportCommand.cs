using System.CommandLine;
using System.Globalization;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Export;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.Persistence;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn import: the way back from export. A .safetensors file charrnn export wrote (its weights perhaps changed in
/// PyTorch since) becomes a model folder that generate, eval, models, the server and the TUI use as any other
/// (see PyTorchImport). It never replaces a model, and the model it makes cannot be resumed (no optimizer state).
/// </summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = $"A {SafetensorsFile.Extension} file written by charrnn export (its weights may have been changed in PyTorch since)." }
            .RefusingFlags().NotEmpty($"the {SafetensorsFile.Extension} file to import");
        var name = new Option<string?>("--name") { Description = "The new model's name: its folder in --models." }.NotEmpty("the new model's name");
        var models = CommonOptions.ModelsDir();
        var output = new Option<string?>("--out") { Description = "The new model's folder, anywhere (instead of --models and --name)." }.NotEmpty("the model folder to create");
        var threads = CommonOptions.Threads();
        var command = new Command("import", $"Make a model folder from a {SafetensorsFile.Extension} file written by charrnn export (weights changed in PyTorch come back).")
        {
            file, name, models, output, threads,
        };
        command.SetAction(parse =>
        {
            var source = parse.GetValue(file)!;
            if (parse.GetValue(output) == null && parse.GetValue(name) == null)
                throw new ArgumentException("Give the new model a --name (its folder in --models), or its folder with --out.");
            var folder = TrainCommand.FolderFor(parse.GetValue(output), parse.GetResult(models) is { Implicit: false } ? parse.GetValue(models) : null, parse.GetValue(name), "");
            var folderOption = parse.GetValue(output) != null ? "--out" : "--name";
            if (ModelFolder.HoldsModel(folder))
                throw new ArgumentException($"'{folder}' already holds a model; import never replaces one: choose another {folderOption}.");
            using var signals = AsyncSignalMask.BlockOnThisThread(); // this thread runs libtorch (see AsyncSignalMask)
            TorchRuntime.Initialize("cpu", parse.GetValue(threads));
            using var contents = SafetensorsReader.Read(source);
            using var checkpoint = PyTorchImport.ToCheckpoint(contents, source, DateTimeOffset.UtcNow);

            using var served = ServerDatabase.HoldIfServed(TrainingRun.ParentOf(folder), $"import through it (charrnn --server HOST:PORT --exec \"import {source} name={Path.GetFileName(folder)}\")");
            var made = !Directory.Exists(folder);
            TrainCommand.CheckWritableFolder(folder, parse.GetValue(output) != null ? "--out" : "The model folder");
            var path = Path.Combine(folder, Trainer.LastCheckpoint);
            try
            {
                using var holding = ModelFolder.HoldForTraining(folder);
                if (ModelFolder.HoldsModel(folder)) // again, held: a train into it may have saved one since
                    throw new ArgumentException($"'{folder}' already holds a model; import never replaces one: choose another {folderOption}.");
                CheckpointFile.Write(path, checkpoint); // atomic: temp file and rename
            }
            catch
            {
                if (made && Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
                throw;
            }
            var meta = checkpoint.Metadata;
            var imported = meta.Imported!;
            var exportNote = imported.ExportedValidLoss is { } loss
                ? string.Create(CultureInfo.InvariantCulture, $" The export recorded epoch {imported.ExportedEpoch}, validation loss {loss:F4}: the source model's, not a validation of these weights.")
                : "";
            Console.WriteLine($"Imported {meta.Architecture} ({checkpoint.Tensors.Count} tensors, {meta.ParameterCount:N0} parameters) from {source} into {path}.{exportNote} " +
                              $"Generate with charrnn generate {folder}; score it with charrnn eval {folder} --text FILE. It cannot be resumed: the file holds no optimizer state.");
            return 0;
        });
        return command;
    }
}
