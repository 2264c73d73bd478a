namespace CharRnn.ModelServer.Errors;

/// <summary>
/// The quotas a RESOURCE_EXHAUSTED refusal names (<see cref="ServerException.Exhausted"/> takes one of these constants).
/// A fixed set: the name labels charrnn_grpc_errors_total and keys the quota refusal log, so nothing a
/// caller sends can add values to either.
/// </summary>
public static class QuotaLimits
{
    public const string MaxSessions = "max_sessions", MaxSessionsPerKey = "max_sessions_per_key", MaxJobsPerKey = "max_jobs_per_key",
        MaxQueuedJobs = "max_queued_jobs", MaxModelsPerKey = "max_models_per_key", MaxCharsPerMinutePerKey = "max_chars_per_minute_per_key",
        MaxCorporaPerKey = "max_corpora_per_key", MaxExports = "max_exports", MaxExportsPerKey = "max_exports_per_key",
        MaxImports = "max_imports", MaxImportsPerKey = "max_imports_per_key";

    public static readonly IReadOnlyList<string> All = [MaxSessions, MaxSessionsPerKey, MaxJobsPerKey, MaxQueuedJobs, MaxModelsPerKey, MaxCharsPerMinutePerKey, MaxCorporaPerKey, MaxExports, MaxExportsPerKey,
        MaxImports, MaxImportsPerKey];
}
