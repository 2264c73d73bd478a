using CharRnn.Engine.Export;
using CharRnn.Engine.Storage;
using CharRnn.Engine.Text;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.TrainedModels;
using Grpc.Core;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>ImportModel: the way back from ExportModel, a safetensors file a client sends made into a model of its key's (`charrnn import` over the API).</summary>
public sealed partial class CatalogService
{
    /// <summary>The file's name in the import's folder while it is checked.</summary>
    private const string ImportedFile = "upload" + SafetensorsFile.Extension;

    public override async Task<Api.ModelSummary> ImportModel(IAsyncStreamReader<Api.ImportModelRequest> requestStream, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var cancel = context.CancellationToken;
        if (!await requestStream.MoveNext(cancel))
            throw ServerException.Invalid("The import sent no messages; send a header (the new model's name) first, then the file as data.", field: "header");
        if (requestStream.Current.PartCase != Api.ImportModelRequest.PartOneofCase.Header)
            throw ServerException.Invalid("The import's first message must be the header naming the new model; the file follows it as data.", field: "header");
        var header = requestStream.Current.Header;
        var name = ModelNames.ValidateNew(header.Name, "header.name");
        var fileName = ImportFileName(header.FileName, name);
        var limit = _limits.MaxImportBytes;
        if (header.TotalBytes < 0)
            throw ServerException.Invalid($"header.total_bytes = {header.TotalBytes} is not a size; give the file's size in bytes, or 0 when not known.", field: "header.total_bytes");
        if (header.TotalBytes > limit)
            throw TooLargeToImport(fileName, $"its header says {header.TotalBytes:N0} bytes", limit, "header.total_bytes");
        if (models.TakenName(name) is { } taken)
            throw ServerException.Exists(ModelNames.ImportTakenMessage(name, taken, models.CanWrite(taken, caller)), ("model", taken));
        using var hold = jobs.HoldForImport(name, caller);
        // Taken once the header is known to be good (a bad one gets its own error, busy or not), before any data is read,
        // and held to the end however the call ends: every import in progress counts against max_imports.
        using var slot = imports.Take(caller.Name);

        var staged = models.NewImportFolder(name);
        long received = 0;
        // A read cut off by the client's death (its connection gone) may fail before the call's token is cancelled: seen once
        // in a CI run, where the import then went unlogged. Such a read's failure is the client leaving too.
        var reading = false;
        try
        {
            var file = Path.Combine(staged, ImportedFile);
            await using (var stream = File.Create(file))
            {
                while (await ReadNext())
                {
                    var message = requestStream.Current;
                    if (message.PartCase != Api.ImportModelRequest.PartOneofCase.Data)
                        throw ServerException.Invalid("Only the import's first message may be a header; the ones after it carry the file as data.", field: "header");
                    if (received + message.Data.Length > limit)
                        throw TooLargeToImport(fileName, $"more than {limit:N0} bytes", limit, "data");
                    received += message.Data.Length;
                    models.ImportWriting(file);
                    await stream.WriteAsync(message.Data.Memory, cancel);
                }
            }
            if (received == 0)
                throw ServerException.Invalid($"The import of '{fileName}' sent no data after its header; send the file's bytes as data. Nothing was stored.", field: "data");
            if (header.TotalBytes > 0 && received != header.TotalBytes)
                throw ServerException.Invalid($"The import of '{fileName}' sent {received:N0} bytes, but its header said {header.TotalBytes:N0} (header.total_bytes); the file was cut short or changed. Nothing was stored.", field: "header.total_bytes");
            // Read and checked as `charrnn import` does, off the device loop: the tensors are on the CPU and the model only ever built there.
            var path = await Task.Run(() => WriteImportedCheckpoint(staged, file, fileName, _limits, models.ImportWriting), CancellationToken.None);
            cancel.ThrowIfCancellationRequested(); // a cancelled call stores nothing
            models.StoreImported(staged, name, caller.Name, header.Shared);
            logger.LogInformation("Model {Model} imported from {File} ({Bytes} bytes) into {Checkpoint} by {Key}", name, fileName, received, Path.Combine(models.FolderOf(name), Path.GetFileName(path)), caller.Name);
        }
        catch (Exception e) when (cancel.IsCancellationRequested || (reading && e is IOException or OperationCanceledException))
        {
            logger.LogInformation("Import of model {Model} by {Key} stopped after {Received} bytes: the client went away; nothing was stored", name, caller.Name, received);
            throw;
        }
        catch (Exception e) when (DiskFault.Is(e))
        {
            // The exception's own message names the server's path: the operator's to see (logged here), not the caller's.
            logger.LogWarning("Model {Model} import by {Key} not stored: the disk refused the write: {Reason}", name, caller.Name, e.Message);
            throw ServerException.DiskFull($"Model '{name}' could not be imported: the server's disk is full (or over its quota, or failing); nothing was stored. Try again once the server's operator has made room.");
        }
        finally
        {
            if (Directory.Exists(staged))
            {
                try { Directory.Delete(staged, recursive: true); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { logger.LogWarning("Could not remove {Folder} of a failed import (the next start does): {Reason}", staged, e.Message); }
            }
        }
        return Summary(models.Get(name, caller), caller);

        async Task<bool> ReadNext()
        {
            reading = true;
            var more = await requestStream.MoveNext(cancel);
            reading = false;
            return more;
        }
    }

    /// <summary>
    /// The engine's import of the file into <paramref name="staged"/>'s checkpoint; its faults INVALID_ARGUMENT in its words, naming
    /// the client's file, and so is a model over this server's hyperparameter caps (<see cref="CheckCaps"/>), before it is written.
    /// </summary>
    /// <param name="writing">Called before the checkpoint is written (<see cref="ModelStore.ImportWriting"/>).</param>
    private static string WriteImportedCheckpoint(string staged, string file, string fileName, ServerLimits limits, Action<string> writing)
    {
        try
        {
            using var contents = SafetensorsReader.Read(file, fileName);
            using var checkpoint = PyTorchImport.ToCheckpoint(contents, fileName, DateTimeOffset.UtcNow);
            CheckCaps(checkpoint.Metadata, fileName, limits);
            var path = Path.Combine(staged, Engine.Training.Trainer.LastCheckpoint);
            writing(path);
            Engine.Checkpoints.CheckpointFile.Write(path, checkpoint); // atomic: temp file and rename
            File.Delete(file);
            return path;
        }
        catch (InvalidDataException e) { throw ServerException.Invalid(e.Message + " Nothing was stored.", field: "data"); }
    }

    /// <summary>
    /// An import makes no model wider than StartJob lets any key train here (`serve --max-hyperparameter`): a fine-tune of it
    /// (init_from) keeps its hyperparameters, so a capped one over the cap is refused as StartJob refuses it, naming the cap.
    /// The file's size already bounds what the import built to get here (PyTorchImport's check against its weights).
    /// </summary>
    private static void CheckCaps(Engine.Checkpoints.CheckpointMetadata meta, string fileName, ServerLimits limits)
    {
        foreach (var spec in Engine.Models.Architectures.Get(meta.Architecture).Parameters)
            if (limits.MaxOf(spec) < spec.Max && meta.HyperParameters.TryGetValue(spec.Name, out var value))
            {
                try { (spec with { Max = limits.MaxOf(spec) }).Validate(value); }
                catch (Engine.Models.HyperParameterException e)
                {
                    throw ServerException.Invalid($"'{fileName}' cannot be imported: its hyperparameter {e.Message[..^1]} {JobPlanning.CapText(spec.Name)}. Nothing was stored.", field: "data");
                }
            }
    }

    /// <summary>The client's name for the file (errors and the model's import record name it), a plain file name; by default NAME.safetensors.</summary>
    private static string ImportFileName(string given, string name)
    {
        if (given.Length == 0) return name + SafetensorsFile.Extension;
        if (given.Length > 255 || given.IndexOfAny(['/', '\\']) >= 0 || given.Any(char.IsControl) || given is "." or "..")
            throw ServerException.Invalid($"header.file_name '{Echo.Of(given)}' is not allowed: give the file's name without its folder (at most 255 characters, no control characters), or leave it empty.", field: "header.file_name");
        return given;
    }

    /// <param name="field">What said the size (BadRequest's field): the header's total_bytes, or the data sent.</param>
    private static ServerException TooLargeToImport(string fileName, string size, long limit, string field) =>
        ServerException.Invalid($"'{fileName}' is larger than this server imports: {size}; the limit is {limit:N0} bytes (max_import_bytes, charrnn serve --max-import-mb). Nothing was stored.", field);
}
