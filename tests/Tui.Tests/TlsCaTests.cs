using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CharRnn.ModelServer.Hosting;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace CharRnn.Tui.Tests;

/// <summary>
/// --tls-ca FILE: a model server with a self-signed certificate (made here, for 127.0.0.1 only) is reached when its
/// certificate is given, not otherwise; a host name not on it still fails; a bad file or a plain server is a usage error.
/// </summary>
public sealed class TlsCaTests(TlsCaTests.SelfSignedServer server) : IClassFixture<TlsCaTests.SelfSignedServer>
{
    [Fact]
    public async Task With_tls_ca_a_self_signed_server_is_reached()
    {
        var address = new Uri($"https://127.0.0.1:{server.Port}");
        using var client = new CharRnnClient(address, trustedCas: TrustedCas.Load(server.CaFile, address));
        var output = new RecordingReplOutput();
        await new CommandRunner(client, output, interactive: false).RunLineAsync("status");
        Assert.Empty(output.Errors);
        Assert.NotEmpty(output.Lines);
    }

    [Fact]
    public async Task Without_tls_ca_the_certificate_is_not_trusted_and_the_error_names_tls_ca()
    {
        using var client = new CharRnnClient(new Uri($"https://127.0.0.1:{server.Port}"));
        var output = new RecordingReplOutput();
        await new CommandRunner(client, output, interactive: false).RunLineAsync("status");
        Assert.Contains("the server's certificate is not trusted here (self-signed, or from a CA this machine does not know): give its CA's certificate, as PEM, with --tls-ca ca.pem",
            Assert.Single(output.Errors));
    }

    [Fact]
    public async Task With_tls_ca_a_host_name_not_on_the_certificate_still_fails()
    {
        var address = new Uri($"https://localhost:{server.Port}"); // the certificate is for 127.0.0.1 alone
        using var client = new CharRnnClient(address, trustedCas: TrustedCas.Load(server.CaFile, address));
        var output = new RecordingReplOutput();
        await new CommandRunner(client, output, interactive: false).RunLineAsync("status");
        // Trusted now: the name is the only fault left.
        Assert.Equal("could not start a TLS connection: the server's certificate is for another host name: connect with a name on the certificate (https://THAT-NAME:PORT)",
            Assert.Single(output.Errors));
    }

    [Fact]
    public void The_systems_roots_stay_trusted_beside_the_given_cas()
    {
        var address = new Uri($"https://127.0.0.1:{server.Port}");
        var cas = TrustedCas.Load(server.CaFile, address);
        using var store = new X509Store(StoreName.Root, StoreLocation.LocalMachine);
        store.Open(OpenFlags.ReadOnly);
        Assert.NotEmpty(store.Certificates); // the system's bundle (ca-certificates): without it this asks nothing
        var trusted = cas.ChainPolicy().CustomTrustStore;
        Assert.All(store.Certificates, root => Assert.Contains(root, trusted));
        Assert.Contains(cas.Certificates[0], trusted);
    }

    [Fact]
    public async Task Charrnn_exec_reaches_the_server_with_tls_ca()
    {
        var (code, stdout, stderr) = await Charrnn($"--server https://127.0.0.1:{server.Port} --tls-ca '{server.CaFile}' --exec status");
        Assert.True(code == 0, stderr);
        Assert.Contains("127.0.0.1", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("TLS", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_tls_ca_or_one_without_an_https_server_is_a_usage_error()
    {
        var https = $"--server https://127.0.0.1:{server.Port}";
        var notPem = Path.Combine(server.Folder, "not.pem");
        File.WriteAllText(notPem, "just text\n");
        const string allowed = "give a PEM file of the server's CA certificate(s), or of its self-signed certificate (-----BEGIN CERTIFICATE-----).";
        await AssertUsageError($"{https} --tls-ca /nonexistent/ca.pem --exec status", $"charrnn: --tls-ca '/nonexistent/ca.pem' does not exist; {allowed}");
        await AssertUsageError($"{https} --tls-ca '{notPem}' --exec status", $"charrnn: --tls-ca '{notPem}' holds no PEM certificate; {allowed}");
        await AssertUsageError($"{https} --tls-ca '{server.Folder}' --exec status", $"charrnn: --tls-ca '{server.Folder}' is a folder; {allowed}");
        await AssertUsageError($"--server 127.0.0.1:{server.Port} --tls-ca '{server.CaFile}' --exec status",
            $"charrnn: --tls-ca trusts a TLS server's certificate, and --server 127.0.0.1:{server.Port} is plain HTTP/2 (HOST:PORT and http:// are); connect with https://127.0.0.1:{server.Port} or drop --tls-ca.");
        await AssertUsageError($"--tls-ca '{server.CaFile}' --models /nonexistent/models --exec status",
            "charrnn: --tls-ca trusts a TLS server's certificate, and without --server https://HOST:PORT the embedded server (plain HTTP/2) is started; add --server https://HOST:PORT or drop --tls-ca.");
    }

    private static async Task AssertUsageError(string arguments, string expected)
    {
        var (code, _, stderr) = await Charrnn(arguments);
        Assert.Equal(expected, stderr.Trim());
        Assert.Equal(2, code);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> Charrnn(string arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"dotnet '{Path.Combine(AppContext.BaseDirectory, "charrnn.dll")}' {arguments} < /dev/null");
        start.Environment.Remove("SSL_CERT_FILE"); // trust from --tls-ca alone
        using var process = CharRnn.Engine.Runtime.AsyncSignalMask.StartProcess(start);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await stdout, stderr);
    }

    /// <summary>The model server on 127.0.0.1 with TLS from a self-signed certificate for 127.0.0.1 alone, written as PEM to <see cref="CaFile"/>.</summary>
    public sealed class SelfSignedServer : IDisposable
    {
        private readonly WebApplication _app;

        public SelfSignedServer()
        {
            Folder = Directory.CreateTempSubdirectory("charrnn-tls-ca-").FullName;
            CaFile = Path.Combine(Folder, "ca.pem");
            var keyFile = Path.Combine(Folder, "key.pem");
            using (var key = RSA.Create(2048))
            {
                var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                var names = new SubjectAlternativeNameBuilder();
                names.AddIpAddress(IPAddress.Loopback);
                request.CertificateExtensions.Add(names.Build());
                using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
                File.WriteAllText(CaFile, certificate.ExportCertificatePem() + "\n");
                File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem() + "\n");
            }
            var options = new ServerOptions
            {
                ModelsDirectory = Path.Combine(Folder, "models"), Listen = "127.0.0.1:0", Device = "cpu", Threads = 1,
                TlsCertificate = CaFile, TlsKey = keyFile,
            };
            _app = ServerHost.Build([], options, logging => logging.ClearProviders(), embedded: true);
            Port = ServerHost.StartAsync(_app).GetAwaiter().GetResult().Port;
        }

        public string Folder { get; }
        public string CaFile { get; }
        public int Port { get; }

        public void Dispose()
        {
            _app.StopAsync().GetAwaiter().GetResult();
            _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Directory.Delete(Folder, recursive: true);
        }
    }
}
