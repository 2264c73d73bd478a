using System.Security.Cryptography;
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
            throw ServerException.Precondition($"Model '{name}' cannot be read: {paths.ForCaller(listing.Error, caller.Admin)}");
        var checkpoint = CheckpointChoice.PathIn(models.FolderOf(name), name, request.Checkpoint, "checkpoint");
        // One load of a model at a time, shared with OpenSession's: many exports at once would each hold a copy.
        byte[] file;
        string exported;
        using (await models.HoldLoadTurn(name, context.CancellationToken))
            (file, exported) = await Task.Run(() => Export(name, checkpoint, caller), context.CancellationToken);
        var first = new Api.ExportModelChunk
        {
            TotalBytes = file.Length,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(file)),
            Checkpoint = Path.GetFileName(exported),
        };
        for (var offset = 0; offset < file.Length || offset == 0; offset += ExportChunkBytes)
        {
            var chunk = offset == 0 ? first : new Api.ExportModelChunk();
            chunk.Data = Google.Protobuf.ByteString.CopyFrom(file, offset, Math.Min(ExportChunkBytes, file.Length - offset));
            await responseStream.WriteAsync(chunk, context.CancellationToken);
        }
        logger.LogInformation("Model {Model} exported from {Checkpoint} ({Bytes} bytes) for {Key}", name, exported, file.Length, caller.Name);
    }

    /// <summary>
    /// Reads the checkpoint into a CPU copy of the model and writes its file, off the device thread: it only reads the
    /// checkpoint file (written atomically, so a save meanwhile gives the old file or the new one) and builds a model
    /// of its own on the CPU, as OpenSession's preload reads and builds one; the device loop's models, sessions and
    /// jobs are never touched, so generation and training go on at their shares while it runs.
    /// </summary>
    private (byte[] File, string Checkpoint) Export(string name, string checkpoint, Caller caller)
    {
        try
        {
            using var trained = TrainedModel.LoadForGeneration(checkpoint, TorchSharp.torch.CPU, e =>
                logger.LogWarning("Model {Model}: {Error} Exporting last.ckpt instead", name, e.Message));
            using var bytes = new MemoryStream();
            PyTorchExport.Of(trained, PyTorchExport.SourceName(trained.Path)).WriteTo(bytes);
            return (bytes.ToArray(), trained.Path);
        }
        catch (Exception e) when (e is CheckpointException or IOException && !models.Exists(name)) { throw ModelStore.NoModel(name); } // deleted meanwhile
        catch (CheckpointException e) { throw ServerException.Precondition(paths.ForCaller(e.Message, caller.Admin)); } // its message names the file
    }
}
