namespace CharRnn.ModelServer.Hosting;

/// <summary>Configurable limits; a request beyond one gets RESOURCE_EXHAUSTED (or INVALID_ARGUMENT for sizes) naming it.</summary>
public sealed class ServerLimits
{
    public int MaxSessions { get; set; } = 1024;
    public int MaxCharsPerCall { get; set; } = 100_000;
    public int MaxPrimeChars { get; set; } = 20_000;
    public long MaxUploadBytes { get; set; } = 16 * 1024 * 1024;
    /// <summary>The most bytes one UploadCorpus text may have (`serve --max-corpus-mb`): stored corpora are loaded whole to train on.</summary>
    public long MaxCorpusBytes { get; set; } = 64L * 1024 * 1024;
    public int MaxQueuedJobs { get; set; } = 16;
    public int SessionIdleSeconds { get; set; } = 900;
    /// <summary>Sessions advanced together in one batched model step.</summary>
    public int MaxBatchSessions { get; set; } = 256;
    /// <summary>Ended jobs kept for GetJob/ListJobs/WatchJob, per key (the oldest of a key's go first).</summary>
    public int MaxEndedJobs { get; set; } = 100;
    /// <summary>Caps on hyperparameters (tighter than the engine's): no request may allocate an absurd model.</summary>
    public Dictionary<string, double> MaxHyperParameters { get; set; } = new()
    {
        ["n_hidden"] = 2048, ["n_fac"] = 512, ["layers"] = 4, ["bs"] = 1024, ["bptt"] = 512, ["context"] = 64,
    };
    public int MaxEpochs { get; set; } = 10_000;
    /// <summary>
    /// Training time one job gets in a run, in hours (`serve --max-job-hours`; 0: no limit, the default): a job without
    /// time_budget_seconds gets it as its budget, a larger budget is refused. Without it a job may hold the device for up to a year.
    /// </summary>
    public double MaxJobHours { get; set; }

    /// <summary><see cref="MaxJobHours"/> as a time; null for no limit.</summary>
    public TimeSpan? JobTimeCap => MaxJobHours > 0 ? TimeSpan.FromHours(MaxJobHours) : null;

    /// <summary>The largest request message of any call but Training's: the longest text (max_prime_chars, up to 4 UTF-8 bytes a char) and 1 MiB for the rest.</summary>
    public int MaxMessageBytes => (int)Math.Min(int.MaxValue, 4L * MaxPrimeChars + (1 << 20));
    /// <summary>The largest Training message: an upload of max_upload_bytes and 1 MiB for the rest.</summary>
    public int MaxTrainingMessageBytes => (int)Math.Min(int.MaxValue, Math.Min(MaxUploadBytes, int.MaxValue) + (1 << 20));

    /// <summary>
    /// The most memory one training job may need by <see cref="Engine.Training.TrainingFootprint"/>'s
    /// estimate; 0 (the default): half of the memory this process may use (the machine's, or its
    /// container's limit: <see cref="Engine.Runtime.MachineMemory"/>). Caps on each hyperparameter alone cannot stop their product.
    /// </summary>
    public long MaxJobMemoryBytes { get; set; }

    /// <summary>The job memory limit in force: <see cref="MaxJobMemoryBytes"/>, or half of what this process may use.</summary>
    public long JobMemoryLimit => MaxJobMemoryBytes > 0 ? MaxJobMemoryBytes : Engine.Runtime.MachineMemory.Bytes / 2;

    /// <summary>The most a job may ask for <paramref name="spec"/>: the engine's limit or this server's cap, whichever is lower.</summary>
    public double MaxOf(Engine.Models.HyperParameterSpec spec) =>
        MaxHyperParameters.TryGetValue(spec.Name, out var cap) ? Math.Min(spec.Max, spec.Type == Engine.Models.HyperParameterType.Int ? Math.Floor(cap) : cap) : spec.Max;

    /// <summary>A job's value when it names none: the architecture's default, lowered to a cap set below it.</summary>
    public double DefaultOf(Engine.Models.HyperParameterSpec spec) => Math.Min(spec.Default, MaxOf(spec));

    // Quotas per API key (all keys alike; admins are not exempt).
    public int MaxSessionsPerKey { get; set; } = 256;
    /// <summary>Running plus queued jobs one key may have.</summary>
    public int MaxJobsPerKey { get; set; } = 4;
    public long MaxCharsPerMinutePerKey { get; set; } = 2_000_000;
    /// <summary>Models one key may own (those its queued and running jobs are making included).</summary>
    public int MaxModelsPerKey { get; set; } = 100;
    /// <summary>Uploaded corpora one key may own (`serve --max-corpora-per-key`): with --max-corpus-mb, what one key may put on the disk.</summary>
    public int MaxCorporaPerKey { get; set; } = 20;

    /// <summary>
    /// ExportModel calls in progress at once, server-wide (`serve --max-exports`): each holds a CPU copy of a model's
    /// weights and a thread until its client has read the file; one beyond it gets RESOURCE_EXHAUSTED at once.
    /// </summary>
    public int MaxExports { get; set; } = 4;
    public const int MaxMaxExports = 64;
    /// <summary>
    /// ExportModel calls one API key may have in progress at once (`serve --max-exports-per-key`), so that one key shared
    /// by a team cannot take every one of the server's <see cref="MaxExports"/>.
    /// </summary>
    public int MaxExportsPerKey { get; set; } = 2;
    /// <summary>The per-key cap in force: <see cref="MaxExportsPerKey"/>, or <see cref="MaxExports"/> when that is lower (a server that lowered only the latter).</summary>
    public int ExportsPerKeyInForce => Math.Min(MaxExportsPerKey, MaxExports);

    /// <summary>
    /// The most bytes one ImportModel file may have (`serve --max-import-mb`): the file is read whole to check it, as
    /// `charrnn import` reads it. 1 GiB holds the largest model the default caps let a job train (a 4-layer LSTM of 2,048 hidden: ~540 MB of F32).
    /// </summary>
    public long MaxImportBytes { get; set; } = 1024L * 1024 * 1024;
    /// <summary>--max-import-mb's top: the file is read into one array, which holds under 2 GiB.</summary>
    public const int MaxImportMegabytes = 2000;
    /// <summary>
    /// ImportModel calls in progress at once, server-wide (`serve --max-imports`): while it checks the file each holds about
    /// twice its size in memory (up to <see cref="MaxImportBytes"/>); one beyond it gets RESOURCE_EXHAUSTED at once.
    /// </summary>
    public int MaxImports { get; set; } = 2;
    public const int MaxMaxImports = 64;
    /// <summary>
    /// ImportModel calls one API key may have in progress at once (`serve --max-imports-per-key`), so that one key (a team's
    /// shared one, a script) cannot take every one of the server's <see cref="MaxImports"/> and keep every other key's waiting.
    /// </summary>
    public int MaxImportsPerKey { get; set; } = 1;
    /// <summary>The per-key cap in force: <see cref="MaxImportsPerKey"/>, or <see cref="MaxImports"/> when that is lower.</summary>
    public int ImportsPerKeyInForce => Math.Min(MaxImportsPerKey, MaxImports);
}
