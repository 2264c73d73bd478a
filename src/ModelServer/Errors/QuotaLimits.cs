using System.Text.RegularExpressions;

namespace CharRnn.ModelServer.Errors;

/// <summary>
/// The quotas a RESOURCE_EXHAUSTED refusal names in its message ("… (limit max_jobs_per_key = 1) …").
/// A fixed set: the name labels charrnn_grpc_errors_total and keys the quota refusal log, so nothing a
/// caller sends can add values to either.
/// </summary>
public static partial class QuotaLimits
{
    public static readonly IReadOnlyList<string> All =
        ["max_sessions", "max_sessions_per_key", "max_jobs_per_key", "max_queued_jobs", "max_models_per_key", "max_chars_per_minute_per_key"];

    /// <summary>The quota a refusal's message names, or null when it names none of <see cref="All"/>.</summary>
    public static string? In(string message) =>
        LimitNamed().Match(message) is { Success: true } m && All.Contains(m.Groups[1].Value) ? m.Groups[1].Value : null;

    [GeneratedRegex(@"\blimit (max_[a-z_]+)")]
    private static partial Regex LimitNamed();
}
