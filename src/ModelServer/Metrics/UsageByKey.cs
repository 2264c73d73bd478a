namespace CharRnn.ModelServer.Metrics;

/// <summary>
/// The series labelled by key, brought up to date at each scrape: every key name the server knows now has
/// its counters (at 0 before its first use, so rate() sees the first increment and a sum is 0 rather than
/// empty) and its charrnn_sessions_active, counted from the open sessions' owners. A name gone from the
/// keys file loses its sessions series; its counters stay until a restart.
/// </summary>
public static class UsageByKey
{
    /// <param name="owners">The owner of each open session.</param>
    /// <param name="keyNames">The keys file's names, or "local" without keys.</param>
    public static void Update(IEnumerable<string> owners, IEnumerable<string> keyNames)
    {
        var open = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in keyNames)
        {
            open[name] = 0;
            foreach (var counter in new[] { ServerMetrics.GeneratedCharacters, ServerMetrics.FedCharacters, ServerMetrics.TrainingSteps, ServerMetrics.TrainingDeviceSeconds })
                counter.WithLabels(name); // created at 0, or left as it is
        }
        foreach (var owner in owners) open[owner] = open.GetValueOrDefault(owner) + 1;
        foreach (var labels in ServerMetrics.ActiveSessions.GetAllLabelValues().ToList())
            if (!open.ContainsKey(labels[0])) ServerMetrics.ActiveSessions.RemoveLabelled(labels);
        foreach (var (name, count) in open) ServerMetrics.ActiveSessions.WithLabels(name).Set(count);
    }
}
