using System.CommandLine;
using CharRnn.Engine.Training;
using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Hosting;
using Microsoft.Extensions.Hosting;

namespace CharRnn.Tui.Cli;

/// <summary>charrnn serve: the gRPC model server (HTTP/2 without TLS on 127.0.0.1:50051 by default).</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var defaults = new ServerOptions();
        var listen = new Option<string>("--listen") { Description = "HOST:PORT to listen on (0.0.0.0 for all interfaces; port 0 picks a free one).", DefaultValueFactory = _ => defaults.Listen };
        var models = CommonOptions.ModelsDir();
        var corpora = CommonOptions.CorporaDir("Folder of *.txt files offered as corpora by name.");
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var tlsCert = new Option<string?>("--tls-cert") { Description = "TLS certificate: a .pfx file, or a PEM file with --tls-key." };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key for --tls-cert." };
        var tlsPassword = new Option<string?>("--tls-password") { Description = "Password of a .pfx certificate, or passphrase of an encrypted PEM key (ENCRYPTED PRIVATE KEY); it shows in the process list to local users: prefer --tls-password-file." };
        var tlsPasswordFile = new Option<string?>("--tls-password-file") { Description = "File whose first line is --tls-password (e.g. a systemd credential or docker secret), kept out of the process list." };
        var maxSessions = new Option<int>("--max-sessions") { Description = "Open sessions the server holds at most.", DefaultValueFactory = _ => defaults.Limits.MaxSessions }.Allowing(1, int.MaxValue);
        var idle = new Option<int>("--session-idle-seconds") { Description = "Close sessions idle this long.", DefaultValueFactory = _ => defaults.Limits.SessionIdleSeconds }.Allowing(1, int.MaxValue);
        var maxChars = new Option<int>("--max-chars-per-call") { Description = "Characters one Generate call may ask for.", DefaultValueFactory = _ => defaults.Limits.MaxCharsPerCall }.Allowing(1, int.MaxValue);
        var maxUpload = new Option<long>("--max-upload-bytes") { Description = "Largest corpus_text a job may upload.", DefaultValueFactory = _ => defaults.Limits.MaxUploadBytes }.Allowing(1, MaxUploadBytes, $"{NumberOptions.Range(1, MaxUploadBytes)} (a gRPC message holds under 2 GiB)");
        var maxCorpus = new Option<long>("--max-corpus-mb") { Description = "Largest text one UploadCorpus (the REPL's upload) may store as a named corpus, in MB.", DefaultValueFactory = _ => defaults.Limits.MaxCorpusBytes >> 20 }.Allowing(1, MaxCorpusMegabytes, $"{NumberOptions.Range(1, MaxCorpusMegabytes)} (a corpus is loaded whole, as one string under 2 GiB)");
        var maxPrime = new Option<int>("--max-prime-chars") { Description = "Characters one call may feed (prime, Feed text, Interact text); longer text goes in pieces.", DefaultValueFactory = _ => defaults.Limits.MaxPrimeChars }.Allowing(1, int.MaxValue);
        var maxHyper = new Option<string[]>("--max-hyperparameter")
        {
            Description = $"Raise or lower a cap on what jobs may ask for and imports may bring, as NAME=VALUE; repeatable. Defaults: {string.Join(", ", defaults.Limits.MaxHyperParameters.Select(kv => $"{kv.Key}={kv.Value}"))}.",
            AllowMultipleArgumentsPerToken = true,
        };
        var maxEpochs = new Option<int>("--max-epochs") { Description = $"Epochs a job may ask for at most (1–{TrainingOptions.MaxEpochs}).", DefaultValueFactory = _ => defaults.Limits.MaxEpochs }.Allowing(1, TrainingOptions.MaxEpochs);
        var maxJobHours = new Option<double>("--max-job-hours") { Description = "Training time one job gets in a run, in hours; a job without a time budget gets it as its budget, a larger budget is refused (0: no limit).", DefaultValueFactory = _ => defaults.Limits.MaxJobHours }.Allowing(0, TrainingOptions.MaxTimeBudgetDays * 24, $"0 (no limit) to {TrainingOptions.MaxTimeBudgetDays * 24} hours");
        var maxQueued = new Option<int>("--max-queued-jobs") { Description = "Jobs that may wait in the queue.", DefaultValueFactory = _ => defaults.Limits.MaxQueuedJobs }.Allowing(1, int.MaxValue);
        var keys = new Option<string?>("--keys") { Description = "API keys file (charrnn keys add NAME): clients must send one. Without keys the server only listens on loopback, and every client is the one key 'local': each --max-…-per-key quota is then the whole server's (--max-imports-per-key 1: one import at a time)." };
        var metrics = new Option<string?>("--metrics-listen") { Description = "HOST:PORT for Prometheus /metrics over HTTP/1.1, e.g. 127.0.0.1:9464." };
        var checkpointMinutes = new Option<double>("--checkpoint-minutes") { Description = "A running job also checkpoints this often, so a crash loses little.", DefaultValueFactory = _ => defaults.CheckpointMinutes }.Allowing(MinCheckpointMinutes, MaxCheckpointMinutes);
        var trainingShare = new Option<double>("--training-share") { Description = $"The fraction of the device a training job gets while anyone streams ({DeviceShare.MinShare}–{DeviceShare.MaxShare}); alone it gets all of it.", DefaultValueFactory = _ => defaults.TrainingShare }.Allowing(DeviceShare.MinShare, DeviceShare.MaxShare);
        var trainingSlice = new Option<double>("--training-slice-ms") { Description = $"How long training holds the device at a time while anyone streams: the longest pause it adds between a stream's chars ({ServerOptions.MinTrainingSliceMilliseconds}–{ServerOptions.MaxTrainingSliceMilliseconds}); shorter cuts steps into more pieces, at some cost in training speed.", DefaultValueFactory = _ => defaults.TrainingSliceMilliseconds }.Allowing(ServerOptions.MinTrainingSliceMilliseconds, ServerOptions.MaxTrainingSliceMilliseconds);
        var sessionsPerKey = new Option<int>("--max-sessions-per-key") { Description = "Open sessions per API key.", DefaultValueFactory = _ => defaults.Limits.MaxSessionsPerKey }.Allowing(1, int.MaxValue);
        var jobsPerKey = new Option<int>("--max-jobs-per-key") { Description = "Running plus queued jobs per API key.", DefaultValueFactory = _ => defaults.Limits.MaxJobsPerKey }.Allowing(1, int.MaxValue);
        var charsPerKey = new Option<long>("--max-chars-per-minute-per-key") { Description = "Characters generated or fed (primes, Feed and Interact text) per minute per API key.", DefaultValueFactory = _ => defaults.Limits.MaxCharsPerMinutePerKey }.Allowing(1, long.MaxValue);
        var modelsPerKey = new Option<int>("--max-models-per-key") { Description = "Models one API key may own, those its jobs are making included.", DefaultValueFactory = _ => defaults.Limits.MaxModelsPerKey }.Allowing(1, int.MaxValue);
        var corporaPerKey = new Option<int>("--max-corpora-per-key") { Description = "Uploaded corpora one API key may own (each up to --max-corpus-mb).", DefaultValueFactory = _ => defaults.Limits.MaxCorporaPerKey }.Allowing(1, int.MaxValue);
        var maxExports = new Option<int>("--max-exports") { Description = $"Model downloads (ExportModel, the REPL's export) in progress at once, server-wide (1–{ServerLimits.MaxMaxExports}): each holds a copy of the model's weights and a thread until the server has sent the file's last piece (a client that stops reading holds it while more than some 128 KiB is left to send); one beyond it is refused, to retry later.", DefaultValueFactory = _ => defaults.Limits.MaxExports }.Allowing(1, ServerLimits.MaxMaxExports);
        var exportsPerKey = new Option<int>("--max-exports-per-key") { Description = $"Model downloads one API key may have in progress at once (1–{ServerLimits.MaxMaxExports}, not above --max-exports), so one key a team shares cannot take every download place; one beyond it is refused, to retry later.", DefaultValueFactory = _ => defaults.Limits.MaxExportsPerKey }.Allowing(1, ServerLimits.MaxMaxExports);
        var maxImport = new Option<long>("--max-import-mb") { Description = $"Largest safetensors file one ImportModel (the REPL's import) may send to become a model, in MB (1–{ServerLimits.MaxImportMegabytes}); the file is read whole to check it.", DefaultValueFactory = _ => defaults.Limits.MaxImportBytes >> 20 }.Allowing(1, ServerLimits.MaxImportMegabytes);
        var maxImports = new Option<int>("--max-imports") { Description = $"Model imports (ImportModel, the REPL's import) in progress at once, server-wide (1–{ServerLimits.MaxMaxImports}): while it checks the file each holds a few times its size in memory; one beyond it is refused, to retry later.", DefaultValueFactory = _ => defaults.Limits.MaxImports }.Allowing(1, ServerLimits.MaxMaxImports);
        var importsPerKey = new Option<int>("--max-imports-per-key") { Description = $"Model imports one API key may have in progress at once (1–{ServerLimits.MaxMaxImports}, not above --max-imports), so one key cannot take every import place; one beyond it is refused, to retry later.", DefaultValueFactory = _ => defaults.Limits.MaxImportsPerKey }.Allowing(1, ServerLimits.MaxMaxImports);
        var precision = CommonOptions.GenerationPrecision();
        var jobMemory = new Option<long>("--max-job-memory-mb") { Description = "The most memory one training job may need, by the server's estimate from its sizes (MB); 0: half of this machine's (or container's) memory.", DefaultValueFactory = _ => 0 }.Allowing(0, MaxJobMemoryMegabytes, $"0 (half of this machine's memory) or a size in MB up to {MaxJobMemoryMegabytes}");
        var command = new Command("serve", "Run the gRPC model server (health, reflection; Ctrl+C, SIGTERM or SIGHUP stops it after checkpointing).")
        {
            listen, models, corpora, device, threads, tlsCert, tlsKey, tlsPassword, tlsPasswordFile, maxSessions, idle, maxChars, maxPrime, maxUpload, maxCorpus, maxQueued, maxEpochs, maxJobHours, maxHyper,
            keys, metrics, checkpointMinutes, trainingShare, trainingSlice, sessionsPerKey, jobsPerKey, charsPerKey, modelsPerKey, corporaPerKey, maxExports, exportsPerKey, maxImport, maxImports, importsPerKey, jobMemory, precision,
        };
        command.SetAction(parse =>
        {
            var options = new ServerOptions
            {
                Listen = parse.GetValue(listen)!,
                ModelsDirectory = parse.GetValue(models)!,
                CorporaDirectory = parse.GetValue(corpora),
                Device = parse.GetValue(device)!,
                Threads = parse.GetValue(threads),
                GenerationPrecision = Engine.Models.GenerationPrecisions.Parse(parse.GetValue(precision)!, "--generation-precision"),
                TlsCertificate = parse.GetValue(tlsCert),
                TlsKey = parse.GetValue(tlsKey),
                TlsPassword = parse.GetValue(tlsPassword),
                TlsPasswordFile = parse.GetValue(tlsPasswordFile),
                KeysFile = parse.GetValue(keys),
                MetricsListen = parse.GetValue(metrics),
                CheckpointMinutes = parse.GetValue(checkpointMinutes),
                TrainingShare = parse.GetValue(trainingShare),
                TrainingSliceMilliseconds = parse.GetValue(trainingSlice),
            };
            if (options.TlsCertificate == null && (options.TlsKey != null || options.TlsPassword != null || options.TlsPasswordFile != null))
                throw new ArgumentException($"{(options.TlsKey != null ? "--tls-key" : options.TlsPassword != null ? "--tls-password" : "--tls-password-file")} goes with --tls-cert (the certificate to serve); without it the server would serve plain HTTP/2.");
            if (options.TlsPassword != null && options.TlsPasswordFile != null)
                throw new ArgumentException("--tls-password and --tls-password-file both give the passphrase; give one (--tls-password-file keeps it out of the process list).");
            if (options.KeysFile != null && Directory.Exists(options.KeysFile))
                throw new ArgumentException($"--keys '{options.KeysFile}' is a folder; give the keys file that charrnn keys add wrote.");
            if (options.KeysFile != null && !File.Exists(options.KeysFile))
                throw new ArgumentException($"--keys {options.KeysFile} does not exist; create it with charrnn keys add NAME --keys {options.KeysFile}.");
            options.Limits.MaxSessions = parse.GetValue(maxSessions);
            options.Limits.SessionIdleSeconds = parse.GetValue(idle);
            options.Limits.MaxCharsPerCall = parse.GetValue(maxChars);
            options.Limits.MaxPrimeChars = parse.GetValue(maxPrime);
            foreach (var cap in parse.GetValue(maxHyper) ?? [])
            {
                var (name, value) = HyperParameterCap(cap, options.Limits.MaxHyperParameters.Keys);
                options.Limits.MaxHyperParameters[name] = value;
            }
            options.Limits.MaxUploadBytes = parse.GetValue(maxUpload);
            options.Limits.MaxCorpusBytes = parse.GetValue(maxCorpus) << 20;
            options.Limits.MaxQueuedJobs = parse.GetValue(maxQueued);
            options.Limits.MaxEpochs = parse.GetValue(maxEpochs);
            options.Limits.MaxJobHours = parse.GetValue(maxJobHours);
            options.Limits.MaxSessionsPerKey = parse.GetValue(sessionsPerKey);
            options.Limits.MaxJobsPerKey = parse.GetValue(jobsPerKey);
            options.Limits.MaxCharsPerMinutePerKey = parse.GetValue(charsPerKey);
            options.Limits.MaxModelsPerKey = parse.GetValue(modelsPerKey);
            options.Limits.MaxCorporaPerKey = parse.GetValue(corporaPerKey);
            options.Limits.MaxExports = parse.GetValue(maxExports);
            options.Limits.MaxExportsPerKey = parse.GetValue(exportsPerKey);
            // Only when given: the default follows a lower --max-exports down (ExportsPerKeyInForce) rather than refuse a server that set only that.
            if (parse.GetResult(exportsPerKey) is { Implicit: false } && options.Limits.MaxExportsPerKey > options.Limits.MaxExports)
                throw new ArgumentException($"--max-exports-per-key {options.Limits.MaxExportsPerKey} is more than --max-exports {options.Limits.MaxExports}: " +
                                            "a key could never have that many downloads at once. Lower the first or raise the second.");
            options.Limits.MaxImportBytes = parse.GetValue(maxImport) << 20;
            options.Limits.MaxImports = parse.GetValue(maxImports);
            options.Limits.MaxImportsPerKey = parse.GetValue(importsPerKey);
            // Only when given, as --max-exports-per-key: the default follows a lower --max-imports down (ImportsPerKeyInForce).
            if (parse.GetResult(importsPerKey) is { Implicit: false } && options.Limits.MaxImportsPerKey > options.Limits.MaxImports)
                throw new ArgumentException($"--max-imports-per-key {options.Limits.MaxImportsPerKey} is more than --max-imports {options.Limits.MaxImports}: " +
                                            "a key could never have that many imports at once. Lower the first or raise the second.");
            options.Limits.MaxJobMemoryBytes = parse.GetValue(jobMemory) << 20;
            if (options.Limits.MaxCharsPerCall > options.Limits.MaxCharsPerMinutePerKey)
                throw new ArgumentException($"--max-chars-per-call {options.Limits.MaxCharsPerCall} is more than --max-chars-per-minute-per-key {options.Limits.MaxCharsPerMinutePerKey}: " +
                                            "a call asking for that many could never start. Lower the first or raise the second.");
            ServerHost.ParseListen(options.Listen);
            // Checked here, each naming its flag, not first met inside the started server.
            if (options.MetricsListen is { } metricsListen && ServerHost.ParseListen(metricsListen, "--metrics-listen").Port == 0)
                throw new ArgumentException($"--metrics-listen '{metricsListen}' needs a port of its own (0 would pick one nobody is told); e.g. 127.0.0.1:9464.");
            ServerHost.CheckMetricsListenDiffers(options);
            if (File.Exists(options.ModelsDirectory))
                throw new ArgumentException($"--models '{options.ModelsDirectory}' is a file; give a folder (it is made if missing).");
            // A missing folder is made (a first run, a new server), but not a path whose parent is missing too: likely a typo
            // that would otherwise serve an empty folder of models.
            if (!Directory.Exists(options.ModelsDirectory) && Path.GetDirectoryName(Path.GetFullPath(options.ModelsDirectory)) is { } parent && !Directory.Exists(parent))
                throw new ArgumentException($"--models '{options.ModelsDirectory}' does not exist, nor does the folder {parent} it would be made in; " +
                                            "give an existing folder, or a new one inside an existing folder (that one is made).");
            var app = ServerHost.Build([], options);
            Uri address;
            try
            {
                address = ServerHost.StartAsync(app).GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                // Stopped and disposed before the error is reported, neither step able to hide why the start failed.
                ServerHost.LetGoRefused(app).GetAwaiter().GetResult();
                // The input's fault, not a bug: Kestrel's bind failure (a port in use), or a models folder that cannot be written.
                if (e is IOException && e.Message.StartsWith("Failed to bind", StringComparison.Ordinal))
                    throw new ArgumentException(BindFailure(e.Message, options), e);
                if (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressNotAvailable })
                    throw new ArgumentException(AddressNotAvailable(e.Message, options), e);
                if (e is IOException or UnauthorizedAccessException)
                    throw new ArgumentException($"The server could not start: {e.Message.TrimEnd('.')} (--models {options.ModelsDirectory}).", e);
                throw;
            }
            using var started = app;
            Console.WriteLine($"charrnn server listening on {Bound(options.Listen, address)} (gRPC, {(options.TlsCertificate == null ? "HTTP/2 without TLS" : "TLS")}); " +
                              $"version {ModelServer.Services.CatalogService.Version}; models in {Path.GetFullPath(options.ModelsDirectory)}" +
                              $"{(options.MetricsListen != null ? $"; metrics on http://{options.MetricsListen}/metrics" : "")}. Ctrl+C, SIGTERM or SIGHUP stops it (the running job checkpoints).");
            app.WaitForShutdownAsync().GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The address bound, as --listen named its host: <paramref name="connect"/> is where a client on this machine connects
    /// (127.0.0.1 for all interfaces), which read as if the server listened on loopback only.
    /// </summary>
    private static string Bound(string listen, Uri connect)
    {
        var (host, _) = ServerHost.ParseListen(listen);
        return host switch
        {
            "0.0.0.0" or "*" => $"{connect.Scheme}://0.0.0.0:{connect.Port}/, all interfaces",
            "::" => $"{connect.Scheme}://[::]:{connect.Port}/, all interfaces",
            _ => connect.ToString(),
        };
    }

    /// <summary>
    /// Kestrel's "Failed to bind to address URL: address already in use." as the flag and value that named the busy address,
    /// which the URL alone leaves to guess with --metrics-listen given too.
    /// </summary>
    private static string BindFailure(string message, ServerOptions options)
    {
        var port = System.Text.RegularExpressions.Regex.Match(message, @"address \S*?:(\d+)(?::|\s|$)") is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
        var (flag, value) = options.MetricsListen is { } metrics && ServerHost.ParseListen(metrics, "--metrics-listen").Port == port
            ? ("--metrics-listen", metrics) : ("--listen", options.Listen);
        return message.Contains("already in use", StringComparison.Ordinal)
            ? $"{value} is in use by another process; choose another {flag}, or stop that process ({message.TrimEnd('.')})."
            : $"{message.TrimEnd('.')} ({flag} {value}); choose another {flag}.";
    }

    /// <summary>
    /// A host address this machine does not have ("Cannot assign requested address", which names neither the address nor
    /// the flag): the flag and value that named it, and what may be given instead.
    /// </summary>
    private static string AddressNotAvailable(string message, ServerOptions options)
    {
        var own = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address).ToHashSet();
        bool NotOwn(string listen) =>
            System.Net.IPAddress.TryParse(ServerHost.ParseListen(listen).Host.Trim('[', ']'), out var ip) && !System.Net.IPAddress.IsLoopback(ip) &&
            !ip.Equals(System.Net.IPAddress.Any) && !ip.Equals(System.Net.IPAddress.IPv6Any) && !own.Contains(ip);
        var (flag, value) = options.MetricsListen is { } metrics && NotOwn(metrics) && !NotOwn(options.Listen)
            ? ("--metrics-listen", metrics) : ("--listen", options.Listen);
        return $"{flag} {value}: this machine has no such address to listen on ({message.TrimEnd('.')}); give one of its own addresses, " +
               $"0.0.0.0 for all of them, or 127.0.0.1 for this machine only.";
    }

    private static (string Name, double Value) HyperParameterCap(string text, IEnumerable<string> names)
    {
        var parts = text.Split('=', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2)
            throw new ArgumentException($"--max-hyperparameter '{text}' is not NAME=VALUE (e.g. n_hidden=4096).");
        if (!double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
            throw new ArgumentException($"--max-hyperparameter '{text}': '{parts[1]}' is not a number; give the cap in digits (e.g. n_hidden=4096).");
        if (!names.Contains(parts[0]))
            throw new ArgumentException($"--max-hyperparameter: '{parts[0]}' has no cap; the capped hyperparameters are {string.Join(", ", names)}.");
        return (parts[0], Positive(value, $"--max-hyperparameter {parts[0]}"));
    }

    /// <summary>An upload arrives in one gRPC message, which holds under 2 GiB.</summary>
    private const long MaxUploadBytes = 2_000_000_000;
    /// <summary>A corpus is read whole into one byte array and decoded into one string: both stay under .NET's 2 GiB.</summary>
    private const long MaxCorpusMegabytes = 1000;
    /// <summary>A size whose bytes a long still holds.</summary>
    private const long MaxJobMemoryMegabytes = long.MaxValue >> 20;
    /// <summary>At most a year between checkpoints.</summary>
    private const double MinCheckpointMinutes = 0.01, MaxCheckpointMinutes = 525_600;

    private static T Positive<T>(T value, string flag) where T : System.Numerics.INumber<T> =>
        value > T.Zero ? value : throw new ArgumentException($"{flag} {value} is not allowed; it must be positive.");
}
