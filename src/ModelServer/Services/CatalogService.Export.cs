using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Export;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Security;
using CharRnn.ModelServer.TrainedModels;
using Grpc.Core;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>ExportModel: a model's weights as the safetensors file `charrnn export` writes, streamed in pieces.</summary>
public sealed partial class CatalogService
{
    /// <summary>The most file bytes one message carries: well under every client's default 4 MiB receive limit.</summary>
    public const int ExportChunkBytes = 1 << 20;

    public override async Task ExportModel(Api.ExportModelRequest request, IServerStreamWriter<Api.ExportModelChunk> responseStream, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var name = ModelNames.Validate(request.Name, "name");
        jobs.ThrowIfUnsaved(name, caller);
        var listing = models.Get(name, caller); // NOT_FOUND when absent or not visible to this key, as GetModel
        if (listing.Error != null)
            throw ServerException.Precondition($"Model '{name}' cannot be read: {paths.ForCaller(listing.Error, caller.Admin)}", ("model", name));
        var checkpoint = CheckpointChoice.PathIn(models.FolderOf(name), name, request.Checkpoint, "checkpoint");
        // Taken once the request is known to be good (a bad one gets its own error, busy or not), before anything is loaded,
        // and held to the end however the call ends: every export in progress counts against max_exports and max_exports_per_key.
        using var slot = exports.Take(caller.Name);
        // One load of a model at a time, shared with OpenSession's. The turn ends with the load, so a slow download does not
        // hold up sessions on the model; a download in progress holds its CPU copy of the weights and one chunk, not the file.
        TrainedModel trained;
        using (await models.HoldLoadTurn(name, context.CancellationToken))
            trained = await Task.Run(() => Load(name, checkpoint, caller), CancellationToken.None); // not abandoned half loaded: disposed below
        using (trained)
        {
            var export = PyTorchExport.Of(trained, PyTorchExport.SourceName(trained.Path));
            var first = new Api.ExportModelChunk { TotalBytes = export.FileBytes, Checkpoint = Path.GetFileName(trained.Path) };
            using var stream = new ChunkedExportStream(chunk => responseStream.WriteAsync(chunk, context.CancellationToken), first, ExportChunkBytes);
            try
            {
                // The engine's writer is synchronous and waits on each send (the client's pace): a thread of its own, not the pool's.
                await Task.Factory.StartNew(() =>
                {
                    export.WriteTo(stream);
                    stream.Complete();
                }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
            // Only the sends to the client do I/O here (the writer writes to memory), so an IOException is the client's connection
            // gone, which may surface before the call's token is cancelled (as ImportModel's reads do).
            catch (Exception e) when (context.CancellationToken.IsCancellationRequested || e is IOException)
            {
                logger.LogInformation("Export of model {Model} stopped after {Written} of {Bytes} bytes: the client went away", name, stream.Written, first.TotalBytes);
                throw;
            }
            logger.LogInformation("Model {Model} exported from {Checkpoint} ({Bytes} bytes) for {Key}", name, trained.Path, stream.Written, caller.Name);
        }
    }

    /// <summary>
    /// Reads the checkpoint into a CPU copy of the model, off the device thread (its file is written from that copy): it only reads the
    /// checkpoint file (written atomically, so a save meanwhile gives the old file or the new one) and builds a model
    /// of its own on the CPU, as OpenSession's preload reads and builds one; the device loop's models, sessions and
    /// jobs are never touched, so generation and training go on at their shares while it runs.
    /// </summary>
    private TrainedModel Load(string name, string checkpoint, Caller caller)
    {
        try
        {
            return TrainedModel.LoadForGeneration(checkpoint, TorchSharp.torch.CPU, e =>
                logger.LogWarning("Model {Model}: {Error} Exporting last.ckpt instead", name, e.Message));
        }
        catch (Exception e) when (e is CheckpointException or IOException && !models.Exists(name)) { throw ModelStore.NoModel(name); } // deleted meanwhile
        catch (CheckpointException e) { throw ServerException.Precondition(paths.ForCaller(e.Message, caller.Admin), ("model", name)); } // its message names the file
    }
}
