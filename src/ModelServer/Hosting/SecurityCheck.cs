using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using CharRnn.ModelServer.Security;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// At start-up: refuses to serve other machines without a keys file, and says in the log whether
/// authentication is on.
/// </summary>
public sealed class SecurityCheck(IOptions<ServerOptions> options, AuthInterceptor auth, IConfiguration configuration, ILogger<SecurityCheck> logger,
    IHostApplicationLifetime lifetime, IServer server) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Check(options.Value, configuration);
        var loopback = IsLoopback(options.Value.Listen);
        if (auth.Enabled)
        {
            var (keys, problem) = auth.Current(); // the file as the interceptor will use it, or changed since
            if (problem != null || keys == null)
                throw new ArgumentException($"The server will not start: the keys file {options.Value.KeysFile} (--keys, CharRnn:KeysFile) cannot be used. {problem}");
            var file = Path.GetFullPath(keys.Path); // in full: a relative --keys is read from the working folder, which the log does not say
            if (keys.Keys.Count == 0)
                logger.LogWarning("Authentication is on but {File} holds no API keys: every call is refused until one is added (charrnn keys add NAME --keys {File})", file, file);
            else
                logger.LogInformation("Authentication is on: {Count} API key(s) in {File}", keys.Keys.Count, file);
            // Keys are bearer secrets: over plain HTTP/2 anyone on the path between a client and this address can read and reuse them.
            if (!loopback && options.Value.TlsCertificate == null)
                logger.LogWarning("API keys are on but TLS is off and {Listen} is not loopback: keys travel in plain text and anyone on the network path can read and reuse them. " +
                                  "Serve TLS (--tls-cert FILE, with --tls-key KEY for a PEM certificate), or put a TLS-terminating proxy in front and listen on 127.0.0.1",
                    options.Value.Listen);
        }
        else if (options.Value.LocalToken != null)
        {
            logger.LogInformation("Authentication: only this process's own client, by a key made at start and kept in memory");
        }
        else
        {
            // Once listening: a server that then fails to start (a port in use) says only why, and the addresses are the bound ones (--listen :0 picks its port).
            lifetime.ApplicationStarted.Register(() => logger.LogWarning(
                "Authentication is OFF: no API keys configured; listening on loopback only ({Listen}), every caller is the local admin",
                server.Features.Get<IServerAddressesFeature>()?.Addresses is { Count: > 0 } bound ? string.Join(", ", bound) : options.Value.Listen));
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// What is refused from the settings and files alone; also run by <see cref="StartChecks"/>, before the models folder is made.
    /// </summary>
    public static void Check(ServerOptions options, IConfiguration configuration)
    {
        // ASP.NET Core adds the endpoints of a "Kestrel:Endpoints" section (appsettings, --Kestrel:Endpoints:…,
        // Kestrel__Endpoints__… variables) beside the ones --listen makes: addresses this check would never see.
        if (configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
            throw new ArgumentException(
                "Kestrel:Endpoints in the configuration would add listeners the server does not check (keys, loopback). " +
                "Remove it, and give the address with --listen HOST:PORT (CharRnn:Listen; TLS: --tls-cert) and --metrics-listen HOST:PORT.");
        var loopback = IsLoopback(options.Listen);
        if (options.KeysFile is { } file)
        {
            // Read as a file with no keys, a mistyped path would start a server that refuses every call;
            // charrnn serve --keys refuses it before this, the standalone host (CharRnn:KeysFile) here.
            if (!File.Exists(file) && !Directory.Exists(file))
                throw new ArgumentException($"CharRnn:KeysFile (--keys) '{file}' does not exist; create it with charrnn keys add NAME --keys {file}.");
            // Read here first: the interceptor's own reading would log that calls are refused until the file is fixed,
            // which is what a running server does on a reload, not a server that is not starting.
            try { ApiKeyStore.Load(file); }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                throw new ArgumentException($"The server will not start: the keys file {file} (--keys, CharRnn:KeysFile) cannot be used. {e.Message}");
            }
        }
        else if (!loopback)
        {
            throw new ArgumentException(
                $"Refusing to listen on {options.Listen} without API keys: anyone who can reach it could use and delete models. " +
                "Create a key (charrnn keys add NAME --admin --keys FILE) and pass --keys FILE (CharRnn:KeysFile), or listen on 127.0.0.1.");
        }
    }

    private static bool IsLoopback(string listen)
    {
        var (host, _) = ServerHost.ParseListen(listen);
        return host == "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
