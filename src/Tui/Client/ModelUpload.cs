using CharRnn.Protos.V1;
using Google.Protobuf;

namespace CharRnn.Tui.Client;

/// <summary>A safetensors file sent with Catalog.ImportModel (the way back from <see cref="ModelDownload"/>) to become a model on the server.</summary>
public static class ModelUpload
{
    /// <summary>The most file bytes one message carries: within every server's max_message_bytes (1 MiB and the longest text).</summary>
    public const int PieceBytes = 1 << 20;

    /// <summary>
    /// Streams <paramref name="file"/> as model <paramref name="name"/>: a header with its size (the server refuses one over its
    /// limit before any data, and a file that changed size as it was read), then the bytes in pieces. The server stores the model
    /// whole or not at all; its refusal, or a lost connection (UNAVAILABLE), comes back as the call's <see cref="RpcException"/>, a file that cannot be read as an <see cref="IOException"/>.
    /// </summary>
    public static async Task<ModelSummary> SendAsync(Catalog.CatalogClient catalog, string file, string name, bool shared, CancellationToken ct)
    {
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, PieceBytes);
        using var call = catalog.ImportModel(cancellationToken: ct);
        var header = new ImportModelHeader { Name = name, Shared = shared, TotalBytes = stream.Length, FileName = Path.GetFileName(file) };
        // A write the call's end cut off (the server refused the import, or went away) leaves the why to the response.
        if (await StreamedRequest.TryWriteAsync(call.RequestStream, new ImportModelRequest { Header = header }, ct))
        {
            var piece = new byte[PieceBytes];
            int read;
            var open = true;
            while (open && (read = await stream.ReadAsync(piece, ct)) > 0)
                open = await StreamedRequest.TryWriteAsync(call.RequestStream, new ImportModelRequest { Data = ByteString.CopyFrom(piece, 0, read) }, ct);
            if (open) await StreamedRequest.TryCompleteAsync(call.RequestStream, ct);
        }
        return await call.ResponseAsync;
    }
}
