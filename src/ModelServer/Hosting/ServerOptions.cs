namespace CharRnn.ModelServer.Hosting;

/// <summary>How the server runs: where it listens and keeps its files, which device, which limits.</summary>
public sealed class ServerOptions
{
    /// <summary>HOST:PORT; port 0 picks a free one (the embedded server does).</summary>
    public string Listen { get; set; } = "127.0.0.1:50051";
    public string ModelsDirectory { get; set; } = "models";
    /// <summary>A folder of *.txt files offered as corpora by file name (optional).</summary>
    public string? CorporaDirectory { get; set; }
    /// <summary>Where known corpora (nietzsche) are cached; default: the user cache.</summary>
    public string? CorpusCacheDirectory { get; set; }
    public string Device { get; set; } = "auto";
    public int Threads { get; set; }
    /// <summary>
    /// What stateful-lstm models generate in (`serve --generation-precision`): float32, exact; or bf16, bfloat16
    /// products (faster where the CPU has AVX512_BF16, slightly less accurate). Other models generate in float32.
    /// Checked at start: bf16 where the device does not offer it stops the server with the reason.
    /// </summary>
    public Engine.Models.GenerationPrecision GenerationPrecision { get; set; } = Engine.Models.GenerationPrecision.Float32;
    /// <summary>TLS certificate: a PFX/PKCS#12 file, or a PEM file with <see cref="TlsKey"/>.</summary>
    public string? TlsCertificate { get; set; }
    public string? TlsKey { get; set; }
    public string? TlsPassword { get; set; }
    /// <summary>
    /// A file whose first line is <see cref="TlsPassword"/> (instead of it): a command line shows in the process list to
    /// every local user, a file readable by the server's user alone does not (systemd credentials, docker secrets).
    /// </summary>
    public string? TlsPasswordFile { get; set; }
    /// <summary>API keys file (see `charrnn keys`). Without keys the server only listens on loopback.</summary>
    public string? KeysFile { get; set; }
    /// <summary>
    /// Without <see cref="KeysFile"/>: a secret every call must send as its bearer key, so that only the client
    /// holding it (the TUI's embedded server's own, in the same process) is the local admin, not every local user
    /// who can reach the loopback port. Made at start and kept in memory only (see EmbeddedServer); null: none.
    /// </summary>
    public string? LocalToken { get; set; }
    /// <summary>HOST:PORT for Prometheus /metrics over HTTP/1.1 (null: no metrics endpoint).</summary>
    public string? MetricsListen { get; set; }
    /// <summary>A running job also checkpoints this often (besides epoch ends), so a crash loses little.</summary>
    public double CheckpointMinutes { get; set; } = 5;
    /// <summary>The fraction of the device a training job gets while anyone streams (0.05–0.95); alone it gets all of it.</summary>
    public double TrainingShare { get; set; } = 0.5;
    /// <summary>
    /// How long training holds the device at a time while anyone streams: the longest wait it adds
    /// between a stream's chars. A step longer than this is trained in pieces, which costs some
    /// throughput. Measured here: 2 ms gives one stream a p99 gap of 4.7–7.9 ms against 8.1–11.8 ms
    /// at 5 ms, for a somewhat smaller training share; 1 ms costs the job more for no better p99
    /// (bench/README.md, `pieces` and `server` sections).
    /// </summary>
    public double TrainingSliceMilliseconds { get; set; } = 2;
    public const double MinTrainingSliceMilliseconds = 0.5, MaxTrainingSliceMilliseconds = 100;
    public ServerLimits Limits { get; set; } = new();
}
