using Prometheus;

namespace CharRnn.ModelServer.Metrics;

/// <summary>
/// The series labelled by key, brought up to date at each scrape: every key name the server knows now has
/// its counters (at 0 before its first use, so rate() sees the first increment and a sum is 0 rather than
/// empty), its charrnn_sessions_active, counted from the open sessions' owners, and its charrnn_jobs_queued and
/// charrnn_jobs_running, counted from the jobs' owners. A name gone from the keys file loses its gauges' series
/// (once nothing of it is open); its counters stay until a restart.
/// </summary>
public static class UsageByKey
{
    /// <param name="sessionOwners">The owner of each open session.</param>
    /// <param name="queuedOwners">The owner of each queued job.</param>
    /// <param name="runningOwners">The owner of the running job, if any.</param>
    /// <param name="keyNames">The keys file's names, or "local" without keys.</param>
    public static void Update(IEnumerable<string> sessionOwners, IEnumerable<string> queuedOwners, IEnumerable<string> runningOwners, IEnumerable<string> keyNames)
    {
        var names = keyNames.ToList();
        foreach (var name in names)
            foreach (var counter in new[] { ServerMetrics.GeneratedCharacters, ServerMetrics.FedCharacters, ServerMetrics.TrainingSteps, ServerMetrics.TrainingDeviceSeconds })
                counter.WithLabels(name); // created at 0, or left as it is
        Count(ServerMetrics.ActiveSessions, sessionOwners, names);
        Count(ServerMetrics.JobsQueued, queuedOwners, names);
        Count(ServerMetrics.JobsRunning, runningOwners, names);
    }

    /// <summary>Sets <paramref name="gauge"/> to each name's count of <paramref name="owners"/> (0 for a name without any), and drops the series of other names.</summary>
    private static void Count(Gauge gauge, IEnumerable<string> owners, IEnumerable<string> names)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in names) counts[name] = 0;
        foreach (var owner in owners) counts[owner] = counts.GetValueOrDefault(owner) + 1;
        foreach (var labels in gauge.GetAllLabelValues().ToList())
            if (!counts.ContainsKey(labels[0])) gauge.RemoveLabelled(labels);
        foreach (var (name, count) in counts) gauge.WithLabels(name).Set(count);
    }
}
