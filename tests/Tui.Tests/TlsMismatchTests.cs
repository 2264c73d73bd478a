using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;
using CharRnn.Tui.ViewModels;
using Grpc.Core;

namespace CharRnn.Tui.Tests;

/// <summary>A plain (http://) client pointed at a TLS port is told the server speaks TLS, not only that the connection was lost.</summary>
public sealed class TlsMismatchTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly X509Certificate2 _certificate = SelfSigned();

    public TlsMismatchTests()
    {
        _listener.Start();
        _ = Task.Run(() => ServeTls(_listener));
    }

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    [Fact]
    public async Task An_http_client_at_a_TLS_port_is_told_to_use_https()
    {
        using var client = new CharRnnClient(new Uri($"http://127.0.0.1:{Port}"));
        var output = new RecordingReplOutput();
        await new CommandRunner(client, output, interactive: false).RunLineAsync("models");
        var error = Assert.Single(output.Errors);
        Assert.Contains($"the server at 127.0.0.1:{Port} seems to speak TLS: connect with https://127.0.0.1:{Port}", error);
    }

    [Fact]
    public async Task The_TUIs_status_tells_an_http_client_at_a_TLS_port_to_use_https()
    {
        using var client = new CharRnnClient(new Uri($"http://127.0.0.1:{Port}"));
        await using var status = new ServerStatus(client, new CompletionSource(), $"127.0.0.1:{Port}");
        await status.RefreshAsync();
        Assert.False(status.Connected);
        Assert.EndsWith($"the server at 127.0.0.1:{Port} seems to speak TLS: connect with https://127.0.0.1:{Port}", status.Problem);
        Assert.Contains($"seems to speak TLS: connect with https://127.0.0.1:{Port}; retrying", status.TakeNotice());
    }

    [Fact]
    public async Task An_http_client_at_a_TLS_port_that_gets_INTERNAL_is_told_to_use_https_too()
    {
        // By timing, the same plain client at a TLS port may get INTERNAL instead of UNAVAILABLE: its new HTTP/2 connection
        // ended before its first call could use it, which SocketsHttpHandler's pool says with an HttpRequestException of no
        // I/O cause. Made here as the client makes it, so that this shape is tried every run.
        using var client = new CharRnnClient(new Uri($"http://127.0.0.1:{Port}"));
        const string notEstablished = "An HTTP/2 connection could not be established because the server did not complete the HTTP/2 handshake.";
        var internalOfTheLink = new RpcException(new Status(StatusCode.Internal, $"Error starting gRPC call. HttpRequestException: {notEstablished}", new HttpRequestException(notEstablished)));
        Assert.Equal($"server unavailable: Error starting gRPC call. {notEstablished.TrimEnd('.')}; the server at 127.0.0.1:{Port} seems to speak TLS: connect with https://127.0.0.1:{Port}",
            await LinkFailure.WithTlsAdviceAsync(client, internalOfTheLink));
        // The server's own INTERNAL comes in its trailers, without a transport exception: no link failed, whatever the port speaks.
        Assert.Null(await LinkFailure.WithTlsAdviceAsync(client, new RpcException(new Status(StatusCode.Internal, "Internal error. See the server log (request 3f9a1c2b)."))));
        // Nor is a reply the client could not read (its exception is no transport's).
        Assert.Null(await LinkFailure.WithTlsAdviceAsync(client, new RpcException(new Status(StatusCode.Internal, "Failed to deserialize response message.", new InvalidDataException("bad message")))));
    }

    [Fact]
    public async Task An_https_client_at_a_port_that_closes_on_the_ClientHello_is_told_both_readings_and_why()
    {
        // A plain port closes the connection on the ClientHello (UNAVAILABLE), as a TLS server that refuses it may: no certificate
        // came, but which of the two it is cannot be told. A Kestrel h2c port answers it (INTERNAL, ErrorTextTests).
        using var client = new CharRnnClient(new Uri($"https://127.0.0.1:{PlainPort()}"));
        var output = new RecordingReplOutput();
        await new CommandRunner(client, output, interactive: false).RunLineAsync("models");
        Assert.StartsWith("could not start a TLS connection: the server closed the connection during the TLS handshake (Received an unexpected EOF or 0 bytes from the transport stream): "
                          + "it may serve plain HTTP/2 (give HOST:PORT or http://HOST:PORT), or refuse this client's TLS versions (it must allow TLS 1.2 or 1.3)",
            Assert.Single(output.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_https_client_at_a_TLS_server_of_another_protocol_version_is_told_the_handshake_failed_and_why()
    {
        // A TLS 1.1-only server: this client offers 1.2 and 1.3, and the server answers with an alert (it is no plain server).
#pragma warning disable SYSLIB0039 // TLS 1.1 on purpose: a version the client does not offer
        using var client = new CharRnnClient(new Uri($"https://127.0.0.1:{TlsPort(SslProtocols.Tls11)}"));
#pragma warning restore SYSLIB0039
        var output = new RecordingReplOutput();
        await new CommandRunner(client, output, interactive: false).RunLineAsync("models");
        var error = Assert.Single(output.Errors);
        Assert.StartsWith("could not start a TLS connection: the TLS handshake failed (", error, StringComparison.Ordinal);
        Assert.Contains("alert", error); // OpenSSL's reason, without its error code
        Assert.DoesNotContain("error:", error);
        Assert.EndsWith("check that the server allows TLS 1.2 or 1.3 with a cipher suite this machine offers, and that its --tls-cert (and --tls-key) load and match", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_https_client_is_told_a_self_signed_certificate_is_not_trusted_and_how_to_trust_it()
    {
        using var client = new CharRnnClient(new Uri($"https://127.0.0.1:{Port}")); // the certificate's name: only its trust fails
        var output = new RecordingReplOutput();
        await new CommandRunner(client, output, interactive: false).RunLineAsync("models");
        Assert.Equal("could not start a TLS connection: the server's certificate is not trusted here (self-signed, or from a CA this machine does not know): "
                     + "give its CA's certificate, as PEM, with --tls-ca ca.pem, or have the server use a certificate from a public CA", Assert.Single(output.Errors));
    }

    [Fact]
    public async Task An_https_client_at_a_name_not_on_the_certificate_is_told_to_use_the_name_on_it()
    {
        using var client = new CharRnnClient(new Uri($"https://localhost:{Port}")); // the certificate is for 127.0.0.1 only
        var output = new RecordingReplOutput();
        await new CommandRunner(client, output, interactive: false).RunLineAsync("models");
        Assert.EndsWith("is for another host name: connect with a name on the certificate (https://THAT-NAME:PORT)", Assert.Single(output.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_probe_tells_a_TLS_port_from_a_plain_one()
    {
        Assert.True(await TlsProbe.SpeaksTlsAsync("127.0.0.1", Port));
        Assert.False(await TlsProbe.SpeaksTlsAsync("127.0.0.1", PlainPort()));
    }

    /// <summary>A port that accepts connections and closes them unread, as an h2c server does a ClientHello; stopped with the test.</summary>
    private int PlainPort()
    {
        var plain = new TcpListener(IPAddress.Loopback, 0);
        plain.Start();
        _stop.Token.Register(plain.Stop);
        _ = Task.Run(async () =>
        {
            try { while (true) using (await plain.AcceptTcpClientAsync(_stop.Token)) { } }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { }
        });
        return ((IPEndPoint)plain.LocalEndpoint).Port;
    }

    /// <summary>Another TLS port, of the given protocol versions alone; stopped with the test.</summary>
    private int TlsPort(SslProtocols protocols)
    {
        var other = new TcpListener(IPAddress.Loopback, 0);
        other.Start();
        _stop.Token.Register(other.Stop);
        _ = Task.Run(() => ServeTls(other, protocols));
        return ((IPEndPoint)other.LocalEndpoint).Port;
    }

    /// <summary>Completes a TLS handshake with whoever connects (a plain HTTP/2 preface fails it and is closed, as Kestrel's TLS port does).</summary>
    private async Task ServeTls(TcpListener listener, SslProtocols protocols = SslProtocols.None)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient tcp;
            try { tcp = await listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            _ = Task.Run(async () =>
            {
                using (tcp)
                {
                    try
                    {
                        await using var tls = new SslStream(tcp.GetStream());
                        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate, EnabledSslProtocols = protocols }, _stop.Token);
                        _ = await tls.ReadAsync(new byte[1], _stop.Token); // held until the client closes (any read will do)
                    }
                    catch (Exception) { } // a plain client's bytes are no handshake: closed, as a TLS server does
                }
            });
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback); // for 127.0.0.1 alone: "localhost" is another name
        request.CertificateExtensions.Add(names.Build());
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pfx), null); // with its key usable by SslStream
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _certificate.Dispose();
        _stop.Dispose();
    }
}
