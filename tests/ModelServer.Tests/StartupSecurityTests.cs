using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace CharRnn.ModelServer.Tests;

/// <summary>Start-up refusals of a server without API keys that would listen beyond loopback.</summary>
public class StartupSecurityTests
{
    [Fact]
    public async Task A_server_without_keys_refuses_to_listen_beyond_loopback()
    {
        var e = await StartRefused("0.0.0.0:0", []);
        Assert.Contains("without API keys", e.Message);
        Assert.Contains("charrnn keys add", e.Message);
    }

    [Fact]
    public async Task Endpoints_from_kestrel_configuration_are_refused_since_the_loopback_check_cannot_see_them()
    {
        var e = await StartRefused("127.0.0.1:0", ["--Kestrel:Endpoints:Open:Url=http://0.0.0.0:0"]);
        Assert.Contains("Kestrel:Endpoints", e.Message);
        Assert.Contains("--listen HOST:PORT", e.Message);
    }

    [Theory]
    [InlineData("0.0.0.0:0", true)]
    [InlineData("127.0.0.1:0", false)]
    public async Task A_server_with_keys_but_no_tls_beyond_loopback_warns_that_keys_travel_in_plain_text(string listen, bool warned)
    {
        var keys = Path.Combine(Path.GetTempPath(), "charrnn-plain-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        Security.ApiKeyStore.Load(keys).Add("ops", admin: true);
        var log = new CapturedLog();
        var options = new Hosting.ServerOptions
        {
            Listen = listen,
            KeysFile = keys,
            ModelsDirectory = Path.Combine(Path.GetTempPath(), "charrnn-plain-" + Guid.NewGuid().ToString("N")[..8]),
            Device = "cpu",
        };
        var app = Hosting.ServerHost.Build([], options, l => l.AddProvider(log));
        try
        {
            await Hosting.ServerHost.StartAsync(app);
            var warning = log.With("plain text");
            if (!warned) Assert.Empty(warning);
            else
            {
                var line = Assert.Single(warning);
                Assert.StartsWith("Warning: ", line);
                Assert.Contains(listen, line);
                Assert.Contains("--tls-cert", line);
                Assert.Contains("TLS-terminating proxy", line);
            }
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            File.Delete(keys);
            if (Directory.Exists(options.ModelsDirectory)) Directory.Delete(options.ModelsDirectory, true);
        }
    }

    [Fact]
    public async Task A_keys_file_that_is_not_valid_at_start_stops_the_start_saying_so_not_that_calls_are_refused_until_it_is_fixed()
    {
        var keys = Path.Combine(Path.GetTempPath(), "charrnn-broken-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        File.WriteAllText(keys, "[{\"name\": \"ops\",");
        var log = new CapturedLog();
        var options = new Hosting.ServerOptions
        {
            Listen = "127.0.0.1:0",
            KeysFile = keys,
            ModelsDirectory = Path.Combine(Path.GetTempPath(), "charrnn-broken-" + Guid.NewGuid().ToString("N")[..8]),
            Device = "cpu",
        };
        var app = Hosting.ServerHost.Build([], options, l => l.AddProvider(log));
        try
        {
            var e = await Assert.ThrowsAsync<ArgumentException>(() => Hosting.ServerHost.StartAsync(app));
            Assert.StartsWith($"The server will not start: the keys file {keys} (--keys, CharRnn:KeysFile) cannot be used. Keys file '{keys}' is not valid JSON of keys: ", e.Message);
            // "Refused until fixed" is what a running server's reload says (deploy.md); a server that is not starting refuses nothing.
            Assert.Empty(log.With("refused until"));
        }
        finally
        {
            await app.DisposeAsync();
            File.Delete(keys);
            if (Directory.Exists(options.ModelsDirectory)) Directory.Delete(options.ModelsDirectory, true);
        }
    }

    [Fact]
    public async Task A_pfx_certificate_with_its_password_and_a_pem_certificate_with_its_key_serve_tls()
    {
        var root = Path.Combine(Path.GetTempPath(), "charrnn-tls-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        using var rsa = RSA.Create(2048);
        using var made = SelfSignedLocalhost(rsa);
        File.WriteAllBytes(Path.Combine(root, "server.pfx"), made.Export(X509ContentType.Pfx, "secret"));
        File.WriteAllText(Path.Combine(root, "server.pem"), made.ExportCertificatePem());
        File.WriteAllText(Path.Combine(root, "server.key"), rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(root, "both.pem"), made.ExportCertificatePem() + "\n" + rsa.ExportPkcs8PrivateKeyPem()); // the key in the certificate's file
        var encryption = new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000);
        File.WriteAllText(Path.Combine(root, "encrypted.key"), rsa.ExportEncryptedPkcs8PrivateKeyPem("pass phrase", encryption));
        File.WriteAllText(Path.Combine(root, "both-encrypted.pem"), made.ExportCertificatePem() + "\n" + rsa.ExportEncryptedPkcs8PrivateKeyPem("pass phrase", encryption));
        File.WriteAllText(Path.Combine(root, "passphrase"), "pass phrase\n"); // as echo writes it: the line end is not the passphrase's
        File.WriteAllText(Path.Combine(root, "password"), "secret\r\n");
        try
        {
            foreach (var (certificate, key, password, passwordFile) in new[]
                     {
                         ("server.pfx", null, "secret", null), ("server.pem", "server.key", null, null), ("both.pem", (string?)null, (string?)null, (string?)null),
                         ("server.pem", "encrypted.key", "pass phrase", null), ("both-encrypted.pem", null, "pass phrase", null), // an encrypted PKCS#8 key and its passphrase
                         ("server.pem", "encrypted.key", null, "passphrase"), ("server.pfx", null, null, "password"), // the passphrase, or password, in a file's first line
                     })
            {
                var options = new Hosting.ServerOptions
                {
                    Listen = "127.0.0.1:0",
                    ModelsDirectory = Path.Combine(root, "models"),
                    Device = "cpu",
                    TlsCertificate = Path.Combine(root, certificate),
                    TlsKey = key == null ? null : Path.Combine(root, key),
                    TlsPassword = password,
                    TlsPasswordFile = passwordFile == null ? null : Path.Combine(root, passwordFile),
                };
                var app = Hosting.ServerHost.Build([], options, _ => { });
                try
                {
                    var address = await Hosting.ServerHost.StartAsync(app);
                    Assert.Equal("https", address.Scheme);
                    Assert.Equal(made.Thumbprint, await ServedCertificateThumbprint(address.Port)); // a handshake, which needs the key
                }
                finally
                {
                    await app.StopAsync();
                    await app.DisposeAsync();
                }
            }
        }
        finally { Directory.Delete(root, true); }
    }

    /// <summary>
    /// The certificate and key are read once, as the server is built: the start's check and the listener use that one
    /// certificate. Files changed after that read (a renewal half landed: a new certificate beside the old key) are not read
    /// again by the check, which refused the start for a pair the listener never used.
    /// </summary>
    [Fact]
    public async Task The_start_checks_the_certificate_the_listener_serves_not_the_files_read_again()
    {
        var root = Directory.CreateTempSubdirectory("charrnn-tls-once-").FullName;
        static X509Certificate2 Write(string root, bool withKey)
        {
            using var rsa = RSA.Create(2048);
            var made = SelfSignedLocalhost(rsa);
            File.WriteAllText(Path.Combine(root, "server.pem"), made.ExportCertificatePem());
            if (withKey) File.WriteAllText(Path.Combine(root, "server.key"), rsa.ExportPkcs8PrivateKeyPem());
            return made;
        }
        using var read = Write(root, withKey: true);
        var options = new Hosting.ServerOptions
        {
            Listen = "127.0.0.1:0", ModelsDirectory = Path.Combine(root, "models"), Device = "cpu",
            TlsCertificate = Path.Combine(root, "server.pem"), TlsKey = Path.Combine(root, "server.key"),
        };
        var app = Hosting.ServerHost.Build([], options, _ => { });
        try
        {
            using var renewed = Write(root, withKey: false); // a pair that does not match now
            var address = await Hosting.ServerHost.StartAsync(app); // its check included
            Assert.Equal(read.Thumbprint, await ServedCertificateThumbprint(address.Port));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(root, true);
        }
    }

    /// <summary>A certificate for localhost, valid from yesterday to tomorrow, signed with <paramref name="rsa"/>, its key.</summary>
    private static X509Certificate2 SelfSignedLocalhost(RSA rsa) =>
        new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

    /// <summary>The thumbprint of the certificate a TLS handshake with 127.0.0.1:<paramref name="port"/> is served.</summary>
    private static async Task<string> ServedCertificateThumbprint(int port)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true); // self-signed: its thumbprint is the check
        await tls.AuthenticateAsClientAsync("localhost");
        return tls.RemoteCertificate!.GetCertHashString();
    }

    /// <summary>The error a keyless server listening on <paramref name="listen"/>, with <paramref name="args"/>, refuses to start with.</summary>
    private static async Task<ArgumentException> StartRefused(string listen, string[] args)
    {
        var options = new Hosting.ServerOptions
        {
            Listen = listen,
            ModelsDirectory = Path.Combine(Path.GetTempPath(), "charrnn-open-" + Guid.NewGuid().ToString("N")[..8]),
            Device = "cpu",
        };
        var app = Hosting.ServerHost.Build(args, options, _ => { });
        try { return await Assert.ThrowsAsync<ArgumentException>(() => Hosting.ServerHost.StartAsync(app)); }
        finally
        {
            await app.DisposeAsync();
            if (Directory.Exists(options.ModelsDirectory)) Directory.Delete(options.ModelsDirectory, true);
        }
    }
}
