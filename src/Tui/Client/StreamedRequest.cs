using Grpc.Core;

namespace CharRnn.Tui.Client;

/// <summary>
/// Writes to a client-streaming call (UploadCorpus, ImportModel) that may have ended under them. Such a write fails in
/// the transport's words: RpcException or InvalidOperationException when the server ended the call (refused it),
/// IOException when the connection was lost (the server killed or gone). The call's response says which, in gRPC's
/// terms (the refusal, or UNAVAILABLE), so the caller reads that rather than the write's exception.
/// </summary>
public static class StreamedRequest
{
    /// <summary>False when the call has ended: stop writing and read its response.</summary>
    public static async Task<bool> TryWriteAsync<T>(IClientStreamWriter<T> requests, T message, CancellationToken ct)
    {
        try
        {
            await requests.WriteAsync(message, ct);
            return true;
        }
        catch (Exception e) when (Ended(e, ct)) { return false; }
    }

    /// <summary>False when the call had ended before the last message went.</summary>
    public static async Task<bool> TryCompleteAsync<T>(IClientStreamWriter<T> requests, CancellationToken ct)
    {
        try
        {
            await requests.CompleteAsync();
            return true;
        }
        catch (Exception e) when (Ended(e, ct)) { return false; }
    }

    private static bool Ended(Exception e, CancellationToken ct) =>
        !ct.IsCancellationRequested && e is RpcException or InvalidOperationException or IOException;
}
