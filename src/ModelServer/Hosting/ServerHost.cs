using System.Net;
using CharRnn.ModelServer.Corpora;
using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Jobs;
using CharRnn.ModelServer.MessageLimits;
using CharRnn.ModelServer.Metrics;
using CharRnn.ModelServer.Persistence;
using CharRnn.ModelServer.Security;
using Prometheus;
using CharRnn.ModelServer.TrainedModels;
using CharRnn.ModelServer.Services;
using CharRnn.ModelServer.Sessions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Grpc.AspNetCore.Server;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Console;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// Builds the server: Kestrel speaking HTTP/2 (h2c on plain TCP, or TLS), the three services,
/// health and reflection, and the singletons behind them. Used by Program (standalone), by
/// `charrnn serve`, by the TUI's embedded server and by the tests.
/// </summary>
public static class ServerHost
{
    /// <summary>The configuration section ServerOptions bind from (e.g. --CharRnn:ModelsDirectory=DIR, CHARRNN__LISTEN).</summary>
    public const string Section = "CharRnn";

    /// <param name="embedded">In another program's process, which handles the signals (<see cref="EmbeddedLifetime"/>).</param>
    public static WebApplication Build(string[] args, ServerOptions? options = null, Action<ILoggingBuilder>? logging = null, bool embedded = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

        builder.Logging.ClearProviders();
        if (logging != null) logging(builder.Logging);
        else
        {
            builder.Logging.AddConsole(o => o.FormatterName = ServerLogFormatter.FormatterName).AddConsoleFormatter<ServerLogFormatter, ConsoleFormatterOptions>();
            // The log is diagnostics: stdout keeps what a script reads (charrnn serve's "listening on" line with the bound port).
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // "Hosting failed to start" with its stack trace: the start's caller reports the error itself, in one line.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        // Its "Error when executing service method" with a stack trace came for every request whose bytes did not parse,
        // unthrottled: MalformedMessageRefusal logs those in one line a minute, and any other such error itself. Its one
        // other error, a failure to cancel a call whose deadline passed, goes unlogged with it (logging filters by level).
        builder.Logging.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", LogLevel.Critical);

        // Explicit options (charrnn serve, the TUI) or the "CharRnn" configuration section, read
        // when first needed so hosts that add configuration late (tests) are seen.
        if (options != null) builder.Services.AddSingleton(Options.Create(options));
        else builder.Services.AddOptions<ServerOptions>().Bind(builder.Configuration.GetSection(Section))
            .PostConfigure(o => o.LocalToken = null); // the embedded server's secret is made in memory, never a setting
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            Listen(kestrel, options ?? context.Configuration.GetSection(Section).Get<ServerOptions>() ?? new ServerOptions());
            // A client gone without closing (a laptop asleep, a cable pulled) ends its calls within a minute:
            // an open Interact or a slow Generate holds its session, a place in its key's quota, until then.
            kestrel.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(30);
            kestrel.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
        });
        var metricsListen = options?.MetricsListen ?? builder.Configuration.GetSection(Section).Get<ServerOptions>()?.MetricsListen;
        builder.Services.PostConfigure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        AddServices(builder.Services);
        if (embedded) builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        else
        {
            builder.Services.AddHostedService<ShutdownSignalLog>(); // first: it logs the signal before HangupStops acts on SIGHUP
            builder.Services.AddHostedService<HangupStops>();
        }

        var app = builder.Build();
        app.UseRouting(); // first: OversizedMessageRefusal reads the chosen gRPC method's type from its endpoint
        app.UseMiddleware<OversizedMessageRefusal>(); // before the gRPC handler reads the body
        app.UseMiddleware<MalformedMessageRefusal>(); // after it: rewrites the status of a message that did not parse
        app.UseMiddleware<DecompressedMessageRefusal>(); // and of a gzip message past the limit: its request id
        HostedServices.MapAll(app);
        if (metricsListen != null)
        {
            var metricsPort = ParseListen(metricsListen, "--metrics-listen").Port;
            // Served on its own listener only: RequireHost matches the Host header, which any client sets,
            // so a request to the gRPC port naming the metrics port would pass it without a key.
            app.Use((context, next) =>
            {
                if (!context.Request.Path.StartsWithSegments("/metrics") || context.Connection.LocalPort == metricsPort) return next(context);
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
            ServerMetrics.ExportOnlyUseful();
            ServerMetrics.BuildInfo.WithLabels(CatalogService.Version).Set(1);
            app.MapMetrics().RequireHost($"*:{metricsPort}");
        }
        Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(() => UpdateGauges(app.Services));
        app.MapGet("/", () => "CharRnn model server: speak gRPC (HTTP/2) to this address; see protos/charrnn/v1/charrnn.proto.");
        return app;
    }

    public static void AddServices(IServiceCollection services)
    {
        services.AddGrpc(o =>
        {
            o.Interceptors.Add<AuthInterceptor>(); // first: nothing runs for a caller without a valid key
            o.Interceptors.Add<ErrorMappingInterceptor>();
        });
        services.AddSingleton<AuthInterceptor>();
        services.AddSingleton<KeysFileRemovals>();
        services.AddSingleton<RefusalLog>();
        services.AddSingleton<QuotaRefusalLog>();
        services.AddSingleton<Sessions.AdminSessionLog>();
        services.AddSingleton<PathRedaction>();
        services.AddSingleton<KeyRevocations>();
        // Messages are read before any interceptor runs, a key's check included: only training takes uploads
        // (up to the limit; UTF-8 can take 4 bytes a char), every other service what its longest text needs.
        // Larger messages are refused with RESOURCE_EXHAUSTED saying the size sent and the limit (OversizedMessageRefusal).
        // A gzip message is held to the same limits once decompressed (BoundedGzipDecompression).
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<ServerOptions>>((grpc, server) =>
        {
            grpc.MaxReceiveMessageSize = server.Value.Limits.MaxMessageBytes;
            grpc.CompressionProviders = [new BoundedGzipDecompression(server.Value.Limits.MaxMessageBytes, "max_message_bytes")];
        });
        services.AddOptions<GrpcServiceOptions<TrainingService>>().Configure<IOptions<ServerOptions>>((grpc, server) =>
        {
            grpc.MaxReceiveMessageSize = server.Value.Limits.MaxTrainingMessageBytes;
            grpc.CompressionProviders = [new BoundedGzipDecompression(server.Value.Limits.MaxTrainingMessageBytes, "max_training_message_bytes")];
        });
        services.AddGrpcReflection();

        services.AddHostedService<SecurityCheck>(); // first: a server that must not start stops here
        services.AddHostedService<CorporaFolderCheck>();
        services.AddHostedService<HiddenUploadsWarning>(); // after the check: it reads the folder
        services.AddHostedService<ReplacedKnownCorporaNotice>(); // after the check too
        // The device loop starts before the health publisher, so health is never reported before it runs.
        services.AddSingleton<DeviceWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<DeviceWorker>());
        services.AddHostedService<SessionReaper>();
        services.AddHostedService<RemovedKeySweeper>();
        services.AddGrpcHealthChecks(o =>
        {
            o.UseHealthChecksCache = false; // Check asks the device loop now: SERVING as soon as it runs
            // The whole server (""), and each service it hosts by name: every one serves while the device loop runs.
            // A name it does not host stays NOT_FOUND.
            o.Services.Map("", _ => true);
            foreach (var service in HostedServices.Names) o.Services.Map(service, _ => true);
        }).AddCheck<DeviceHealthCheck>("device");
        services.Configure<HealthCheckPublisherOptions>(o => { o.Delay = TimeSpan.Zero; o.Period = TimeSpan.FromSeconds(2); });

        services.AddSingleton<ServerCertificate>();
        services.AddSingleton<ServerDatabase>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<CharRateLimiter>();
        services.AddSingleton<ServerLifetime>();
        services.AddSingleton<ModelStore>();
        services.AddSingleton<ExportSlots>();
        services.AddSingleton<ImportSlots>();
        services.AddSingleton<UploadedCorpora>();
        services.AddSingleton<CorpusStore>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<JobEventJournal>();
        services.AddSingleton<JobQueue>();
    }

    /// <summary>Starts a built server and returns the address it listens on (port 0 → the port chosen).</summary>
    public static async Task<Uri> StartAsync(WebApplication app, CancellationToken cancellation = default)
    {
        StartChecks.Run(app); // before the host makes anything (the models folder, its database)
        await app.StartAsync(cancellation).ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        // With --metrics-listen the server has a second, HTTP/1.1-only endpoint: not the one gRPC clients want.
        var metricsPort = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value.MetricsListen is { } metrics ? ParseListen(metrics, "--metrics-listen").Port : -1;
        var address = addresses?.FirstOrDefault(a => new Uri(a.Replace("[::]", "localhost", StringComparison.Ordinal)).Port != metricsPort)
            ?? throw new InvalidOperationException("The server reports no gRPC address.");
        return new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
    }

    /// <summary>
    /// Lets go of a host whose start was refused, before the refusal is reported: what did start (the device thread) stops, and the
    /// host is disposed (the database and its lock; a models folder the start made goes). Each step is best effort: a host that
    /// failed while it was being built cannot stop, and any service the host made may throw from its dispose; neither may
    /// replace why the start was refused.
    /// </summary>
    public static async Task LetGoRefused(WebApplication app)
    {
        try { await app.StopAsync().ConfigureAwait(false); }
        catch (Exception) { }
        try { await app.DisposeAsync().ConfigureAwait(false); }
        catch (Exception) { }
    }

    private static void UpdateGauges(IServiceProvider services)
    {
        var auth = services.GetRequiredService<AuthInterceptor>();
        var jobs = services.GetRequiredService<JobQueue>();
        var (queued, running) = jobs.Owners;
        UsageByKey.Update(services.GetRequiredService<SessionStore>().All.Select(s => s.Owner), queued, running,
            auth.Enabled ? auth.Current().Keys.Keys.Select(k => k.Name) : [Caller.Local.Name]);
        ServerMetrics.TrainingCharsPerSecond.Set(jobs.RunningCharsPerSecond);
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        ServerMetrics.DeviceMemoryBytes.WithLabels("cpu").Set(process.WorkingSet64);
    }

    private static void Listen(KestrelServerOptions kestrel, ServerOptions options)
    {
        // Listeners come from --listen and --metrics-listen alone: Kestrel would otherwise also bind a
        // "Kestrel:Endpoints" section, and re-bind it when appsettings.json changes, past SecurityCheck.
        kestrel.Configure(new ConfigurationBuilder().Build());
        CheckMetricsListenDiffers(options);
        if (options.MetricsListen is { } metrics)
        {
            var (metricsHost, metricsPort) = ParseListen(metrics, "--metrics-listen");
            void Http1(ListenOptions l) => l.Protocols = HttpProtocols.Http1; // Prometheus scrapes over HTTP/1.1
            if (metricsHost is "*" or "0.0.0.0" or "::") kestrel.ListenAnyIP(metricsPort, Http1);
            else if (metricsHost == "localhost") kestrel.ListenLocalhost(metricsPort, Http1);
            else kestrel.Listen(IPAddress.Parse(metricsHost), metricsPort, Http1);
        }
        var (host, port) = ParseListen(options.Listen);
        void Configure(ListenOptions listen)
        {
            listen.Protocols = HttpProtocols.Http2; // gRPC without TLS needs HTTP/2 only (h2c)
            if (options.TlsCertificate is { } certificate)
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2; // ALPN negotiates h2 for gRPC
                // The start's check reads the same one (ServerCertificate): the files are read once.
                listen.UseHttps(listen.ApplicationServices.GetRequiredService<ServerCertificate>().Certificate
                                ?? throw new InvalidOperationException($"--tls-cert '{certificate}' is set in Kestrel's options but not in the server's."));
            }
        }
        if (host is "localhost") kestrel.ListenLocalhost(port, Configure);
        else if (host is "*" or "0.0.0.0" or "::") kestrel.ListenAnyIP(port, Configure);
        else kestrel.Listen(IPAddress.Parse(host), port, Configure);
    }

    /// <summary>
    /// Refuses a metrics address that would take the gRPC one's port (the same host, or either on all interfaces or
    /// localhost): Kestrel's own error, "address already in use", sends the user looking for another process.
    /// </summary>
    public static void CheckMetricsListenDiffers(ServerOptions options)
    {
        if (options.MetricsListen is not { } metrics) return;
        var (host, port) = ParseListen(options.Listen);
        var (metricsHost, metricsPort) = ParseListen(metrics, "--metrics-listen");
        static bool Wide(string h) => h is "*" or "0.0.0.0" or "::" or "localhost";
        if (port == metricsPort && (host == metricsHost || Wide(host) || Wide(metricsHost)))
            throw new ArgumentException($"--listen '{options.Listen}' and --metrics-listen '{metrics}' both name port {port}{(host == metricsHost ? $" on {host}" : "")}: " +
                                        "the gRPC and the metrics endpoints need different addresses. Give --metrics-listen another port, e.g. 127.0.0.1:9464.");
    }

    /// <param name="flag">The option the address came from, for the error (--listen or --metrics-listen).</param>
    public static (string Host, int Port) ParseListen(string listen, string flag = "--listen")
    {
        var colon = listen.LastIndexOf(':');
        if (colon > 0 && int.TryParse(listen[(colon + 1)..], out var outside) && outside is < 0 or > 65535)
            throw new ArgumentException($"{flag} '{listen}': {outside} is not a port; a port is 1 to 65535, or 0 to pick a free one.");
        if (colon <= 0 || !int.TryParse(listen[(colon + 1)..], out var port))
            throw new ArgumentException($"{flag} '{listen}' is not HOST:PORT (e.g. 127.0.0.1:50051, 0.0.0.0:50051, [::1]:50051; port 0 picks a free one).");
        var host = listen[..colon].Trim('[', ']');
        if (host is not ("localhost" or "*") && !IPAddress.TryParse(host, out _))
            throw new ArgumentException($"{flag} host '{host}' is not an IP address; use e.g. 127.0.0.1, 0.0.0.0 (all interfaces) or localhost.");
        return (host, port);
    }
}
