using Prometheus;

namespace CharRnn.ModelServer.Metrics;

/// <summary>The server's Prometheus metrics (served on /metrics at ServerOptions.MetricsListen).</summary>
public static class ServerMetrics
{
    /// <summary>
    /// Besides the server's own metrics, /metrics keeps the process's (process_*, dotnet_*) and the runtime's
    /// System.Runtime meter (system_runtime_*). prometheus-net would also export every other .NET meter, such as
    /// System.Net.Quic's 32 private_internaldiagnostics_* ones (this server speaks no QUIC), and its own
    /// prometheus_net_* diagnostics: a page of lines nobody alerts on.
    /// </summary>
    public static void ExportOnlyUseful()
    {
        Prometheus.Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressDebugMetrics = true, SuppressEventCounters = true });
        Prometheus.Metrics.ConfigureMeterAdapter(o => o.InstrumentFilterPredicate = instrument => instrument.Meter.Name == "System.Runtime");
    }

    /// <summary>
    /// The label naming the API key a usage series counts for: the key's name in the keys file (never the key or its hash),
    /// or "local" without keys (<see cref="Security.Caller.Local"/>). One series per name, so the keys file bounds them.
    /// </summary>
    public const string KeyLabel = "key";

    public static readonly Gauge BuildInfo = Prometheus.Metrics.CreateGauge("charrnn_build_info", "Always 1; its version label is the server's version, as charrnn --version prints it.",
        new GaugeConfiguration { LabelNames = ["version"] });
    public static readonly Gauge ActiveSessions = Prometheus.Metrics.CreateGauge("charrnn_sessions_active", "Open generation sessions, by the API key that opened them.",
        new GaugeConfiguration { LabelNames = [KeyLabel] });
    public static readonly Counter GeneratedCharacters = Prometheus.Metrics.CreateCounter("charrnn_generated_characters_total",
        "Characters generated for Generate and Interact calls, by the API key that owns the session (a call that ends at its deadline or is cancelled may not receive its last few).",
        new CounterConfiguration { LabelNames = [KeyLabel] });
    public static readonly Counter FedCharacters = Prometheus.Metrics.CreateCounter("charrnn_fed_characters_total",
        "Characters fed into sessions: primes (OpenSession, Generate), Feed's and Interact's text, by the API key that owns the session.",
        new CounterConfiguration { LabelNames = [KeyLabel] });
    public static readonly Histogram GenerationStepSeconds = Prometheus.Metrics.CreateHistogram("charrnn_generation_step_seconds",
        "Time of one batched generation step (all sessions of a model advanced by one char).",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16) });
    public static readonly Counter GenerationSteps = Prometheus.Metrics.CreateCounter("charrnn_generation_steps_total",
        "Batched generation steps, by the libtorch thread count they ran on (the device loop times each model and batch size on 1, 2, 4, ... threads and keeps the fastest).",
        new CounterConfiguration { LabelNames = ["threads"] });
    public static readonly Histogram GenerationBatchSize = Prometheus.Metrics.CreateHistogram("charrnn_generation_batch_size",
        "Sessions advanced together in one generation step.", new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 10) });
    public static readonly Gauge TrainingCharsPerSecond = Prometheus.Metrics.CreateGauge("charrnn_training_chars_per_second", "Training throughput of the running job.");
    public static readonly Counter TrainingStepPieces = Prometheus.Metrics.CreateCounter("charrnn_training_step_pieces_total",
        "Pieces of training steps split so that other device work runs between them: while anyone streams, and for steps over 250 ms even while nobody does (a call arriving then waits for a piece, not the whole step).");
    public static readonly Counter TrainingSteps = Prometheus.Metrics.CreateCounter("charrnn_training_steps_total",
        "Training steps completed (batches, whatever their pieces), by the API key that started the job.", new CounterConfiguration { LabelNames = [KeyLabel] });
    public static readonly Counter TrainingDeviceSeconds = Prometheus.Metrics.CreateCounter("charrnn_training_device_seconds_total",
        "Time the device spent training (steps and epoch ends), by the API key that started the job.", new CounterConfiguration { LabelNames = [KeyLabel] });
    public static readonly Histogram TrainingSliceSeconds = Prometheus.Metrics.CreateHistogram("charrnn_training_slice_seconds",
        "How long each training slice held the device while anyone streamed: every stream waits for it (see --training-slice-ms).",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.00025, 2, 12) });
    public static readonly Gauge JobsQueued = Prometheus.Metrics.CreateGauge("charrnn_jobs_queued", "Training jobs waiting for the device, by the API key that started them.",
        new GaugeConfiguration { LabelNames = [KeyLabel] });
    public static readonly Gauge JobsRunning = Prometheus.Metrics.CreateGauge("charrnn_jobs_running", "Training jobs running (0 or 1 in all), by the API key that started them.",
        new GaugeConfiguration { LabelNames = [KeyLabel] });
    public static readonly Counter Errors = Prometheus.Metrics.CreateCounter("charrnn_grpc_errors_total",
        "Calls that ended with an error, by gRPC status code and, for refusals the server makes knowing why, reason: " +
        "\"auth\" (API key), the quota's or message limit's name (RESOURCE_EXHAUSTED), \"malformed_message\" (INVALID_ARGUMENT: bytes that do not parse), \"deadline\" (DEADLINE_EXCEEDED), else empty; " +
        "and by the API key's name (empty before a key was accepted: a refusal of the key itself, a message refused before the key check).",
        new CounterConfiguration { LabelNames = ["code", "reason", KeyLabel] });

    /// <summary>
    /// Counts a failed call: its status code, its reason, and the name of the key that made it (the keys file's, or "local"),
    /// "" where no key was accepted, so the keys file bounds the series as it does the usage ones (<see cref="UsageByKey"/>).
    /// </summary>
    public static void CountError(Grpc.Core.StatusCode code, string reason, string? keyName) => Errors.WithLabels(code.ToString(), reason, keyName ?? "").Inc();

    /// <summary>The reason label of a refusal for its API key.</summary>
    public const string AuthReason = "auth";
    /// <summary>The reason label of a refusal of a request message that does not parse as the method's.</summary>
    public const string MalformedMessageReason = "malformed_message";
    /// <summary>The reason label of a call its client's deadline ended (DEADLINE_EXCEEDED).</summary>
    public const string DeadlineReason = "deadline";
    /// <summary>The reason label of a write the server's full (or failing) disk cut off (RESOURCE_EXHAUSTED, DISK_FULL).</summary>
    public const string DiskFullReason = "disk_full";
    public static readonly Gauge DeviceMemoryBytes = Prometheus.Metrics.CreateGauge("charrnn_device_memory_bytes",
        "Memory in use on the device (for the CPU device: the process's resident set).", new GaugeConfiguration { LabelNames = ["device"] });
}
