namespace CharRnn.ModelServer.Security;

/// <summary>
/// Logs calls refused by a quota (RESOURCE_EXHAUSTED): once per key and quota a minute, so a client
/// retrying in a loop cannot flood the log with warnings, while an operator still sees which key hit which limit.
/// (Each failed call's own Information line, with its request id, is not throttled: every id must be findable.)
/// Keys come from the keys file and quotas from <see cref="Errors.QuotaLimits"/>: what is remembered stays small.
/// </summary>
public sealed class QuotaRefusalLog(TimeProvider time, ILogger<QuotaRefusalLog> logger)
{
    private readonly OncePerMinute<(string Key, string Quota)> _due = new(time);

    public void Refused(string key, string quota, string method, string detail)
    {
        if (!_due.Due((key, quota))) return;
        if (Errors.QuotaHolder.IsKeyless(key))
            logger.LogWarning("Refused {Method} for this keyless server's callers: quota {Quota} reached: {Detail} (more refusals for this quota within a minute are not logged)",
                method, quota, detail);
        else
            logger.LogWarning("Refused {Method} for key {Key}: quota {Quota} reached: {Detail} (more refusals of this key for this quota within a minute are not logged)",
                method, key, quota, detail);
    }
}
