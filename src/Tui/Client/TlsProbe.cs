using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace CharRnn.Tui.Client;

/// <summary>
/// Whether a server completes a TLS handshake. A plain (http://) client pointed at a TLS port sees only its
/// connection closed ("the connection was lost"), which says nothing of the cause; asked once the call failed,
/// this lets the error say to use https://. (The reverse, https:// to a plain port, fails in the handshake and
/// says so itself.)
/// </summary>
public static class TlsProbe
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);

    public static async Task<bool> SpeaksTlsAsync(string host, int port, CancellationToken cancellation = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(Wait);
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(host, port, timeout.Token);
            await using var tls = new SslStream(tcp.GetStream());
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                // Only whether it speaks TLS is asked: the certificate is trusted for nothing here, so any will do.
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
                ApplicationProtocols = [SslApplicationProtocol.Http2],
            }, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or AuthenticationException or OperationCanceledException)
        {
            return false;
        }
    }
}
