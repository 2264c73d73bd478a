using System.Security.Authentication;
using Grpc.Core;

namespace CharRnn.Tui.Client;

/// <summary>
/// A call that failed on the way to the server (its connection, its HTTP/2), not a status the server sent, and
/// what to tell the person of it. The client makes such a status itself and keeps the transport's exception in
/// it (DebugException); a status from the server's trailers has none, so a real INTERNAL is never taken for one.
/// </summary>
public static class LinkFailure
{
    /// <summary>
    /// UNAVAILABLE mostly; INTERNAL when the new HTTP/2 connection ended before its first call could use it (an
    /// HttpRequestException without an I/O cause): a plain client at a TLS port, closed on its preface, gets either, by timing.
    /// A refused TLS handshake is INTERNAL too, but a server answered it, and its error says what to do (<see cref="ErrorText"/>).
    /// </summary>
    public static bool Is(Exception e) => e is RpcException { Status.DebugException: { } debug } r
        && (r.StatusCode == StatusCode.Unavailable
            || (r.StatusCode == StatusCode.Internal && Causes(debug).Any(c => c is HttpRequestException or IOException) && !Causes(debug).Any(c => c is AuthenticationException)));

    /// <summary>
    /// For a plain (http://) client whose link failed at a port that completes a TLS handshake: the error, and that
    /// it should use https://, which "the connection was lost" alone hides (a TLS server closes a plain client's
    /// connection unread). Null otherwise.
    /// </summary>
    public static async Task<string?> WithTlsAdviceAsync(CharRnnClient client, Exception e, CancellationToken cancellation = default) =>
        Is(e) && client.Address.Scheme == Uri.UriSchemeHttp && await TlsProbe.SpeaksTlsAsync(client.Address.Host, client.Address.Port, cancellation)
            ? $"{ErrorText.Clause(e)}; the server at {client.Address.Authority} seems to speak TLS: connect with https://{client.Address.Authority}"
            : null;

    private static IEnumerable<Exception> Causes(Exception e)
    {
        for (var c = e; c != null; c = c.InnerException) yield return c;
    }
}
