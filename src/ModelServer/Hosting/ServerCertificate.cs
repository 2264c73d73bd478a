using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// The listener's TLS certificate (--tls-cert, --tls-key and its password), read from its files once, when first asked
/// for: Kestrel's listener (as the server is built) and the start's check (<see cref="StartChecks"/>) get the same
/// certificate, so files replaced between the two reads (a renewal landing then) cannot have the check pass or refuse
/// a pair the listener does not serve. Null without --tls-cert. A singleton: disposed with the server.
/// </summary>
public sealed class ServerCertificate(IOptions<ServerOptions> options) : IDisposable
{
    // A failed read stays failed: the check and the listener give the same error.
    private readonly Lazy<X509Certificate2?> _certificate = new(() => options.Value is { TlsCertificate: { } certificate } o
        ? TlsCertificateFile.Load(certificate, o.TlsKey, o.TlsPassword, o.TlsPasswordFile) : null);

    public X509Certificate2? Certificate => _certificate.Value;

    public void Dispose()
    {
        if (_certificate.IsValueCreated) _certificate.Value?.Dispose();
    }
}
