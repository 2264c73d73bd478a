using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CharRnn.Tui.Client;

/// <summary>
/// --tls-ca FILE: CA certificates (PEM) trusted beside the system's roots, for a server whose certificate is
/// self-signed or from a private CA. SSL_CERT_FILE does the same only by replacing the system's CA bundle for
/// the whole process; here the public CAs stay trusted. Host names are checked as always.
/// </summary>
public sealed class TrustedCas
{
    private const string Pem = "-----BEGIN CERTIFICATE-----";

    private TrustedCas(string file, X509Certificate2Collection certificates)
    {
        File = file;
        Certificates = certificates;
    }

    public string File { get; }
    public X509Certificate2Collection Certificates { get; }

    /// <summary>The CAs in <paramref name="file"/>, for the TLS server at <paramref name="server"/>; a bad file, or a server that is not https://, is a usage error.</summary>
    public static TrustedCas Load(string file, Uri? server)
    {
        const string allowed = $"give a PEM file of the server's CA certificate(s), or of its self-signed certificate ({Pem})";
        if (server == null)
            throw new ArgumentException("--tls-ca trusts a TLS server's certificate, and without --server https://HOST:PORT the embedded server (plain HTTP/2) is started; add --server https://HOST:PORT or drop --tls-ca.");
        if (server.Scheme != Uri.UriSchemeHttps)
            throw new ArgumentException($"--tls-ca trusts a TLS server's certificate, and --server {server.Authority} is plain HTTP/2 (HOST:PORT and http:// are); connect with https://{server.Authority} or drop --tls-ca.");
        if (Directory.Exists(file)) throw new ArgumentException($"--tls-ca '{file}' is a folder; {allowed}.");
        if (!System.IO.File.Exists(file)) throw new ArgumentException($"--tls-ca '{file}' does not exist; {allowed}.");
        var text = System.IO.File.ReadAllText(file);
        if (!text.Contains(Pem, StringComparison.Ordinal)) throw new ArgumentException($"--tls-ca '{file}' holds no PEM certificate; {allowed}.");
        var certificates = new X509Certificate2Collection();
        try { certificates.ImportFromPem(text); } // CERTIFICATE blocks only; a key or other text beside them is skipped
        catch (CryptographicException e)
        {
            throw new ArgumentException($"--tls-ca '{file}' has a certificate that cannot be read ({e.Message.TrimEnd('.')}); {allowed}.", e);
        }
        if (certificates.Count == 0) throw new ArgumentException($"--tls-ca '{file}' has no certificate that can be read; {allowed}.");
        return new TrustedCas(file, certificates);
    }

    /// <summary>
    /// How a server's chain is checked: against the system's roots plus these. A custom root trust alone would drop the
    /// system's, so they are added to it; revocation is not checked, as .NET does not by default.
    /// </summary>
    public X509ChainPolicy ChainPolicy()
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        foreach (var location in new[] { StoreLocation.LocalMachine, StoreLocation.CurrentUser })
        {
            using var store = new X509Store(StoreName.Root, location);
            try
            {
                store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
                policy.CustomTrustStore.AddRange(store.Certificates);
            }
            catch (CryptographicException) { } // no such store here (a user with no .NET root store): the others still count
        }
        policy.CustomTrustStore.AddRange(Certificates);
        return policy;
    }
}
