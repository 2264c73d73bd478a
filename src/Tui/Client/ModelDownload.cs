using System.Security.Cryptography;
using CharRnn.Engine.Storage;
using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.Tui.Client;

/// <summary>A model's safetensors file, downloaded with Catalog.ExportModel: where it was written and what the server said of it.</summary>
public sealed record ModelDownload(string Path, long Bytes, string Sha256, string Checkpoint)
{
    /// <summary>
    /// Streams the export of <paramref name="model"/> into <paramref name="file"/> through a temp file that is renamed over it only
    /// when every byte came and the size (announced in the first message) and SHA-256 (in the last) are the server's: a cut-off or damaged download leaves
    /// <paramref name="file"/> as it was (absent, or the old one).
    /// </summary>
    public static async Task<ModelDownload> SaveAsync(Catalog.CatalogClient catalog, string model, string checkpoint, string file, CancellationToken ct)
    {
        ModelDownload? saved = null;
        await AtomicFile.WriteAsync(AtomicFile.ThroughLink(file), async stream => // a link stays a link, its target written
        {
            using var call = catalog.ExportModel(new ExportModelRequest { Name = model, Checkpoint = checkpoint }, cancellationToken: ct);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            ExportModelChunk? first = null, last = null;
            long received = 0;
            await foreach (var chunk in call.ResponseStream.ReadAllAsync(ct))
            {
                first ??= chunk;
                last = chunk;
                hash.AppendData(chunk.Data.Span);
                await stream.WriteAsync(chunk.Data.Memory, ct);
                received += chunk.Data.Length;
            }
            if (first == null)
                throw new IOException($"The server sent nothing for model '{model}'; nothing was written.");
            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (received != first.TotalBytes)
                throw new IOException($"The download of model '{model}' has {received:N0} bytes where the server announced {first.TotalBytes:N0}; nothing was written. Try again.");
            if (last!.Sha256.Length == 0)
                throw new IOException($"The download of model '{model}' came without the server's SHA-256 (due in its last message); nothing was written. Try again.");
            if (!string.Equals(sha256, last.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new IOException($"The download of model '{model}' does not match the server's SHA-256 ({sha256} received, {last.Sha256} announced); nothing was written. Try again.");
            saved = new ModelDownload(file, received, sha256, first.Checkpoint);
        });
        return saved!;
    }
}
