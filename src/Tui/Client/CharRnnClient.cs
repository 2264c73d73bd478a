using CharRnn.Protos.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace CharRnn.Tui.Client;

/// <summary>
/// The TUI's and REPL's only way to the server: the generated gRPC clients over one channel.
/// The channel re-establishes its HTTP/2 connection by itself after a server restart, so a
/// call after an outage simply works again; sessions are gone then and callers reopen them.
/// </summary>
public sealed class CharRnnClient : IDisposable
{
    private readonly GrpcChannel? _channel; // null over a given invoker (tests)

    /// <summary>How long a unary call may wait for its answer (<see cref="UnaryDeadline"/>): a model load or a 20,000-char prime takes seconds.</summary>
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The name a server without keys gives its one user: every model's owner and its one key_usage row (the proto's word).</summary>
    public const string OpenServerOwner = "local";

    /// <param name="trustedCas">--tls-ca: CAs an https:// server's certificate may chain to, beside the system's roots.</param>
    public CharRnnClient(Uri address, string? token = null, TimeSpan? callTimeout = null, TrustedCas? trustedCas = null)
    {
        CallTimeout = callTimeout ?? DefaultCallTimeout;
        Address = address;
        var credentials = token == null ? null : CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add("authorization", "Bearer " + token);
            return Task.CompletedTask;
        });
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 64 << 20,
            // Pinged while idle or streaming: a link that died silently (a laptop asleep, a NAT's state lost) ends
            // a stream with UNAVAILABLE within a minute, so watches reconnect, instead of waiting on it for good.
            HttpHandler = new SocketsHttpHandler
            {
                KeepAlivePingDelay = TimeSpan.FromSeconds(20),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                EnableMultipleHttp2Connections = true,
                SslOptions = new System.Net.Security.SslClientAuthenticationOptions { CertificateChainPolicy = trustedCas?.ChainPolicy() },
            },
            Credentials = credentials == null ? null : ChannelCredentials.Create(address.Scheme == "https" ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, credentials),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
        // One value per client on every call, so that a proxy routing on it (docs/deploy.md, Envoy's
        // RING_HASH) sends all of this client's calls to the server that holds its sessions and jobs.
        var invoker = _channel.Intercept(new UnaryDeadline(CallTimeout)).Intercept(metadata =>
        {
            metadata.Add(AffinityHeader, Affinity);
            return metadata;
        });
        Catalog = new Catalog.CatalogClient(invoker);
        Training = new Training.TrainingClient(invoker);
        Generation = new Generation.GenerationClient(invoker);
    }

    /// <summary>
    /// Over another invoker: tests give one whose server answers in an order a real server cannot be made to
    /// (a call's status arriving before the write it failed fails).
    /// </summary>
    internal CharRnnClient(CallInvoker invoker, Uri address)
    {
        (CallTimeout, Address) = (DefaultCallTimeout, address);
        Catalog = new Catalog.CatalogClient(invoker);
        Training = new Training.TrainingClient(invoker);
        Generation = new Generation.GenerationClient(invoker);
    }

    public const string AffinityHeader = "x-charrnn-affinity";

    public Uri Address { get; }
    public TimeSpan CallTimeout { get; }
    public string Affinity { get; } = Guid.NewGuid().ToString("N");
    public Catalog.CatalogClient Catalog { get; }
    public Training.TrainingClient Training { get; }
    public Generation.GenerationClient Generation { get; }

    /// <summary>"host:port" or a URL; a bare host:port means HTTP/2 without TLS (h2c).</summary>
    public static Uri ParseAddress(string text)
    {
        var trimmed = text.Trim();
        var bare = !trimmed.Contains("://", StringComparison.Ordinal);
        if (bare) trimmed = "http://" + trimmed;
        // A bare host would get http's port 80, where no gRPC server listens: the client would retry forever.
        var portGiven = !bare || System.Text.RegularExpressions.Regex.IsMatch(trimmed, @":\d+/?$");
        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https") || uri.Port <= 0 || !portGiven)
            throw new ArgumentException($"--server '{text}' is not an address; use HOST:PORT (e.g. 127.0.0.1:50051) or http(s)://HOST:PORT.");
        return uri;
    }

    public void Dispose() => _channel?.Dispose();
}
